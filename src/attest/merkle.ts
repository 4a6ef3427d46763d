/**
 * RFC 6962 / RFC 9162 Merkle tree over event hashes (docs/design.md §5).
 *
 *   leaf = SHA-256(0x00 ‖ event_hash_bytes)          RFC 9162 §2.1.1
 *   node = SHA-256(0x01 ‖ left ‖ right)
 *
 * Pure and isomorphic (@noble/hashes): the verifier uses this file in the
 * browser. Inclusion: RFC 9162 §2.1.3.2; consistency: RFC 9162 §2.1.4.2.
 */
import { sha256 } from '@noble/hashes/sha256';
import { EphemeraError } from '../errors.js';
import { nobleSha256, type Sha256 } from '../events/index.js';

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;
export const MERKLE_ALGORITHM = 'rfc6962-sha256';

export function leafHash(eventHashBytes: Uint8Array, hash: Sha256 = nobleSha256): Uint8Array {
  const input = new Uint8Array(eventHashBytes.length + 1);
  input[0] = LEAF_PREFIX;
  input.set(eventHashBytes, 1);
  return hash(input);
}

export function nodeHash(left: Uint8Array, right: Uint8Array, hash: Sha256 = nobleSha256): Uint8Array {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash(input);
}

/** Root over already-hashed leaves. Pairing left to right and carrying an odd last node up equals RFC 6962's split at the largest power of two. */
export function rootFromLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  let level = leaves.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/**
 * The incremental root: one subtree root per set bit of the size, O(log n)
 * memory, O(1) amortised per append, O(log n) to read the root.
 */
export class CompactRange {
  private readonly stack: { size: number; hash: Uint8Array }[] = [];
  private count = 0;

  constructor(private readonly hash: Sha256 = nobleSha256) {}

  get size(): number {
    return this.count;
  }

  appendLeaf(leaf: Uint8Array): void {
    let node = { size: 1, hash: leaf };
    while (this.stack.length > 0 && this.stack[this.stack.length - 1]!.size === node.size) {
      const left = this.stack.pop()!;
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash, this.hash) };
    }
    this.stack.push(node);
    this.count += 1;
  }

  root(): Uint8Array {
    if (this.stack.length === 0) return this.hash(new Uint8Array(0));
    let root = this.stack[this.stack.length - 1]!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) root = nodeHash(this.stack[i]!.hash, root, this.hash);
    return root;
  }
}

export type MerkleErrorCode = 'MERKLE_PROOF_INVALID' | 'MERKLE_ROOT_MISMATCH' | 'MERKLE_BAD_INPUT';

const fail = (code: MerkleErrorCode, why: string): never => {
  throw new EphemeraError<MerkleErrorCode>(code, why);
};

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);

/** RFC 9162 §2.1.3.2. Throws MERKLE_* on any failure. */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, proof: readonly Uint8Array[], root: Uint8Array): void {
  if (leaf.length !== 32 || root.length !== 32 || proof.some((p) => p.length !== 32)) fail('MERKLE_BAD_INPUT', 'hashes must be 32 bytes');
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) fail('MERKLE_BAD_INPUT', 'index must be inside the tree');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) fail('MERKLE_PROOF_INVALID', 'proof is longer than the path');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) fail('MERKLE_PROOF_INVALID', 'proof is shorter than the path');
  if (!equal(r, root)) fail('MERKLE_ROOT_MISMATCH', 'proof does not lead to the root');
}

/** RFC 9162 §2.1.4.2. Throws MERKLE_* on any failure. */
export function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0 || size2 < size1)
    fail('MERKLE_BAD_INPUT', 'sizes must satisfy 0 <= size1 <= size2');

  // A proof from the empty tree proves nothing; the vectors treat it as an error.
  if (size1 === 0) fail('MERKLE_BAD_INPUT', 'consistency from the empty tree is meaningless');
  if (size1 === size2) {
    if (proof.length !== 0) fail('MERKLE_PROOF_INVALID', 'equal sizes need an empty proof');
    if (!equal(root1, root2)) fail('MERKLE_ROOT_MISMATCH', 'equal sizes need equal roots');
    return;
  }
  if (root1.length !== 32 || root2.length !== 32 || proof.some((p) => p.length !== 32)) fail('MERKLE_BAD_INPUT', 'hashes must be 32 bytes');
  if (proof.length === 0) fail('MERKLE_PROOF_INVALID', 'empty proof');
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) fail('MERKLE_PROOF_INVALID', 'proof is longer than the path');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0)
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) fail('MERKLE_PROOF_INVALID', 'proof is shorter than the path');
  if (!equal(fr, root1)) fail('MERKLE_ROOT_MISMATCH', 'proof does not lead to the first root');
  if (!equal(sr, root2)) fail('MERKLE_ROOT_MISMATCH', 'proof does not lead to the second root');
}
