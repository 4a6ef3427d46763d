/**
 * Hash helpers shared by the executor and the isomorphic verifier.
 * Every hash is written `sha256:<64 lowercase hex>` (DESIGN §3). Uses
 * @noble/hashes so the same code runs in a browser; bulk hashing of datasets on
 * the server uses node:crypto instead (commands/execute).
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from '@noble/hashes/utils';

export type Hash = `sha256:${string}`;

export const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function isHash(value: unknown): value is Hash {
  return typeof value === 'string' && HASH_PATTERN.test(value);
}

export function sha256Bytes(...parts: Uint8Array[]): Uint8Array {
  return sha256(parts.length === 1 ? parts[0]! : concatBytes(...parts));
}

export function toHash(digest: Uint8Array): Hash {
  return `sha256:${bytesToHex(digest)}`;
}

export function hashBytes(...parts: Uint8Array[]): Hash {
  return toHash(sha256Bytes(...parts));
}

/** SHA-256 of the UTF-8 encoding of the concatenated strings. */
export function hashUtf8(...parts: string[]): Hash {
  return hashBytes(utf8ToBytes(parts.join('')));
}

export function hashToBytes(hash: Hash | string): Uint8Array {
  if (!isHash(hash)) throw new TypeError('not a sha256:<hex> hash');
  return hexToBytes(hash.slice('sha256:'.length));
}

export { bytesToHex, hexToBytes, utf8ToBytes, concatBytes };
