/**
 * Hash helpers shared by the executor and the isomorphic verifier.
 * Every hash is written `sha256:<64 lowercase hex>` (docs/design.md §3).
 * @noble/hashes is the default so the same code runs in a browser; callers
 * on Node pass node:crypto's SHA-256 (`Sha256`) where many small hashes are
 * computed (verifying a million events), and datasets are hashed with
 * node:crypto in commands/execute.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from '@noble/hashes/utils';

export type Hash = `sha256:${string}`;

/**
 * SHA-256 of bytes, or of a string's UTF-8: @noble/hashes in the browser, node:crypto where it is faster.
 * `hex`, where given, is the same digest as lowercase hex without going through bytes
 * (node:crypto writes it natively: an event hash for less than half the time of bytes then hex).
 */
export type Sha256 = ((data: Uint8Array | string) => Uint8Array) & { hex?: (data: Uint8Array | string) => string };
export const nobleSha256: Sha256 = (data) => sha256(typeof data === 'string' ? utf8ToBytes(data) : data);

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

/** SHA-256 of the UTF-8 encoding of `text`, with the given implementation. */
export function hashUtf8With(hash: Sha256, text: string): Hash {
  return hash.hex ? `sha256:${hash.hex(text)}` : toHash(hash(text));
}

export function hashToBytes(hash: Hash | string): Uint8Array {
  if (!isHash(hash)) throw new TypeError('not a sha256:<hex> hash');
  return hexToBytes(hash.slice('sha256:'.length));
}

export { bytesToHex, hexToBytes, utf8ToBytes, concatBytes };
