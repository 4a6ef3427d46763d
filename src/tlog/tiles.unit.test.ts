import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { leafHash, rootFromLeafHashes } from '../attest/merkle.js';
import { isEphemeraError } from '../errors.js';
import { newTiles } from './tile-path.js';
import { checkEntryBundle, encodeEntryBundle, MAX_ENTRY_SIZE, parseEntryBundle, type Tile, TileBuilder } from './tiles.js';
import { codeOf } from './testing/code-of.js';

const entry = (i: number) => new TextEncoder().encode(`entry ${i}`);
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(entry(i)));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The spec's definition: hash i of tile (l, n) is MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l]), for the hashes that exist. */
function referenceTile(all: Uint8Array[], size: number, level: number, index: number, width: number): Uint8Array {
  const span = 256 ** level;
  const out = new Uint8Array(width * 32);
  for (let i = 0; i < width; i++) {
    const lo = (index * 256 + i) * span;
    expect(lo + span).toBeLessThanOrEqual(size);
    out.set(rootFromLeafHashes(all.slice(lo, lo + span)), i * 32);
  }
  return out;
}

describe('TileBuilder', () => {
  const all = leaves(70000);

  it('returns, per append, exactly the new and grown tiles, each as the spec defines it, and the root of every size', () => {
    const builder = new TileBuilder();
    const latest = new Map<string, Tile>();
    let size = 0;
    for (const batch of [1, 1, 253, 1, 1, 255, 256, 1, 3000, 61767, 1, 1, 1, 4461]) {
      const tiles = builder.append(all.slice(size, size + batch));
      expect(tiles.map(({ level, index, width }) => ({ level, index, width }))).toEqual(newTiles(size, size + batch));
      size += batch;
      expect(builder.size).toBe(size);
      for (const tile of tiles) {
        expect(hex(tile.data), `${size} ${tile.level}/${tile.index}`).toBe(hex(referenceTile(all, size, tile.level, tile.index, tile.width)));
        latest.set(`${tile.level}/${tile.index}`, tile);
      }
      expect(hex(builder.root())).toBe(hex(rootFromLeafHashes(all.slice(0, size))));
    }
    expect(size).toBe(70000);
    expect(latest.size).toBe(277);
  });

  it('resumes from the partial tiles of its size and goes on as if it had never stopped (fast-check)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 3000 }), fc.nat({ max: 700 }), (first, more) => {
        const whole = new TileBuilder();
        const partials = new Map<number, Uint8Array>();
        for (const tile of whole.append(all.slice(0, first))) if (tile.width < 256) partials.set(tile.level, tile.data);
        const resumed = TileBuilder.resume(first, (level) => partials.get(level)!);
        expect(resumed.size).toBe(first);
        expect(hex(resumed.root())).toBe(hex(whole.root()));
        const a = whole.append(all.slice(first, first + more));
        const b = resumed.append(all.slice(first, first + more));
        expect(b.map((t) => [t.level, t.index, t.width, hex(t.data)])).toEqual(a.map((t) => [t.level, t.index, t.width, hex(t.data)]));
        expect(hex(resumed.root())).toBe(hex(whole.root()));
      }),
      { numRuns: 40 },
    );
  });

  it('has the empty root of RFC 6962 (SHA-256 of nothing) before any leaf', () => {
    expect(hex(new TileBuilder().root())).toBe(createHash('sha256').digest('hex'));
    expect(new TileBuilder().append([])).toEqual([]);
  });

  it('refuses a leaf hash that is not 32 bytes (and appends nothing of that batch), and a partial tile of the wrong length', () => {
    const builder = new TileBuilder();
    expect(codeOf(() => builder.append([all[0]!, new Uint8Array(31)]))).toBe('TLOG_TILE_BAD_INPUT');
    expect(codeOf(() => builder.append(['x' as unknown as Uint8Array]))).toBe('TLOG_TILE_BAD_INPUT');
    expect(builder.size).toBe(0);
    expect(codeOf(() => TileBuilder.resume(3, () => new Uint8Array(64)))).toBe('TLOG_TILE_SIZE_INVALID');
    expect(codeOf(() => TileBuilder.resume(-1, () => new Uint8Array(0)))).toBe('TLOG_TILE_BAD_INPUT');
    expect(codeOf(() => TileBuilder.resume(2 ** 53 - 1, () => new Uint8Array(0)))).toBe('TLOG_TILE_SIZE_INVALID');
  });
});

describe('entry bundles', () => {
  it('are u16be length-prefixed entries', () => {
    expect([...encodeEntryBundle([new Uint8Array([7]), new Uint8Array(0), new Uint8Array(258).fill(1)]).subarray(0, 8)]).toEqual([0, 1, 7, 0, 0, 1, 2, 1]);
    const big = new Uint8Array(MAX_ENTRY_SIZE).fill(9);
    const bundle = encodeEntryBundle([big]);
    expect(bundle.length).toBe(MAX_ENTRY_SIZE + 2);
    expect([...bundle.subarray(0, 2)]).toEqual([0xff, 0xff]);
    expect(parseEntryBundle(bundle, 1)[0]).toEqual(big);
  });

  it('parse what they encode (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 256 }), (entries) => {
        const parsed = parseEntryBundle(encodeEntryBundle(entries), entries.length);
        expect(parsed.map(hex)).toEqual(entries.map(hex));
      }),
      { numRuns: 200 },
    );
  });

  it('accept bytes only if they are exactly `width` entries: any bytes either re-encode to themselves or are refused (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (bytes, width) => {
        let parsed: Uint8Array[];
        try {
          parsed = parseEntryBundle(bytes, width);
        } catch (error) {
          expect(isEphemeraError(error) && error.code).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
          return;
        }
        expect(hex(encodeEntryBundle(parsed))).toBe(hex(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('refuse truncation, trailing bytes, a wrong count, an impossible width, and an entry past 65535 bytes', () => {
    const two = encodeEntryBundle([entry(0), entry(1)]);
    expect(codeOf(() => parseEntryBundle(two, 3))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(two, 1))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(two.subarray(0, two.length - 1), 2))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(new Uint8Array([...two, 0]), 2))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(new Uint8Array([...two, 0, 0]), 2))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(new Uint8Array([0]), 1))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(new Uint8Array(0), 1))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(new Uint8Array([0, 5, 1, 2]), 1))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(two, 0))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle(two, 257))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => parseEntryBundle('ab' as unknown as Uint8Array, 1))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    // Longer than 256 entries of 65535 bytes could ever be: refused before reading.
    expect(codeOf(() => parseEntryBundle(new Uint8Array(3 * 65537 + 1), 3))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => encodeEntryBundle([]))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => encodeEntryBundle(leaves(257)))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => encodeEntryBundle([new Uint8Array(MAX_ENTRY_SIZE + 1)]))).toBe('TLOG_ENTRY_BUNDLE_ENTRY_TOO_LARGE');
  });

  it('are checked against their level-0 tile: every entry must hash to its leaf hash', () => {
    const entries = Array.from({ length: 300 }, (_, i) => entry(i));
    const [full, partial] = new TileBuilder().append(entries.map((e) => leafHash(e)));
    expect(checkEntryBundle(encodeEntryBundle(entries.slice(0, 256)), full!.data).map(hex)).toEqual(entries.slice(0, 256).map(hex));
    expect(checkEntryBundle(encodeEntryBundle(entries.slice(256)), partial!.data)).toHaveLength(44);
    const swapped = [...entries.slice(256)];
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    expect(codeOf(() => checkEntryBundle(encodeEntryBundle(swapped), partial!.data))).toBe('TLOG_ENTRY_BUNDLE_MISMATCH');
    expect(codeOf(() => checkEntryBundle(encodeEntryBundle(entries.slice(256, 299)), partial!.data))).toBe('TLOG_ENTRY_BUNDLE_MALFORMED');
    expect(codeOf(() => checkEntryBundle(encodeEntryBundle(entries.slice(256)), partial!.data.subarray(1)))).toBe('TLOG_TILE_SIZE_INVALID');
    expect(codeOf(() => checkEntryBundle(encodeEntryBundle(entries.slice(256)), new Uint8Array(0)))).toBe('TLOG_TILE_SIZE_INVALID');
    expect(codeOf(() => checkEntryBundle(encodeEntryBundle(entries.slice(256)), new Uint8Array(257 * 32)))).toBe('TLOG_TILE_SIZE_INVALID');
  });
});
