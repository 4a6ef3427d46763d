/**
 * C2SP tlog-tiles paths (docs/transparency.md §5), and which tiles a tree has.
 *
 *   tile/<L>/<N>[.p/<W>]        "<L> … MUST be a decimal ASCII integer between 0 and 63, with no additional
 *   tile/entries/<N>[.p/<W>]     leading zeroes. <N> … zero-padded 3-digit path elements. All but the last
 *                                path element MUST begin with an x. … <W> … between 1 and 255, with no
 *                                additional leading zeroes."
 *
 * A tile is 256 hashes wide when full; a partial tile has 1..255. Numbers are
 * JavaScript safe integers: a tree (and a tile index) never passes 2^53 - 1.
 */
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';

/** Hashes per full tile (tile height 8). */
export const TILE_WIDTH = 256;
export const HASH_SIZE = 32;
const MAX_LEVEL = 63;
/** Longest valid path: "tile/entries/" + six groups (2^53 has 16 digits) + ".p/255". */
const MAX_PATH_LENGTH = 64;

/** A Merkle tree tile: its level, its index within the level, and its width (256: full). */
export interface TileId {
  level: number;
  index: number;
  width: number;
}

/** A parsed path: a tile, or an entry bundle (which follows the level-0 tile of the same index). */
export type TilePath = ({ kind: 'tile' } & TileId) | { kind: 'entries'; index: number; width: number };

export type TilePathErrorCode = Registered<'TLOG_TILE_PATH_INVALID' | 'TLOG_TILE_NOT_IN_TREE' | 'TLOG_TILE_BAD_INPUT'>;

const fail = (code: TilePathErrorCode, why: string): never => {
  throw new EphemeraError<TilePathErrorCode>(code, why);
};

const PATH = /^tile\/(0|[1-9][0-9]?|entries)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/** `tile/<L>/<N>[.p/<W>]`. Throws TLOG_TILE_PATH_INVALID for coordinates the format cannot express. */
export function formatTilePath(tile: TileId): string {
  if (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > MAX_LEVEL) fail('TLOG_TILE_PATH_INVALID', 'a tile level is an integer from 0 to 63');
  return `tile/${tile.level}/${encodeIndex(tile.index)}${widthSuffix(tile.width)}`;
}

/** `tile/entries/<N>[.p/<W>]`. */
export function formatEntryBundlePath(bundle: { index: number; width: number }): string {
  return `tile/entries/${encodeIndex(bundle.index)}${widthSuffix(bundle.width)}`;
}

/** Parses a tile or entry bundle path strictly: the one spelling `format*Path` gives, nothing else. */
export function parseTilePath(path: string): TilePath {
  if (typeof path !== 'string' || path.length > MAX_PATH_LENGTH) return fail('TLOG_TILE_PATH_INVALID', 'not a tile path (too long)');
  const match = PATH.exec(path);
  if (!match) return fail('TLOG_TILE_PATH_INVALID', 'not a tile path');
  const [, levelText, indexText, widthText] = match;
  const groups = indexText!.split('/');
  // "x000/…" would be a second spelling of a smaller number.
  if (groups.length > 1 && groups[0] === 'x000') fail('TLOG_TILE_PATH_INVALID', 'a tile index with a leading zero group');
  let index = 0;
  for (const group of groups) index = index * 1000 + Number(group.startsWith('x') ? group.slice(1) : group);
  if (!Number.isSafeInteger(index)) fail('TLOG_TILE_PATH_INVALID', 'a tile index past 2^53 - 1');
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  if (widthText !== undefined && width >= TILE_WIDTH) fail('TLOG_TILE_PATH_INVALID', 'a partial width is from 1 to 255');
  if (levelText === 'entries') return { kind: 'entries', index, width };
  const level = Number(levelText);
  if (level > MAX_LEVEL) fail('TLOG_TILE_PATH_INVALID', 'a tile level is from 0 to 63');
  return { kind: 'tile', level, index, width };
}

function encodeIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) fail('TLOG_TILE_PATH_INVALID', 'a tile index is a non-negative safe integer');
  let n = index;
  let text = String(n % 1000).padStart(3, '0');
  while (n >= 1000) {
    n = Math.floor(n / 1000);
    text = `x${String(n % 1000).padStart(3, '0')}/${text}`;
  }
  return text;
}

function widthSuffix(width: number): string {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) fail('TLOG_TILE_PATH_INVALID', 'a tile width is from 1 to 256');
  return width === TILE_WIDTH ? '' : `.p/${width}`;
}

export function assertTreeSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) fail('TLOG_TILE_BAD_INPUT', 'a tree size is a non-negative safe integer');
}

/** How many hashes level `level` of the tiling holds for a tree of `size` leaves: floor(size / 256^level). */
export function hashesAtLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The width of tile (level, index) in a tree of `size` leaves: 256 if full, 1..255 for the
 * right edge's partial tile, 0 if the tree has no such tile. "The partial tile at level l for
 * a tree of size s has floor(s / 256**l) mod 256 entries."
 */
export function tileWidth(size: number, level: number, index: number): number {
  const count = hashesAtLevel(size, level);
  return Math.max(0, Math.min(TILE_WIDTH, count - index * TILE_WIDTH));
}

/** Throws TLOG_TILE_NOT_IN_TREE unless a tree of `size` has exactly this tile (this width at this place). */
export function assertTileInTree(size: number, tile: TileId): void {
  assertTreeSize(size);
  if (tile.width < 1 || tileWidth(size, tile.level, tile.index) !== tile.width) fail('TLOG_TILE_NOT_IN_TREE', 'a tree of this size does not have this tile');
}

/**
 * The tiles that a tree of `newSize` has and a tree of `oldSize` does not (changed partial
 * tiles included at their new width), level by level, left to right: what a log publishes when
 * it grows from `oldSize` to `newSize`. `newTiles(0, s)` is every tile of a tree of size s. Entry
 * bundles follow the level-0 tiles (same index and width).
 */
export function newTiles(oldSize: number, newSize: number): TileId[] {
  assertTreeSize(oldSize);
  assertTreeSize(newSize);
  if (oldSize > newSize) fail('TLOG_TILE_BAD_INPUT', 'a tree does not shrink');
  const tiles: TileId[] = [];
  for (let level = 0; hashesAtLevel(newSize, level) > 0; level++) {
    const oldCount = hashesAtLevel(oldSize, level);
    const newCount = hashesAtLevel(newSize, level);
    if (newCount === oldCount) continue;
    // The first tile that changes is the one holding hash oldCount (the old partial tile, or a fresh one).
    for (let index = Math.floor(oldCount / TILE_WIDTH); index * TILE_WIDTH < newCount; index++)
      tiles.push({ level, index, width: Math.min(TILE_WIDTH, newCount - index * TILE_WIDTH) });
  }
  return tiles;
}
