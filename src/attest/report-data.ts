/**
 * report_data (64 bytes), docs/design.md §6, docs/verification.md §7:
 *
 *   bytes  0..31  merkle_root
 *   bytes 32..63  version 2: SHA-256("ephemera/v2/report\n" ‖ execution_id ‖ u64be(tree_size) ‖ sealed_at)
 *                 version 1: SHA-256("ephemera/v1/report\n" ‖ execution_id ‖ u64be(tree_size))
 *
 * execution_id is 26 ASCII characters and sealed_at 24 (YYYY-MM-DDTHH:MM:SS.mmmZ),
 * so the concatenation is unambiguous. Binding the execution id and tree size
 * stops an old quote from serving a new certificate (THREATS F43); version 2
 * also binds the sealing time, which is the issue time a reader is shown and
 * the time at which a TDX quote's collateral is checked. Isomorphic.
 */
import { bytesToHex, sha256Bytes, utf8ToBytes } from '../events/index.js';

export const REPORT_TAG = 'ephemera/v2/report\n';
export const REPORT_TAG_V1 = 'ephemera/v1/report\n';

function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value));
  return out;
}

/** Version 2 report data; `sealedAt` is the `at` of the certificate.sealed event. */
export function reportData(merkleRoot: Uint8Array, executionId: string, treeSize: number, sealedAt: string): Uint8Array {
  if (merkleRoot.length !== 32) throw new TypeError('merkle root must be 32 bytes');
  const out = new Uint8Array(64);
  out.set(merkleRoot, 0);
  out.set(sha256Bytes(utf8ToBytes(REPORT_TAG), utf8ToBytes(executionId), u64be(treeSize), utf8ToBytes(sealedAt)), 32);
  return out;
}

/** Version 1 report data (certificates issued before version 2; read only). */
export function reportDataV1(merkleRoot: Uint8Array, executionId: string, treeSize: number): Uint8Array {
  if (merkleRoot.length !== 32) throw new TypeError('merkle root must be 32 bytes');
  const out = new Uint8Array(64);
  out.set(merkleRoot, 0);
  out.set(sha256Bytes(utf8ToBytes(REPORT_TAG_V1), utf8ToBytes(executionId), u64be(treeSize)), 32);
  return out;
}

export function reportDataHex(merkleRoot: Uint8Array, executionId: string, treeSize: number, sealedAt: string): string {
  return bytesToHex(reportData(merkleRoot, executionId, treeSize, sealedAt));
}
