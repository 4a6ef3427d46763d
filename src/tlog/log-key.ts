/**
 * The log key's statement: binds the Ed25519 key that signs checkpoints to the
 * executor's attestation (docs/transparency.md §9). Its hash goes into report
 * data under its own tag, so it can stand for neither a certificate nor a
 * sealing key. Isomorphic.
 */
import {
  canonicalize,
  concatBytes,
  hashBytes,
  hashToBytes,
  sha256Bytes,
  utf8ToBytes,
  type Attestation,
  type Hash,
  type SandboxCreated,
} from '../events/index.js';

export const LOG_KEY_STATEMENT_TAG = 'ephemera/v1/log-key-statement\n';
export const LOG_KEY_DOCUMENT_PATH = '/.well-known/ephemera-log-key.json';

export interface LogKeyStatement {
  type: 'ephemera.log-key-statement';
  v: 1;
  /** The log's origin: the checkpoint's first line and the key's name. */
  origin: string;
  /** The note verifier key (`origin+keyid+base64(0x01 ‖ key)`). */
  vkey: string;
  /** The attested environment that holds the key (sandbox.created's runtime.tee). */
  tee: SandboxCreated['runtime']['tee'];
  issued_at: string;
}

export interface LogKeyDocument {
  statement: LogKeyStatement;
  statement_hash: Hash;
  report_data: string;
  attestation: Attestation;
}

/** `sha256:` + hex(SHA-256(JCS(statement))). */
export function logKeyStatementHash(statement: LogKeyStatement): Hash {
  return hashBytes(utf8ToBytes(canonicalize(statement)));
}

/** statement hash (32 bytes) ‖ SHA-256(tag ‖ statement hash): the 64 bytes the attestation signs or quotes. */
export function logKeyReportData(statementHash: Hash): Uint8Array {
  const digest = hashToBytes(statementHash);
  return concatBytes(digest, sha256Bytes(utf8ToBytes(LOG_KEY_STATEMENT_TAG), digest));
}
