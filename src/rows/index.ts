/**
 * Row commitments (docs/row-proofs.md), isomorphic: a dataset's records,
 * their salted RFC 6962 tree (in input order or sorted by a key), and
 * disclosure and absence proofs checked against the commitment alone.
 */
export { ROW_FORMATS, MAX_RECORDS, splitRecords, type RowFormat, type RowsErrorCode, type UnsplittableReason } from './records.js';
export {
  SECRET_BYTES,
  MAX_PROOF_ROWS,
  rowSaltKey,
  rowSalt,
  rowLeaf,
  commitRecords,
  type RowCommitment,
  type RowProofErrorCode,
} from './commitment.js';
export { commitSorted, sortKeyFits, MAX_SORTED_RECORDS, SORTED_BYTES_PER_RECORD, type SortableFormat } from './sorted.js';
export {
  MAX_ABSENT_KEYS,
  MAX_PROOF_BYTES,
  proveRecords,
  proveAbsence,
  parseRowProof,
  checkRowProof,
  type RowProof,
  type ProvenRow,
  type AbsentKey,
  type ProveInput,
} from './proof.js';
export { commitmentOf, checkProofForCertificate, type CertificateRows, type CertificateCommitment, type ProvenRows } from './certificate-rows.js';
export { recordText } from './display.js';
export { RowCommitter, type RowCommitResult } from './stream.js';
