/**
 * C2SP tlog-tiles contents (docs/transparency.md §5): tiles built incrementally
 * from leaf hashes, the tree root from a tree's right edge, and entry bundles.
 *
 *   "the n-th tile at level l … is the sequence of the following Merkle Tree Hashes,
 *    with i from 0 to 255: MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])"
 *
 * Level-0 tiles are leaf hashes; a hash of a level-l tile (l > 0) is the Merkle
 * Tree Hash of the full tile below it. Isomorphic: no node: imports.
 */
import { leafHash, NODE_PREFIX, nodeHash } from '../attest/merkle.js';
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { nobleSha256, type Sha256 } from '../events/index.js';
import { assertTreeSize, HASH_SIZE, hashesAtLevel, TILE_WIDTH, type TileId } from './tile-path.js';

export type TilesErrorCode = Registered<
  'TLOG_TILE_BAD_INPUT' | 'TLOG_TILE_SIZE_INVALID' | 'TLOG_ENTRY_BUNDLE_MALFORMED' | 'TLOG_ENTRY_BUNDLE_ENTRY_TOO_LARGE' | 'TLOG_ENTRY_BUNDLE_MISMATCH'
>;

const fail = (code: TilesErrorCode, why: string): never => {
  throw new EphemeraError<TilesErrorCode>(code, why);
};

/** A tile with its bytes: width × 32 bytes of hashes. */
export interface Tile extends TileId {
  data: Uint8Array;
}

/**
 * The Merkle tree a tile's hashes are the leaves of, level by level: levels[0] is the tile
 * (width × 32 bytes), levels[h] the hashes of its aligned perfect subtrees of 2^h hashes
 * (floor(width / 2^h) of them). A full tile's levels[8] is its own hash; a subtree of 2^h
 * hashes at an offset aligned to 2^h is levels[h][offset / 2^h], a lookup. Width − popcount(width)
 * node hashes: 255 for a full tile.
 */
export function tileLevels(data: Uint8Array, hash: Sha256 = nobleSha256): Uint8Array[] {
  const levels = [data];
  const input = new Uint8Array(1 + 2 * HASH_SIZE);
  input[0] = NODE_PREFIX;
  for (let below = data; below.length >= 2 * HASH_SIZE; ) {
    const count = Math.floor(below.length / (2 * HASH_SIZE));
    const next = new Uint8Array(count * HASH_SIZE);
    for (let i = 0; i < count; i++) {
      // RFC 6962 nodeHash (SHA-256(0x01 ‖ left ‖ right)) over adjacent pairs, without an allocation per input.
      input.set(below.subarray(2 * i * HASH_SIZE, (2 * i + 2) * HASH_SIZE), 1);
      next.set(hash(input), i * HASH_SIZE);
    }
    levels.push(next);
    below = next;
  }
  return levels;
}

/** The hash of the perfect subtree of `count` (a power of two) of a tile's hashes at `offset` (aligned to it). */
export function subtreeFromLevels(levels: readonly Uint8Array[], offset: number, count: number): Uint8Array {
  const height = Math.log2(count);
  const at = (offset / count) * HASH_SIZE;
  return levels[height]!.subarray(at, at + HASH_SIZE);
}

/**
 * The root of a tree of `size` leaves from its right edge: the partial tile of each level
 * (`partial(level)`, floor(size / 256^level) mod 256 hashes wide, for the levels where that is
 * not 0). RFC 6962's MTH splits at the largest power of two, so the root folds the perfect
 * subtrees of the size's binary digits, largest (leftmost) first; each of them lies in the
 * partial tile of its level. The empty tree's root is SHA-256 of nothing.
 */
export function rootFromRightEdge(size: number, partial: (level: number) => Uint8Array, hash: Sha256 = nobleSha256): Uint8Array {
  return rootFromEdgeLevels(size, (level) => tileLevels(partial(level), hash), hash);
}

/** rootFromRightEdge over the partial tiles' levels (tileLevels). */
export function rootFromEdgeLevels(size: number, levelsOf: (level: number) => readonly Uint8Array[], hash: Sha256 = nobleSha256): Uint8Array {
  if (size === 0) return hash(new Uint8Array(0));
  const subtrees: Uint8Array[] = [];
  let top = 0;
  while (hashesAtLevel(size, top + 1) > 0) top++;
  for (let level = top; level >= 0; level--) {
    const width = hashesAtLevel(size, level) % TILE_WIDTH;
    if (width === 0) continue;
    const levels = levelsOf(level);
    let offset = 0;
    for (let bit = 7; bit >= 0; bit--) {
      const count = 2 ** bit;
      if ((width & count) === 0) continue;
      subtrees.push(subtreeFromLevels(levels, offset, count));
      offset += count;
    }
  }
  let root = subtrees[subtrees.length - 1]!;
  for (let i = subtrees.length - 2; i >= 0; i--) root = nodeHash(subtrees[i]!, root, hash);
  return root.slice();
}

/**
 * Builds a log's tiles as leaf hashes are appended: it holds only the right edge (the partial
 * tile of each level, at most 255 hashes each), so a log persists the tiles it returns and can
 * resume from the partial tiles of its last size.
 */
export class TileBuilder {
  /** edge[level]: the hashes of the level's partial tile, each 32 bytes. */
  private readonly edge: Uint8Array[][] = [];
  private count = 0;

  constructor(private readonly hash: Sha256 = nobleSha256) {}

  /**
   * A builder that continues a tree of `size` leaves, from its partial tiles (`partial(level)`,
   * called for each level that has one; the tiles must be the tree's own: nothing here can
   * check them against a root, TiledTree does).
   */
  static resume(size: number, partial: (level: number) => Uint8Array, hash: Sha256 = nobleSha256): TileBuilder {
    assertTreeSize(size);
    const builder = new TileBuilder(hash);
    for (let level = 0; hashesAtLevel(size, level) > 0; level++) {
      const width = hashesAtLevel(size, level) % TILE_WIDTH;
      const hashes: Uint8Array[] = [];
      if (width > 0) {
        const data = partial(level);
        if (!(data instanceof Uint8Array) || data.length !== width * HASH_SIZE) fail('TLOG_TILE_SIZE_INVALID', 'a partial tile of the wrong length');
        for (let i = 0; i < width; i++) hashes.push(data.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
      }
      builder.edge.push(hashes);
    }
    builder.count = size;
    return builder;
  }

  get size(): number {
    return this.count;
  }

  /** Appends leaf hashes (RFC 6962 leaf hashes, 32 bytes each); returns the tiles that are new or grew, level by level. */
  append(leafHashes: readonly Uint8Array[]): Tile[] {
    for (const leaf of leafHashes) if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_SIZE) fail('TLOG_TILE_BAD_INPUT', 'a leaf hash is 32 bytes');
    if (!Number.isSafeInteger(this.count + leafHashes.length)) fail('TLOG_TILE_BAD_INPUT', 'the tree would pass 2^53 - 1 leaves');
    const full: Tile[] = [];
    const touched = new Set<number>();
    for (const leaf of leafHashes) {
      let node: Uint8Array = leaf.slice();
      for (let level = 0; ; level++) {
        const hashes = (this.edge[level] ??= []);
        hashes.push(node);
        touched.add(level);
        if (hashes.length < TILE_WIDTH) break;
        const data = concat(hashes);
        full.push({ level, index: Math.floor(hashesAtLevel(this.count + 1, level) / TILE_WIDTH) - 1, width: TILE_WIDTH, data });
        node = tileLevels(data, this.hash)[8]!;
        this.edge[level] = [];
      }
      this.count += 1;
    }
    const partial: Tile[] = [];
    for (const level of touched) {
      const hashes = this.edge[level]!;
      if (hashes.length > 0)
        partial.push({ level, index: Math.floor(hashesAtLevel(this.count, level) / TILE_WIDTH), width: hashes.length, data: concat(hashes) });
    }
    return [...full, ...partial].sort((a, b) => a.level - b.level || a.index - b.index);
  }

  /** The tree's current root (RFC 6962 MTH). */
  root(): Uint8Array {
    return rootFromRightEdge(this.count, (level) => concat(this.edge[level]!), this.hash);
  }
}

function concat(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  for (let i = 0; i < hashes.length; i++) out.set(hashes[i]!, i * HASH_SIZE);
  return out;
}

/** The largest entry a bundle can hold: its length is a big-endian uint16. */
export const MAX_ENTRY_SIZE = 0xffff;

/** "Entry bundles are sequences of big-endian uint16 length-prefixed log entries." At most 256 of them. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'a bundle holds 1 to 256 entries');
  let length = 0;
  for (const entry of entries) {
    if (!(entry instanceof Uint8Array)) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'an entry is bytes');
    if (entry.length > MAX_ENTRY_SIZE) fail('TLOG_ENTRY_BUNDLE_ENTRY_TOO_LARGE', 'an entry longer than 65535 bytes');
    length += 2 + entry.length;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const entry of entries) {
    out[at] = entry.length >>> 8;
    out[at + 1] = entry.length & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

/**
 * Parses a bundle of exactly `width` entries (1..256; the width of its path), strictly: every
 * length prefix whole, every entry whole, nothing after the last. Entries are views into `bytes`.
 */
export function parseEntryBundle(bytes: Uint8Array, width: number): Uint8Array[] {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'a bundle holds 1 to 256 entries');
  if (!(bytes instanceof Uint8Array)) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'a bundle is bytes');
  if (bytes.length < 2 * width || bytes.length > (2 + MAX_ENTRY_SIZE) * width)
    fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'a bundle of impossible length for its width');
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (entries.length === width) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'bytes after the last entry');
    if (at + 2 > bytes.length) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'a truncated length prefix');
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    if (at + 2 + length > bytes.length) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'a truncated entry');
    entries.push(bytes.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  if (entries.length !== width) fail('TLOG_ENTRY_BUNDLE_MALFORMED', 'fewer entries than the bundle is wide');
  return entries;
}

/**
 * Parses a bundle and checks it against its level-0 tile (already authenticated, e.g. by
 * TiledTree): "Each entry in a bundle hashes to the corresponding entry in the corresponding
 * level 0 Merkle Tree tile." Returns the entries.
 */
export function checkEntryBundle(bytes: Uint8Array, tile: Uint8Array, hash: Sha256 = nobleSha256): Uint8Array[] {
  if (!(tile instanceof Uint8Array) || tile.length === 0 || tile.length % HASH_SIZE !== 0 || tile.length > TILE_WIDTH * HASH_SIZE)
    fail('TLOG_TILE_SIZE_INVALID', 'a tile is 1 to 256 hashes of 32 bytes');
  const entries = parseEntryBundle(bytes, tile.length / HASH_SIZE);
  entries.forEach((entry, i) => {
    const expected = tile.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
    const actual = leafHash(entry, hash);
    if (!actual.every((byte, j) => byte === expected[j])) fail('TLOG_ENTRY_BUNDLE_MISMATCH', `entry ${i} does not hash to its leaf hash`);
  });
  return entries;
}
