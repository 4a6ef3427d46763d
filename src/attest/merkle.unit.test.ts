import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { CompactRange, MERKLE_ALGORITHM, leafHash, nodeHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from './merkle.js';
import { EventMerkleTree } from './merkle-tree.js';
import type { Hash } from '../events/index.js';

const VECTORS = join(import.meta.dirname, '../../test-vectors/merkle');
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function casesUnder(dir: string): { name: string; data: Record<string, unknown> }[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return casesUnder(path);
    return entry.endsWith('.json') ? [{ name: path.slice(VECTORS.length + 1), data: JSON.parse(readFileSync(path, 'utf8')) }] : [];
  });
}

/** RFC 6962 §2.1, the recursive definition, as the reference. */
function referenceRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

const eventHash = (i: number) => `sha256:${createHash('sha256').update(`event ${i}`).digest('hex')}` as Hash;
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(eventHash(i).slice(7), 'hex')));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RFC 6962 Merkle tree', () => {
  describe('when checked against the transparency-dev inclusion vectors', () => {
    const cases = casesUnder(join(VECTORS, 'inclusion'));
    it('has vectors to check', () => expect(cases.length).toBeGreaterThan(50));
    it.each(cases)('$name', ({ data }) => {
      const run = () =>
        verifyInclusion(
          b64(data.leafHash as string),
          data.leafIdx as number,
          data.treeSize as number,
          ((data.proof as string[] | null) ?? []).map(b64),
          b64(data.root as string),
        );
      if (data.wantErr) expect(run).toThrow(expect.objectContaining({ code: expect.stringMatching(/^MERKLE_/) }));
      else expect(run).not.toThrow();
    });
  });

  describe('when checked against the transparency-dev consistency vectors', () => {
    const cases = casesUnder(join(VECTORS, 'consistency'));
    it('has vectors to check', () => expect(cases.length).toBeGreaterThan(50));
    it.each(cases)('$name', ({ data }) => {
      const run = () =>
        verifyConsistency(
          data.size1 as number,
          data.size2 as number,
          ((data.proof as string[] | null) ?? []).map(b64),
          b64(data.root1 as string),
          b64(data.root2 as string),
        );
      if (data.wantErr) expect(run).toThrow(expect.objectContaining({ code: expect.stringMatching(/^MERKLE_/) }));
      else expect(run).not.toThrow();
    });
  });

  describe('when the root is kept incrementally (CompactRange)', () => {
    it('equals the recursive RFC root and merkletreejs for every size 1…1000', () => {
      const all = leaves(1000);
      const range = new CompactRange();
      const hashes = Array.from({ length: 1000 }, (_, i) => eventHash(i));
      for (let n = 1; n <= 1000; n++) {
        range.appendLeaf(all[n - 1]!);
        const expected = hex(referenceRoot(all.slice(0, n)));
        expect(hex(range.root())).toBe(expected);
        expect(hex(rootFromLeafHashes(all.slice(0, n)))).toBe(expected);
        if (n <= 130 || n % 97 === 0) expect(hex(new EventMerkleTree(hashes.slice(0, n)).root())).toBe(expected);
      }
    });
  });

  describe('when merkletreejs builds inclusion proofs', () => {
    it('every proof verifies for sizes 1…70 and 2^k ± 1', () => {
      const sizes = [...Array.from({ length: 70 }, (_, i) => i + 1), 127, 128, 129, 255, 256, 257];
      for (const n of sizes) {
        const hashes = Array.from({ length: n }, (_, i) => eventHash(i));
        const tree = new EventMerkleTree(hashes);
        const ls = leaves(n);
        for (let i = 0; i < n; i++) verifyInclusion(ls[i]!, i, n, tree.inclusionProof(i), tree.root());
      }
    });

    it('a proof for one index does not verify at the neighbouring index', () => {
      const tree = new EventMerkleTree(Array.from({ length: 7 }, (_, i) => eventHash(i)));
      expect(() => verifyInclusion(leaves(7)[2]!, 3, 7, tree.inclusionProof(2), tree.root())).toThrow(
        expect.objectContaining({ code: 'MERKLE_ROOT_MISMATCH' }),
      );
    });
  });

  describe('when a duplicate last leaf is appended (THREATS E36)', () => {
    it('root([A,B,C]) differs from root([A,B,C,C])', () => {
      const [a, b, c] = leaves(3);
      expect(hex(rootFromLeafHashes([a!, b!, c!]))).not.toBe(hex(rootFromLeafHashes([a!, b!, c!, c!])));
    });
  });

  describe('when there are no leaves', () => {
    it('the root is SHA-256 of nothing, whichever way it is computed', () => {
      const empty = createHash('sha256').digest('hex');
      expect(hex(rootFromLeafHashes([]))).toBe(empty);
      expect(hex(new CompactRange().root())).toBe(empty);
      expect(new CompactRange().size).toBe(0);
      expect(MERKLE_ALGORITHM).toBe('rfc6962-sha256');
    });
  });

  describe('when proofs are checked against the RFC 9162 reference', () => {
    /** RFC 9162 §2.1.3.1 PATH(m, D[n]). */
    const path = (m: number, ls: Uint8Array[]): Uint8Array[] => {
      if (ls.length === 1) return [];
      let k = 1;
      while (k * 2 < ls.length) k *= 2;
      return m < k ? [...path(m, ls.slice(0, k)), referenceRoot(ls.slice(k))] : [...path(m - k, ls.slice(k)), referenceRoot(ls.slice(0, k))];
    };
    /** RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b). */
    const subproof = (m: number, ls: Uint8Array[], b: boolean): Uint8Array[] => {
      if (m === ls.length) return b ? [] : [referenceRoot(ls)];
      let k = 1;
      while (k * 2 < ls.length) k *= 2;
      return m <= k ? [...subproof(m, ls.slice(0, k), b), referenceRoot(ls.slice(k))] : [...subproof(m - k, ls.slice(k), false), referenceRoot(ls.slice(0, k))];
    };
    const all = leaves(40);
    const codeOf = (f: () => void) => {
      try {
        f();
        return null;
      } catch (error) {
        return isEphemeraError(error) ? [error.code, error.message] : ['NOT_EPHEMERA', String(error)];
      }
    };

    it('every inclusion proof verifies for sizes 1…40, and fails with one hash more or less', () => {
      for (let n = 1; n <= 40; n++) {
        const ls = all.slice(0, n);
        const root = referenceRoot(ls);
        for (let i = 0; i < n; i++) {
          const proof = path(i, ls);
          expect(
            codeOf(() => verifyInclusion(ls[i]!, i, n, proof, root)),
            `${i} of ${n}`,
          ).toBeNull();
          expect(
            codeOf(() => verifyInclusion(ls[i]!, i, n, [...proof, root], root)),
            `${i} of ${n}, longer`,
          ).toEqual(['MERKLE_PROOF_INVALID', 'proof is longer than the path']);
          if (proof.length > 0)
            expect(
              codeOf(() => verifyInclusion(ls[i]!, i, n, proof.slice(0, -1), root)),
              `${i} of ${n}, shorter`,
            ).toEqual(['MERKLE_PROOF_INVALID', 'proof is shorter than the path']);
        }
      }
    });

    it('every consistency proof verifies for sizes 1 ≤ m ≤ n ≤ 40, and fails with one hash more or less', () => {
      for (let n = 1; n <= 40; n++) {
        for (let m = 1; m <= n; m++) {
          const proof = subproof(m, all.slice(0, n), true);
          const [r1, r2] = [referenceRoot(all.slice(0, m)), referenceRoot(all.slice(0, n))];
          expect(
            codeOf(() => verifyConsistency(m, n, proof, r1, r2)),
            `${m} → ${n}`,
          ).toBeNull();
          if (m === n) continue;
          expect(
            codeOf(() => verifyConsistency(m, n, [...proof, r2], r1, r2)),
            `${m} → ${n}, longer`,
          ).toEqual(['MERKLE_PROOF_INVALID', 'proof is longer than the path']);
          if (proof.length > 1)
            expect(
              codeOf(() => verifyConsistency(m, n, proof.slice(0, -1), r1, r2)),
              `${m} → ${n}, shorter`,
            ).toEqual(['MERKLE_PROOF_INVALID', 'proof is shorter than the path']);
        }
      }
    });

    it('names which root a consistency proof does not lead to', () => {
      const proof = subproof(3, all.slice(0, 7), true);
      const [r1, r2] = [referenceRoot(all.slice(0, 3)), referenceRoot(all.slice(0, 7))];
      expect(codeOf(() => verifyConsistency(3, 7, proof, r2, r2))).toEqual(['MERKLE_ROOT_MISMATCH', 'proof does not lead to the first root']);
      expect(codeOf(() => verifyConsistency(3, 7, proof, r1, r1))).toEqual(['MERKLE_ROOT_MISMATCH', 'proof does not lead to the second root']);
      expect(codeOf(() => verifyInclusion(all[2]!, 2, 7, path(2, all.slice(0, 7)), r1))).toEqual(['MERKLE_ROOT_MISMATCH', 'proof does not lead to the root']);
    });

    it('refuses inputs outside the tree or of the wrong size with MERKLE_BAD_INPUT', () => {
      const ls = all.slice(0, 4);
      const root = referenceRoot(ls);
      const proof = path(1, ls);
      const short = root.subarray(1);
      const bad = (f: () => void) => codeOf(f)?.[1];
      expect(bad(() => verifyInclusion(short, 1, 4, proof, root))).toBe('hashes must be 32 bytes');
      expect(bad(() => verifyInclusion(ls[1]!, 1, 4, proof, short))).toBe('hashes must be 32 bytes');
      expect(bad(() => verifyInclusion(ls[1]!, 1, 4, [proof[0]!, short], root))).toBe('hashes must be 32 bytes');
      for (const [index, size] of [
        [-1, 4],
        [4, 4],
        [1.5, 4],
        [1, 4.5],
        [1, Number.MAX_SAFE_INTEGER + 1],
      ]) {
        expect(
          codeOf(() => verifyInclusion(ls[1]!, index!, size!, proof, root)),
          `${index} of ${size}`,
        ).toEqual(['MERKLE_BAD_INPUT', 'index must be inside the tree']);
      }
      const r1 = referenceRoot(all.slice(0, 2));
      const cproof = subproof(2, ls, true);
      for (const [m, n] of [
        [-1, 4],
        [3, 2],
        [1.5, 4],
        [2, 4.5],
      ]) {
        expect(
          codeOf(() => verifyConsistency(m!, n!, cproof, r1, root)),
          `${m} → ${n}`,
        ).toEqual(['MERKLE_BAD_INPUT', 'sizes must satisfy 0 <= size1 <= size2']);
      }
      expect(codeOf(() => verifyConsistency(0, 4, cproof, r1, root))).toEqual(['MERKLE_BAD_INPUT', 'consistency from the empty tree is meaningless']);
      expect(codeOf(() => verifyConsistency(2, 4, cproof, r1.subarray(1), root))).toEqual(['MERKLE_BAD_INPUT', 'hashes must be 32 bytes']);
      expect(codeOf(() => verifyConsistency(2, 4, cproof, r1, short))).toEqual(['MERKLE_BAD_INPUT', 'hashes must be 32 bytes']);
      expect(codeOf(() => verifyConsistency(2, 4, [cproof[0]!, short], r1, root))).toEqual(['MERKLE_BAD_INPUT', 'hashes must be 32 bytes']);
      expect(codeOf(() => verifyConsistency(2, 4, [], r1, root))).toEqual(['MERKLE_PROOF_INVALID', 'empty proof']);
    });

    it('between trees of equal size, needs an empty proof and equal roots, bytes and length alike', () => {
      const root = referenceRoot(all.slice(0, 4));
      expect(codeOf(() => verifyConsistency(4, 4, [], root, root))).toBeNull();
      expect(codeOf(() => verifyConsistency(4, 4, [root], root, root))).toEqual(['MERKLE_PROOF_INVALID', 'equal sizes need an empty proof']);
      expect(codeOf(() => verifyConsistency(4, 4, [], root, referenceRoot(all.slice(0, 3))))).toEqual(['MERKLE_ROOT_MISMATCH', 'equal sizes need equal roots']);
      expect(codeOf(() => verifyConsistency(4, 4, [], root, new Uint8Array([...root, 0])))).toEqual(['MERKLE_ROOT_MISMATCH', 'equal sizes need equal roots']);
    });
  });
});
