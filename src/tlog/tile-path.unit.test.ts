import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { assertTileInTree, formatEntryBundlePath, formatTilePath, newTiles, parseTilePath, TILE_WIDTH, type TileId, tileWidth } from './tile-path.js';
import { codeOf } from './testing/code-of.js';

describe('tile paths', () => {
  it('spell the index in 3-digit groups, all but the last prefixed x, and partial widths as .p/W', () => {
    expect(formatTilePath({ level: 0, index: 0, width: 256 })).toBe('tile/0/000');
    expect(formatTilePath({ level: 4, index: 1234067, width: 256 })).toBe('tile/4/x001/x234/067');
    expect(formatTilePath({ level: 63, index: 1000, width: 1 })).toBe('tile/63/x001/000.p/1');
    expect(formatTilePath({ level: 1, index: 999, width: 255 })).toBe('tile/1/999.p/255');
    expect(formatEntryBundlePath({ index: 1234067, width: 112 })).toBe('tile/entries/x001/x234/067.p/112');
    expect(formatTilePath({ level: 0, index: Number.MAX_SAFE_INTEGER, width: 256 })).toBe('tile/0/x009/x007/x199/x254/x740/991');
    expect(parseTilePath('tile/4/x001/x234/067')).toEqual({ kind: 'tile', level: 4, index: 1234067, width: 256 });
    expect(parseTilePath('tile/entries/x001/x234/067.p/112')).toEqual({ kind: 'entries', index: 1234067, width: 112 });
    expect(parseTilePath('tile/0/x009/x007/x199/x254/x740/991')).toMatchObject({ index: Number.MAX_SAFE_INTEGER });
  });

  it('refuse coordinates the format cannot express', () => {
    for (const tile of [
      { level: -1, index: 0, width: 256 },
      { level: 64, index: 0, width: 256 },
      { level: 0.5, index: 0, width: 256 },
      { level: 0, index: -1, width: 256 },
      { level: 0, index: 1.5, width: 256 },
      { level: 0, index: 2 ** 53, width: 256 },
      { level: 0, index: 0, width: 0 },
      { level: 0, index: 0, width: 257 },
    ])
      expect(codeOf(() => formatTilePath(tile))).toBe('TLOG_TILE_PATH_INVALID');
  });

  it('refuse every other spelling', () => {
    for (const path of [
      '',
      'tile',
      'tile/',
      'tile/0',
      'tile/0/',
      'tile/0/0',
      'tile/0/00',
      'tile/0/0000',
      'tile/00/000',
      'tile/01/000',
      'tile/64/000',
      'tile/100/000',
      'tile/-1/000',
      'tile/+1/000',
      'tile/data/000',
      'tile/8/0/000',
      'tile/ENTRIES/000',
      'tile/0/x000/001',
      'tile/0/x000/x001/002',
      'tile/0/001/002',
      'tile/0/x001',
      'tile/0/x1/000',
      'tile/0/X001/000',
      'tile/0/x001/x002/',
      'tile/0/000/',
      '/tile/0/000',
      'tile//0/000',
      'tile/0/000 ',
      ' tile/0/000',
      'tile/0/000\r',
      'tile/0/000\n',
      'tile/0/٠٠٠',
      'tile/0/000.p',
      'tile/0/000.p/',
      'tile/0/000.p/0',
      'tile/0/000.p/01',
      'tile/0/000.p/256',
      'tile/0/000.p/1000',
      'tile/0/000.p/1/',
      'tile/0/000.P/1',
      'tile/0/000p/1',
      'tile/0/000.p/1.p/2',
      'tile/entries/000.p/256',
      'tile/entries/0',
      'tile/0/x009/x007/x199/x254/x740/992',
      'tile/0/x999/x999/x999/x999/x999/x999/999',
      `tile/0/${'x001/'.repeat(20)}000`,
    ])
      expect(
        codeOf(() => parseTilePath(path)),
        path,
      ).toBe('TLOG_TILE_PATH_INVALID');
  });

  const tiles = fc.record({ level: fc.integer({ min: 0, max: 63 }), index: fc.maxSafeNat(), width: fc.integer({ min: 1, max: 256 }) });

  it('parse what they format, to the same coordinates (fast-check)', () => {
    fc.assert(
      fc.property(tiles, (tile) => {
        expect(parseTilePath(formatTilePath(tile))).toEqual({ kind: 'tile', ...tile });
        expect(parseTilePath(formatEntryBundlePath(tile))).toEqual({ kind: 'entries', index: tile.index, width: tile.width });
      }),
      { numRuns: 2000 },
    );
  });

  it('accept a string only if it is the one spelling of its coordinates (fast-check)', () => {
    const roundTrips = (path: string) => {
      let parsed: ReturnType<typeof parseTilePath>;
      try {
        parsed = parseTilePath(path);
      } catch (error) {
        expect(isEphemeraError(error) && error.code).toBe('TLOG_TILE_PATH_INVALID');
        return;
      }
      expect(parsed.kind === 'tile' ? formatTilePath(parsed) : formatEntryBundlePath(parsed)).toBe(path);
    };
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'tile/entrsx.p0123456789'.split('')), maxLength: 40 }), roundTrips), { numRuns: 5000 });
    // Valid paths with one character changed, inserted or removed.
    const edited = fc
      .tuple(tiles, fc.nat(), fc.constantFrom(...'/x.p0159'.split('')), fc.constantFrom('replace', 'insert', 'delete'))
      .map(([tile, at, char, edit]) => {
        const path = formatTilePath(tile);
        const i = at % path.length;
        return path.slice(0, i) + (edit === 'delete' ? '' : char) + path.slice(edit === 'insert' ? i : i + 1);
      });
    fc.assert(fc.property(edited, roundTrips), { numRuns: 5000 });
    fc.assert(fc.property(fc.string(), roundTrips), { numRuns: 2000 });
  });
});

describe('the tiles of a tree', () => {
  it("are the spec's: 70,000 leaves make 273 full level-0 tiles and one of 112, a full level-1 tile and one of 17, a level-2 tile of 1", () => {
    const tiles = newTiles(0, 70000);
    const at = (level: number) => tiles.filter((t) => t.level === level);
    expect(at(0)).toHaveLength(274);
    expect(at(0).filter((t) => t.width === 256)).toHaveLength(273);
    expect(at(0)[273]).toEqual({ level: 0, index: 273, width: 112 });
    expect(at(1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(at(2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(tiles).toHaveLength(277);
    // "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"
    expect(newTiles(0, 256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(newTiles(0, 0)).toEqual([]);
    expect(tileWidth(70000, 0, 273)).toBe(112);
    expect(tileWidth(70000, 0, 274)).toBe(0);
    expect(tileWidth(70000, 3, 0)).toBe(0);
  });

  it('that a larger tree adds are exactly those it has and the smaller one has not (fast-check)', () => {
    const key = (t: TileId) => `${t.level}/${t.index}/${t.width}`;
    fc.assert(
      fc.property(fc.nat({ max: 300000 }), fc.nat({ max: 300000 }), (a, b) => {
        const [oldSize, newSize] = a <= b ? [a, b] : [b, a];
        const before = new Set(newTiles(0, oldSize).map(key));
        expect(newTiles(oldSize, newSize).map(key)).toEqual(
          newTiles(0, newSize)
            .map(key)
            .filter((k) => !before.has(k)),
        );
        for (const tile of newTiles(0, newSize)) assertTileInTree(newSize, tile);
      }),
      { numRuns: 300 },
    );
  });

  it('refuse a size that is not a safe integer, a shrinking tree, and a tile the tree does not have', () => {
    expect(codeOf(() => newTiles(0, -1))).toBe('TLOG_TILE_BAD_INPUT');
    expect(codeOf(() => newTiles(0, 2 ** 53))).toBe('TLOG_TILE_BAD_INPUT');
    expect(codeOf(() => newTiles(0, 1.5))).toBe('TLOG_TILE_BAD_INPUT');
    expect(codeOf(() => newTiles(10, 9))).toBe('TLOG_TILE_BAD_INPUT');
    expect(codeOf(() => assertTileInTree(70000, { level: 0, index: 273, width: TILE_WIDTH }))).toBe('TLOG_TILE_NOT_IN_TREE');
    expect(codeOf(() => assertTileInTree(70000, { level: 0, index: 273, width: 111 }))).toBe('TLOG_TILE_NOT_IN_TREE');
    expect(codeOf(() => assertTileInTree(70000, { level: 2, index: 1, width: 1 }))).toBe('TLOG_TILE_NOT_IN_TREE');
    expect(codeOf(() => assertTileInTree(70000, { level: 3, index: 0, width: 0 }))).toBe('TLOG_TILE_NOT_IN_TREE');
    expect(codeOf(() => assertTileInTree(70000, { level: 1, index: 1, width: 17 }))).toBe('no error');
  });
});
