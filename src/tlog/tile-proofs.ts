/**
 * Proofs from tiles (docs/transparency.md §6): given a checkpoint's tree size and
 * root and a reader of tiles (path → bytes, e.g. an HTTP GET of <prefix>/<path>),
 * reads only the tiles it needs, authenticates every one of them, and answers the
 * tree's root, RFC 6962 audit paths and consistency proofs: the same answers
 * src/attest/merkle.ts gives from all the leaves (its verify* functions check them).
 *
 * Authentication (Go's tlog.TileHashReader is the model): the partial tiles of the
 * right edge, one per level, must fold into the checkpoint's root (every perfect
 * subtree of the root lies in one of them); a full tile must hash to its hash in
 * the tile above, which is authenticated the same way. A tile is used only once it
 * is authenticated, and kept (per TiledTree) once it is.
 */
import { nodeHash } from '../attest/merkle.js';
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { nobleSha256, type Sha256 } from '../events/index.js';
import { formatTilePath, HASH_SIZE, hashesAtLevel, TILE_WIDTH, type TileId, tileWidth } from './tile-path.js';
import { rootFromEdgeLevels, subtreeFromLevels, tileLevels } from './tiles.js';

export type TileProofErrorCode = Registered<
  'TLOG_PROOF_BAD_INPUT' | 'TLOG_TILE_NOT_IN_TREE' | 'TLOG_TILE_SIZE_INVALID' | 'TLOG_TILE_MISMATCH' | 'TLOG_TILE_UNAVAILABLE'
>;

const fail = (code: TileProofErrorCode, why: string): never => {
  throw new EphemeraError<TileProofErrorCode>(code, why);
};

/** Reads one tile by its path (`tile/<L>/<N>[.p/<W>]`); whatever it returns is checked before use. */
export type TileReader = (path: string) => Promise<Uint8Array>;

/** A perfect subtree: 2^height leaves starting at leaf index × 2^height. */
interface Subtree {
  height: number;
  index: number;
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i]);

/** The tree of a checkpoint, read from its tiles. */
export class TiledTree {
  readonly size: number;
  private readonly root: Uint8Array;
  /**
   * Authenticated full tiles (their tileLevels), by "level/index", the most recently used last; at
   * most `maxCachedTiles` (16 KiB each). The right edge's partial tiles are in `edge`.
   */
  private readonly full = new Map<string, Promise<Uint8Array[]>>();
  private edge: Promise<Map<number, Uint8Array[]>> | undefined;
  private readonly maxCachedTiles: number;

  constructor(
    checkpoint: { size: number; root: Uint8Array },
    private readonly read: TileReader,
    private readonly hash: Sha256 = nobleSha256,
    options: { maxCachedTiles?: number } = {},
  ) {
    const max = options.maxCachedTiles ?? 1024;
    // Math.max(8, NaN) is NaN, and `size >= NaN` never holds: the cache would have no bound.
    if (!Number.isSafeInteger(max) || max < 0) fail('TLOG_PROOF_BAD_INPUT', 'maxCachedTiles is a non-negative integer');
    this.maxCachedTiles = Math.max(8, max);
    if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) fail('TLOG_PROOF_BAD_INPUT', 'a tree size is a non-negative safe integer');
    if (!(checkpoint.root instanceof Uint8Array) || checkpoint.root.length !== HASH_SIZE) fail('TLOG_PROOF_BAD_INPUT', 'a root hash is 32 bytes');
    this.size = checkpoint.size;
    this.root = checkpoint.root.slice();
  }

  /** Reads the right edge's partial tiles and checks they fold into the checkpoint's root (TLOG_TILE_MISMATCH if not). */
  async verifyRoot(): Promise<void> {
    await this.rightEdge();
  }

  /** The root of the tree's first `size` leaves (default: the checkpoint's own), from authenticated tiles. */
  async treeHash(size: number = this.size): Promise<Uint8Array> {
    this.assertSize(size, 0);
    if (size === this.size) {
      await this.rightEdge();
      return this.root.slice();
    }
    if (size === 0) return this.hash(new Uint8Array(0));
    return this.rangeHash(0, size);
  }

  /** The leaf hash at `index`. */
  async leafHash(index: number): Promise<Uint8Array> {
    this.assertIndex(index, this.size);
    return this.subtreeHash({ height: 0, index });
  }

  /**
   * The authenticated bytes of tile (level, index) as this tree has it (its partial width on the
   * right edge): e.g. the level-0 tile to check an entry bundle against (checkEntryBundle).
   */
  async tile(level: number, index: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(level) || !Number.isSafeInteger(index) || level < 0 || index < 0 || tileWidth(this.size, level, index) === 0)
      fail('TLOG_TILE_NOT_IN_TREE', 'this tree has no such tile');
    return (await this.authenticatedTile(level, index))[0]!.slice();
  }

  /** RFC 6962 §2.1.1 PATH(index, D[0:size]): the audit path, from the leaf's sibling up. `size` ≤ the checkpoint's. */
  async inclusionProof(index: number, size: number = this.size): Promise<Uint8Array[]> {
    this.assertSize(size, 1);
    this.assertIndex(index, size);
    const ranges: [number, number][] = [];
    inclusionRanges(0, size, index, ranges);
    return Promise.all(ranges.map(([lo, hi]) => this.rangeHash(lo, hi)));
  }

  /** RFC 6962 §2.1.2 PROOF(oldSize, D[0:newSize]), 1 ≤ oldSize ≤ newSize ≤ the checkpoint's size. */
  async consistencyProof(oldSize: number, newSize: number = this.size): Promise<Uint8Array[]> {
    this.assertSize(newSize, 1);
    this.assertSize(oldSize, 1);
    if (oldSize > newSize) fail('TLOG_PROOF_BAD_INPUT', 'a consistency proof goes from a smaller tree to a larger one');
    const ranges: [number, number][] = [];
    consistencyRanges(0, newSize, oldSize, ranges);
    return Promise.all(ranges.map(([lo, hi]) => this.rangeHash(lo, hi)));
  }

  private assertSize(size: number, least: number): void {
    if (!Number.isSafeInteger(size) || size < least || size > this.size) fail('TLOG_PROOF_BAD_INPUT', `a tree size from ${least} to the checkpoint's`);
  }

  private assertIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) fail('TLOG_PROOF_BAD_INPUT', 'a leaf index inside the tree');
  }

  /** MTH(D[lo:hi]) for the ranges RFC 6962's recursion makes: its perfect subtrees, largest first, folded from the right. */
  private async rangeHash(lo: number, hi: number): Promise<Uint8Array> {
    const subtrees: Subtree[] = [];
    for (let at = lo; at < hi; ) {
      let width = 1;
      let height = 0;
      while (width * 2 <= hi - at) {
        width *= 2;
        height++;
      }
      if (at % width !== 0) throw new Error('tlog: bad math in rangeHash');
      subtrees.push({ height, index: at / width });
      at += width;
    }
    const hashes = await Promise.all(subtrees.map((s) => this.subtreeHash(s)));
    let root = hashes[hashes.length - 1]!;
    for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i]!, root, this.hash);
    return root;
  }

  /** A perfect subtree's hash: 2^r consecutive hashes of one tile at level floor(height / 8), r = height mod 8. */
  private async subtreeHash({ height, index }: Subtree): Promise<Uint8Array> {
    const level = Math.floor(height / 8);
    const count = 2 ** (height % 8);
    const first = index * count;
    const levels = await this.authenticatedTile(level, Math.floor(first / TILE_WIDTH));
    // A copy: the caller's hash is not a view into the cache.
    return subtreeFromLevels(levels, first % TILE_WIDTH, count).slice();
  }

  private authenticatedTile(level: number, index: number): Promise<Uint8Array[]> {
    const width = tileWidth(this.size, level, index);
    if (width < TILE_WIDTH) return this.rightEdge().then((edge) => edge.get(level)!);
    const key = `${level}/${index}`;
    let tile = this.full.get(key);
    if (tile === undefined) {
      tile = this.authenticateFull(level, index);
      // A failure is not kept: the next call reads the tile again.
      tile.catch(() => {
        if (this.full.get(key) === tile) this.full.delete(key);
      });
      if (this.full.size >= this.maxCachedTiles) this.full.delete(this.full.keys().next().value!);
    } else {
      this.full.delete(key);
    }
    this.full.set(key, tile);
    return tile;
  }

  /** A full tile must hash to its hash in the tile above ("each hash in a tile is the Merkle Tree Hash of a full tile at the level below"). */
  private async authenticateFull(level: number, index: number): Promise<Uint8Array[]> {
    const [data, parent] = await Promise.all([
      this.fetch({ level, index, width: TILE_WIDTH }),
      this.authenticatedTile(level + 1, Math.floor(index / TILE_WIDTH)),
    ]);
    const levels = tileLevels(data, this.hash);
    if (!equal(levels[8]!, subtreeFromLevels(parent, index % TILE_WIDTH, 1)))
      fail('TLOG_TILE_MISMATCH', `${formatTilePath({ level, index, width: TILE_WIDTH })} does not hash to its hash in the tile above`);
    return levels;
  }

  private rightEdge(): Promise<Map<number, Uint8Array[]>> {
    if (this.edge === undefined) {
      this.edge = this.authenticateRightEdge();
      this.edge.catch(() => {
        this.edge = undefined;
      });
    }
    return this.edge;
  }

  private async authenticateRightEdge(): Promise<Map<number, Uint8Array[]>> {
    const tiles: TileId[] = [];
    for (let level = 0; hashesAtLevel(this.size, level) > 0; level++) {
      const width = hashesAtLevel(this.size, level) % TILE_WIDTH;
      if (width > 0) tiles.push({ level, index: Math.floor(hashesAtLevel(this.size, level) / TILE_WIDTH), width });
    }
    const data = await Promise.all(tiles.map((tile) => this.fetch(tile)));
    const edge = new Map(tiles.map((tile, i) => [tile.level, tileLevels(data[i]!, this.hash)]));
    if (
      !equal(
        rootFromEdgeLevels(this.size, (level) => edge.get(level)!, this.hash),
        this.root,
      )
    )
      fail('TLOG_TILE_MISMATCH', "the right edge's partial tiles do not hash to the checkpoint's root");
    return edge;
  }

  private async fetch(tile: TileId): Promise<Uint8Array> {
    const path = formatTilePath(tile);
    let data: unknown;
    try {
      data = await this.read(path);
    } catch (cause) {
      throw new EphemeraError<TileProofErrorCode>('TLOG_TILE_UNAVAILABLE', `the tile reader failed for ${path}`, { cause });
    }
    if (!(data instanceof Uint8Array) || data.length !== tile.width * HASH_SIZE)
      fail('TLOG_TILE_SIZE_INVALID', `${path} is not ${tile.width * HASH_SIZE} bytes (${tile.width} hashes)`);
    // A copy: the reader cannot change a tile after it is authenticated.
    return (data as Uint8Array).slice();
  }
}

/** Largest power of two strictly below n (n ≥ 2): RFC 6962's split point k. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The ranges whose MTH form PATH(n, D[lo:hi]), deepest first (Go's leafProof). */
function inclusionRanges(lo: number, hi: number, n: number, out: [number, number][]): void {
  if (hi - lo === 1) return;
  const k = split(hi - lo);
  if (n < lo + k) {
    inclusionRanges(lo, lo + k, n, out);
    out.push([lo + k, hi]);
  } else {
    inclusionRanges(lo + k, hi, n, out);
    out.push([lo, lo + k]);
  }
}

/** The ranges whose MTH form SUBPROOF(m, D[lo:hi], lo == 0), deepest first (Go's treeProof). */
function consistencyRanges(lo: number, hi: number, m: number, out: [number, number][]): void {
  if (m === hi) {
    if (lo !== 0) out.push([lo, hi]);
    return;
  }
  const k = split(hi - lo);
  if (m <= lo + k) {
    consistencyRanges(lo, lo + k, m, out);
    out.push([lo + k, hi]);
  } else {
    consistencyRanges(lo + k, hi, m, out);
    out.push([lo, lo + k]);
  }
}
