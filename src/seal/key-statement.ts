/**
 * The key statement's hash and the report data that bind it to an
 * attestation (docs/sealed.md §2). The tag differs from the certificate's
 * ("ephemera/v2/report\n"), so no report data can serve both. Isomorphic.
 */
import { canonicalize, concatBytes, hashBytes, hashToBytes, sha256Bytes, utf8ToBytes, type Hash } from '../events/index.js';
import type { KeyStatement } from './types.js';

export const KEY_STATEMENT_TAG = 'ephemera/v1/key-statement\n';

/** `sha256:` + hex(SHA-256(JCS(statement))). */
export function keyStatementHash(statement: KeyStatement): Hash {
  return hashBytes(utf8ToBytes(canonicalize(statement)));
}

/** statement hash (32 bytes) ‖ SHA-256(tag ‖ statement hash): the 64 bytes an attestation signs or quotes. */
export function keyReportData(statementHash: Hash): Uint8Array {
  const digest = hashToBytes(statementHash);
  return concatBytes(digest, sha256Bytes(utf8ToBytes(KEY_STATEMENT_TAG), digest));
}
