/**
 * RFC 6962 inclusion proofs computed in the browser from the certificate's own
 * events (RFC 9162 §2.1.3.1 PATH), so a reader needs nothing from our server.
 */
import type { EventEnvelope } from '../../src/events/index.js';
import { bytesToHex, hashToBytes } from '../../src/events/index.js';
import { leafHash, rootFromLeafHashes } from '../../src/attest/index.js';

function path(index: number, leaves: Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return index < k
    ? [...path(index, leaves.slice(0, k)), rootFromLeafHashes(leaves.slice(k))]
    : [...path(index - k, leaves.slice(k)), rootFromLeafHashes(leaves.slice(0, k))];
}

export function inclusionProofHex(events: readonly EventEnvelope[], index: number): string[] {
  const leaves = events.filter((e) => e.type !== 'certificate.sealed').map((e) => leafHash(hashToBytes(e.hash)));
  return path(index, leaves).map(bytesToHex);
}
