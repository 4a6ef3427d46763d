import { codeOfAsync } from './testing/code-of.js';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, nodeHash, rootFromLeafHashes, verifyConsistency, verifyInclusion } from '../attest/merkle.js';
import { formatTilePath } from './tile-path.js';
import { TiledTree, type TileReader } from './tile-proofs.js';
import { checkEntryBundle, encodeEntryBundle, TileBuilder } from './tiles.js';

const entry = (i: number) => new TextEncoder().encode(`entry ${i}`);
const ALL = Array.from({ length: 70001 }, (_, i) => leafHash(entry(i)));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every tile of a tree of `size` (the ALL leaves), by path, as a log serves them. */
function served(size: number): Map<string, Uint8Array> {
  const tiles = new Map<string, Uint8Array>();
  for (const tile of new TileBuilder().append(ALL.slice(0, size))) tiles.set(formatTilePath(tile), tile.data);
  return tiles;
}

function treeOf(size: number, tiles = served(size)) {
  const reads: string[] = [];
  const read: TileReader = async (path) => {
    reads.push(path);
    const data = tiles.get(path);
    if (!data) throw new Error(`404 ${path}`);
    return data;
  };
  return { tree: new TiledTree({ size, root: rootFromLeafHashes(ALL.slice(0, size)) }, read), reads, tiles };
}

/** RFC 6962 §2.1.1 PATH and §2.1.2 PROOF, recursively over the leaves: the reference. */
function mth(d: Uint8Array[]): Uint8Array {
  return rootFromLeafHashes(d);
}
const k = (n: number) => {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
};
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))] : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

describe('TiledTree', () => {
  it('answers the root, audit paths and consistency proofs RFC 6962 defines, for every index and size of small trees', async () => {
    for (const size of [1, 2, 3, 7, 8, 255, 256, 257, 300, 511, 512, 513]) {
      const { tree } = treeOf(size);
      const d = ALL.slice(0, size);
      const root = mth(d);
      expect(hex(await tree.treeHash())).toBe(hex(root));
      for (let i = 0; i < size; i += size > 64 ? 17 : 1) {
        const proof = await tree.inclusionProof(i);
        expect(proof.map(hex), `${size} ${i}`).toEqual(path(i, d).map(hex));
        verifyInclusion(ALL[i]!, i, size, proof, root);
        expect(hex(await tree.leafHash(i))).toBe(hex(ALL[i]!));
      }
      for (let m = 1; m <= size; m += size > 64 ? 13 : 1) {
        const proof = await tree.consistencyProof(m);
        expect(proof.map(hex), `${m} ${size}`).toEqual(subproof(m, d, true).map(hex));
        if (m < size) verifyConsistency(m, size, proof, mth(d.slice(0, m)), root);
        expect(hex(await tree.treeHash(m))).toBe(hex(mth(d.slice(0, m))));
      }
    }
  });

  it('answers for earlier sizes inside the checkpoint, and in large trees, proofs that verify (fast-check)', async () => {
    const trees = new Map([65535, 65536, 65537, 70000].map((size) => [size, treeOf(size).tree]));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...trees.keys()), fc.nat(), fc.nat(), fc.nat(), async (size, a, b, c) => {
        const tree = trees.get(size)!;
        const [m, n] = [1 + (a % size), 1 + (b % size)].sort((x, y) => x - y) as [number, number];
        const i = c % n;
        const rootN = rootFromLeafHashes(ALL.slice(0, n));
        verifyInclusion(ALL[i]!, i, n, await tree.inclusionProof(i, n), rootN);
        if (m < n) verifyConsistency(m, n, await tree.consistencyProof(m, n), rootFromLeafHashes(ALL.slice(0, m)), rootN);
        expect(hex(await tree.treeHash(n))).toBe(hex(rootN));
      }),
      { numRuns: 15 },
    );
  });

  it('reads only the tiles it needs: the right edge, and the tiles on the way to the leaf', async () => {
    const { tree, reads } = treeOf(70000);
    await tree.verifyRoot();
    expect(reads.sort()).toEqual(['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
    reads.length = 0;
    await tree.inclusionProof(1000);
    expect(reads.sort()).toEqual(['tile/0/003', 'tile/1/000']);
    reads.length = 0;
    await tree.inclusionProof(1001);
    await tree.treeHash();
    expect(reads).toEqual([]);
    const { tree: fresh, reads: freshReads } = treeOf(70000);
    await fresh.inclusionProof(69999);
    expect(freshReads.sort()).toEqual(['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
  });

  it('refuses a tile that does not hash to the root, or to its hash in the tile above, and uses nothing it has not authenticated', async () => {
    const flip = (tiles: Map<string, Uint8Array>, path: string, at: number) => {
      const data = tiles.get(path)!.slice();
      data[at]! ^= 1;
      tiles.set(path, data);
    };
    for (const path of ['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']) {
      const { tree, tiles } = treeOf(70000);
      flip(tiles, path, 5);
      expect(await codeOfAsync(() => tree.verifyRoot())).toBe('TLOG_TILE_MISMATCH');
      expect(await codeOfAsync(() => tree.inclusionProof(0))).toBe('TLOG_TILE_MISMATCH');
    }
    for (const path of ['tile/0/003', 'tile/1/000']) {
      const { tree, tiles } = treeOf(70000);
      flip(tiles, path, 8191);
      await tree.verifyRoot();
      expect(await codeOfAsync(() => tree.inclusionProof(1000))).toBe('TLOG_TILE_MISMATCH');
      expect(await codeOfAsync(() => tree.leafHash(1000))).toBe('TLOG_TILE_MISMATCH');
      expect(await codeOfAsync(() => tree.tile(0, 3))).toBe('TLOG_TILE_MISMATCH');
    }
    // A tile that is fine but belongs to another tree.
    const { tree, tiles } = treeOf(70000);
    tiles.set('tile/0/003', served(70000).get('tile/0/004')!);
    expect(await codeOfAsync(() => tree.inclusionProof(1000))).toBe('TLOG_TILE_MISMATCH');
    // A failure is not remembered: a good tile read again is accepted.
    tiles.set('tile/0/003', served(70000).get('tile/0/003')!);
    verifyInclusion(ALL[1000]!, 1000, 70000, await tree.inclusionProof(1000), rootFromLeafHashes(ALL.slice(0, 70000)));
    // A checkpoint root the tiles do not support.
    const wrong = new TiledTree({ size: 70000, root: nodeHash(ALL[0]!, ALL[1]!) }, async (p) => tiles.get(p)!);
    expect(await codeOfAsync(() => wrong.treeHash())).toBe('TLOG_TILE_MISMATCH');
    // The reader cannot change a tile once it is authenticated.
    const { tree: kept, tiles: keptTiles } = treeOf(300);
    const proof = await kept.inclusionProof(5);
    keptTiles.get('tile/0/000')!.fill(0);
    expect((await kept.inclusionProof(5)).map(hex)).toEqual(proof.map(hex));
  });

  it('refuses a tile of the wrong length, and a reader that fails or answers something else', async () => {
    const tiles = served(70000);
    const root = rootFromLeafHashes(ALL.slice(0, 70000));
    const answering = (answer: (path: string) => unknown) => new TiledTree({ size: 70000, root }, async (p) => answer(p) as Uint8Array);
    expect(await codeOfAsync(() => answering((p) => tiles.get(p)!.subarray(1)).verifyRoot())).toBe('TLOG_TILE_SIZE_INVALID');
    expect(await codeOfAsync(() => answering((p) => new Uint8Array([...tiles.get(p)!, 0])).verifyRoot())).toBe('TLOG_TILE_SIZE_INVALID');
    expect(await codeOfAsync(() => answering((p) => hex(tiles.get(p)!)).verifyRoot())).toBe('TLOG_TILE_SIZE_INVALID');
    expect(await codeOfAsync(() => answering(() => undefined).verifyRoot())).toBe('TLOG_TILE_SIZE_INVALID');
    expect(await codeOfAsync(() => answering((p) => (p === 'tile/0/003' ? tiles.get('tile/0/273.p/112') : tiles.get(p))).inclusionProof(1000))).toBe(
      'TLOG_TILE_SIZE_INVALID',
    );
    expect(
      await codeOfAsync(() =>
        answering(() => {
          throw new Error('network down');
        }).verifyRoot(),
      ),
    ).toBe('TLOG_TILE_UNAVAILABLE');
  });

  it('refuses indexes and sizes outside the checkpoint, and a malformed checkpoint', async () => {
    const { tree } = treeOf(1000);
    for (const call of [
      () => tree.inclusionProof(1000),
      () => tree.inclusionProof(-1),
      () => tree.inclusionProof(0.5),
      () => tree.inclusionProof(5, 5),
      () => tree.inclusionProof(0, 1001),
      () => tree.inclusionProof(0, 0),
      () => tree.consistencyProof(0),
      () => tree.consistencyProof(11, 10),
      () => tree.consistencyProof(1, 1001),
      () => tree.treeHash(1001),
      () => tree.treeHash(-1),
      () => tree.leafHash(1000),
    ])
      expect(await codeOfAsync(call)).toBe('TLOG_PROOF_BAD_INPUT');
    expect(await codeOfAsync(() => tree.tile(0, 4))).toBe('TLOG_TILE_NOT_IN_TREE');
    expect(await codeOfAsync(() => tree.tile(2, 0))).toBe('TLOG_TILE_NOT_IN_TREE');
    expect(await codeOfAsync(() => tree.tile(-1, 0))).toBe('TLOG_TILE_NOT_IN_TREE');
    const read: TileReader = async () => new Uint8Array(0);
    expect(await codeOfAsync(async () => new TiledTree({ size: -1, root: ALL[0]! }, read))).toBe('TLOG_PROOF_BAD_INPUT');
    expect(await codeOfAsync(async () => new TiledTree({ size: 2 ** 53, root: ALL[0]! }, read))).toBe('TLOG_PROOF_BAD_INPUT');
    expect(await codeOfAsync(async () => new TiledTree({ size: 1, root: new Uint8Array(31) }, read))).toBe('TLOG_PROOF_BAD_INPUT');
  });

  it('proves the empty tree has the empty root and reads nothing for it', async () => {
    const empty = new Uint8Array(createHash('sha256').digest());
    const tree = new TiledTree({ size: 0, root: empty }, async () => {
      throw new Error('no tiles');
    });
    expect(hex(await tree.treeHash())).toBe(hex(empty));
    expect(await codeOfAsync(() => new TiledTree({ size: 0, root: ALL[0]! }, async () => new Uint8Array(0)).verifyRoot())).toBe('TLOG_TILE_MISMATCH');
  });

  it('keeps at most maxCachedTiles full tiles, and reads an evicted one again (authenticating it again)', async () => {
    const tiles = served(70000);
    const reads: string[] = [];
    const root = rootFromLeafHashes(ALL.slice(0, 70000));
    const tree = new TiledTree(
      { size: 70000, root },
      async (p) => {
        reads.push(p);
        return tiles.get(p)!;
      },
      undefined,
      { maxCachedTiles: 8 },
    );
    for (let tile = 0; tile < 20; tile++) verifyInclusion(ALL[tile * 256]!, tile * 256, 70000, await tree.inclusionProof(tile * 256), root);
    reads.length = 0;
    await tree.inclusionProof(0);
    expect(reads).toEqual(['tile/0/000']);
    // An evicted tile is authenticated again when read again.
    tiles.set('tile/0/001', served(70000).get('tile/0/002')!);
    expect(await codeOfAsync(() => tree.inclusionProof(256))).toBe('TLOG_TILE_MISMATCH');
  });

  it('refuses a maxCachedTiles that is no count (NaN bounded nothing: the cache grew without limit)', async () => {
    const root = rootFromLeafHashes(ALL.slice(0, 3));
    const read: TileReader = async () => new Uint8Array(0);
    for (const maxCachedTiles of [Number.NaN, 1.5, -1, Number.POSITIVE_INFINITY])
      expect(await codeOfAsync(async () => new TiledTree({ size: 3, root }, read, undefined, { maxCachedTiles })), String(maxCachedTiles)).toBe(
        'TLOG_PROOF_BAD_INPUT',
      );
    expect(new TiledTree({ size: 3, root }, read, undefined, { maxCachedTiles: 1 }).size).toBe(3);
  });

  it('gives the authenticated level-0 tile an entry bundle is checked against', async () => {
    const { tree } = treeOf(300);
    const entries = Array.from({ length: 44 }, (_, i) => entry(256 + i));
    expect(checkEntryBundle(encodeEntryBundle(entries), await tree.tile(0, 1))).toHaveLength(44);
    expect((await tree.tile(1, 0)).length).toBe(32);
  });
});
