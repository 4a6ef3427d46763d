/**
 * A proof checked against what a verified certificate commits (docs/row-proofs.md §9): the verdict's `rows`
 * and `certificate_id`, nothing else. Shared by `ephemera verify-rows`, `ephemera prove` and the web page, so
 * the three refuse the same things with the same codes. Structural types: rows does not import the verifier.
 */
import { EphemeraError } from '../errors.js';
import type { Registered } from '../error-codes.js';
import type { RowsAbsentReason } from '../events/index.js';
import type { RowCommitment } from './commitment.js';
import { checkRowProof, type RowProof } from './proof.js';

/** The verdict's `rows` (src/verify/verdict.ts RowsVerdict): a commitment, why there is none, or null (none said). */
export type CertificateRows = ({ committed: true; sorted_by: string | null } & RowCommitment) | { committed: false; reason: RowsAbsentReason } | null;

/** The commitment a proof is checked against: the certificate's id, format, count, root and order. */
export type CertificateCommitment = RowCommitment & { certificate_id: string; sorted_by: string | null };

/** What a valid proof shows: each disclosed record with its index, in the proof's order, and each key proven absent. */
export interface ProvenRows {
  rows: { index: number; record: Uint8Array }[];
  absent: string[];
}

const ABSENT: Record<RowsAbsentReason, string> = {
  csv_quoting: 'its CSV could not be split into records (malformed quoting)',
  json_invalid: 'its JSON could not be split into records (not one array, nor one value per line)',
  not_utf8: 'its dataset is not UTF-8',
  empty: 'its dataset is empty',
  too_many_records: 'its dataset has more records than a commitment holds',
  sort_key_invalid: 'its records could not be sorted by the key the request named',
  not_requested: 'the request asked for no row commitment ("rows": "none")',
};

/** The certificate's row commitment, or ROWS_NOT_COMMITTED saying why there is none. */
export function commitmentOf(certificateId: string, rows: CertificateRows): CertificateCommitment {
  if (rows === null)
    fail('ROWS_NOT_COMMITTED', `certificate ${certificateId} commits no rows: its executor did not commit them (an executor from before row commitments)`);
  if (!rows.committed) fail('ROWS_NOT_COMMITTED', `certificate ${certificateId} commits no rows (${rows.reason}): ${ABSENT[rows.reason]}`);
  return { certificate_id: certificateId, format: rows.format, count: rows.count, root: rows.root, sorted_by: rows.sorted_by };
}

/** Checks a parsed proof against a verified certificate's commitment; the records it proves, or the code of the first problem. */
export function checkProofForCertificate(proof: RowProof, certificateId: string, rows: CertificateRows): ProvenRows {
  const commitment = commitmentOf(certificateId, rows);
  return checkRowProof(proof, commitment);
}

function fail(code: Registered<'ROWS_NOT_COMMITTED'>, message: string): never {
  throw new EphemeraError(code, message);
}
