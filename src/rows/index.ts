/**
 * Row commitments (docs/row-proofs.md), isomorphic: a dataset's records,
 * their salted RFC 6962 tree, and disclosure proofs checked against the
 * commitment alone. The executor's event member and the CLI come next.
 */
export { ROW_FORMATS, MAX_RECORDS, splitRecords, type RowFormat, type RowsErrorCode, type UnsplittableReason } from './records.js';
export {
  SECRET_BYTES,
  MAX_PROOF_ROWS,
  rowSaltKey,
  rowSalt,
  rowLeaf,
  commitRecords,
  proveRecords,
  parseRowProof,
  checkRowProof,
  type RowCommitment,
  type RowProof,
  type RowProofErrorCode,
} from './commitment.js';
export { RowCommitter, type RowCommitResult } from './stream.js';
