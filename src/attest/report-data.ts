/**
 * report_data (64 bytes), DESIGN §6:
 *
 *   bytes  0..31  merkle_root
 *   bytes 32..63  SHA-256("ephemera/v1/report\n" ‖ execution_id ‖ u64be(tree_size))
 *
 * Binding the execution id and tree size stops an old quote from serving a
 * new certificate (THREATS F43). Isomorphic.
 */
import { bytesToHex, sha256Bytes, utf8ToBytes } from '../events/index.js';

export const REPORT_TAG = 'ephemera/v1/report\n';

export function reportData(merkleRoot: Uint8Array, executionId: string, treeSize: number): Uint8Array {
  if (merkleRoot.length !== 32) throw new TypeError('merkle root must be 32 bytes');
  const size = new Uint8Array(8);
  new DataView(size.buffer).setBigUint64(0, BigInt(treeSize));
  const out = new Uint8Array(64);
  out.set(merkleRoot, 0);
  out.set(sha256Bytes(utf8ToBytes(REPORT_TAG), utf8ToBytes(executionId), size), 32);
  return out;
}

export function reportDataHex(merkleRoot: Uint8Array, executionId: string, treeSize: number): string {
  return bytesToHex(reportData(merkleRoot, executionId, treeSize));
}
