import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CompactRange, leafHash, nodeHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from './merkle.js';
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
      const run = () => verifyInclusion(b64(data.leafHash as string), data.leafIdx as number, data.treeSize as number, (data.proof as string[] | null ?? []).map(b64), b64(data.root as string));
      if (data.wantErr) expect(run).toThrow(expect.objectContaining({ code: expect.stringMatching(/^MERKLE_/) }));
      else expect(run).not.toThrow();
    });
  });

  describe('when checked against the transparency-dev consistency vectors', () => {
    const cases = casesUnder(join(VECTORS, 'consistency'));
    it('has vectors to check', () => expect(cases.length).toBeGreaterThan(50));
    it.each(cases)('$name', ({ data }) => {
      const run = () => verifyConsistency(data.size1 as number, data.size2 as number, (data.proof as string[] | null ?? []).map(b64), b64(data.root1 as string), b64(data.root2 as string));
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
      expect(() => verifyInclusion(leaves(7)[2]!, 3, 7, tree.inclusionProof(2), tree.root())).toThrow(expect.objectContaining({ code: 'MERKLE_ROOT_MISMATCH' }));
    });
  });

  describe('when a duplicate last leaf is appended (THREATS E36)', () => {
    it('root([A,B,C]) differs from root([A,B,C,C])', () => {
      const [a, b, c] = leaves(3);
      expect(hex(rootFromLeafHashes([a!, b!, c!]))).not.toBe(hex(rootFromLeafHashes([a!, b!, c!, c!])));
    });
  });
});
