import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8ToBytes } from '../events/index.js';
import { codeOf } from '../tlog/testing/code-of.js';
import { commitRecords } from './commitment.js';
import { nodeRowCrypto } from './node.js';
import type { RowFormat } from './records.js';
import { RowCommitter, type RowCommitResult } from './stream.js';

const SECRET = new Uint8Array(32).map((_, i) => i * 7 + 1);

/** What the whole-dataset functions say: commitRecords' count and root, or splitRecords' reason. */
function whole(format: RowFormat, bytes: Uint8Array): RowCommitResult {
  try {
    const { commitment } = commitRecords(format, bytes, SECRET, nodeRowCrypto);
    // `[ ]` splits into no records; the committer calls that `empty`, as the event's count is at least 1.
    if (commitment.count === 0) return { committed: false, reason: 'empty' };
    return { committed: true, count: commitment.count, root: commitment.root };
  } catch (error) {
    const reason = (error as { fields?: { reason?: string } }).fields?.reason;
    if (reason === undefined) throw error;
    return { committed: false, reason } as RowCommitResult;
  }
}

/**
 * The dataset cut at `cuts` and pushed chunk by chunk. Each chunk is a copy the test overwrites right after the
 * push, as a reader reusing its buffer would: what the committer keeps of it must be its own.
 */
function streamed(format: RowFormat, bytes: Uint8Array, cuts: number[], crypto = nodeRowCrypto): RowCommitResult {
  const committer = new RowCommitter(format, SECRET, crypto);
  const ends = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...ends, bytes.length]) {
    const chunk = bytes.slice(start, Math.max(start, end));
    committer.push(chunk);
    chunk.fill(0x22);
    start = Math.max(start, end);
  }
  return committer.finish();
}

const oneByteCuts = (bytes: Uint8Array) => Array.from({ length: bytes.length }, (_, i) => i + 1);

/** Bytes that matter to some splitter, and some that are not UTF-8 (a lone lead, a lone continuation, a surrogate, 0xff). */
const noise = fc.constantFrom(
  ...[',', '"', '\n', '\r', '[', ']', '{', '}', '\\', ' ', 'a', '1', 'é', '€', '😀'].map(utf8ToBytes),
  new Uint8Array([0xff]),
  new Uint8Array([0xc3]),
  new Uint8Array([0x80]),
  new Uint8Array([0xed, 0xa0, 0x80]),
  new Uint8Array([0xf0, 0x9f]),
);

/** A valid dataset, then a few bytes inserted or removed: most of what comes out is nearly valid, some of it is. */
const mutated = (valid: fc.Arbitrary<string>) =>
  fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.boolean(), noise), { maxLength: 3 })).map(([source, edits]) => {
    let bytes = utf8ToBytes(source);
    for (const [at, insert, piece] of edits) {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      const next = insert ? [bytes.subarray(0, i), piece, bytes.subarray(i)] : [bytes.subarray(0, i), bytes.subarray(i + 1)];
      bytes = Uint8Array.from(next.flatMap((part) => [...part]));
    }
    return bytes;
  });

const lineEnd = fc.constantFrom('\n', '\r\n');
const csvField = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', '😀'), maxLength: 6 });
const csvQuoted = (field: string) => (/[",\n\r]/.test(field) || field === '' ? `"${field.replaceAll('"', '""')}"` : field);
const csv = fc
  .tuple(fc.array(fc.array(csvField, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }), lineEnd, fc.boolean())
  .map(([rows, end, final]) => rows.map((row) => row.map(csvQuoted).join(',')).join(end) + (final ? end : ''));

const space = fc.constantFrom('', ' ', '\n', '\r\n', '\t', ' \n ');
const jsonArray = fc
  .tuple(fc.array(fc.tuple(fc.jsonValue({ maxDepth: 3 }), space, space), { maxLength: 6 }), space, space)
  .map(([values, before, after]) => `${before}[${values.map(([value, a, b]) => `${a}${JSON.stringify(value)}${b}`).join(',')}]${after}`);
const jsonLines = fc
  .tuple(fc.array(fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('', ' ', '\t')), { minLength: 1, maxLength: 6 }), lineEnd, fc.boolean())
  .map(([values, end, final]) => values.map(([value, pad]) => `${pad}${JSON.stringify(value, null, 0)}${pad}`).join(end) + (final ? end : ''));
const txt = fc.string({ unit: fc.constantFrom('a', ' ', '\n', '\r', 'é', '€', '😀', '"'), maxLength: 40 });

const cuts = fc.array(fc.nat(), { maxLength: 8 });

describe('RowCommitter ≡ commitRecords / splitRecords, for any chunking', () => {
  const cases: [RowFormat, fc.Arbitrary<string>][] = [
    ['csv', csv],
    ['json', fc.oneof(jsonArray, jsonLines)],
    ['txt', txt],
  ];
  for (const [format, valid] of cases) {
    it(`${format}: the same root and count, or the same reason (valid and broken datasets, random and 1-byte chunks) (fast-check)`, () => {
      let committed = 0;
      let refused = 0;
      fc.assert(
        fc.property(fc.oneof(mutated(valid), valid.map(utf8ToBytes)), cuts, (bytes, at) => {
          const expected = whole(format, bytes);
          expect(streamed(format, bytes, at)).toEqual(expected);
          expect(streamed(format, bytes, oneByteCuts(bytes))).toEqual(expected);
          if (expected.committed) committed++;
          else refused++;
        }),
        { numRuns: 400 },
      );
      // Both sides of the equivalence were exercised, not only refusals.
      expect(committed).toBeGreaterThan(40);
      expect(refused).toBeGreaterThan(20);
    });
  }

  it('gives the same root with the default (@noble/hashes) and with node:crypto', () => {
    const bytes = utf8ToBytes('id,note\n1,"a, ""b"""\r\n2,é\n');
    const noble = streamed('csv', bytes, [3, 9, 17], undefined);
    expect(noble).toEqual(streamed('csv', bytes, [5]));
    expect(noble).toEqual({ committed: true, count: 3, root: commitRecords('csv', bytes, SECRET).commitment.root });
  });

  it('commits a 10,000-row CSV pushed in 64 KiB chunks exactly as commitRecords does', () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => `${i},"name ${i}, ""quoted""\nsecond line",é${i}\r`);
    const bytes = utf8ToBytes(`id,name,note\r\n${rows.join('\r\n')}\n`);
    const cuts = Array.from({ length: Math.floor(bytes.length / 65_536) }, (_, i) => (i + 1) * 65_536);
    const expected = commitRecords('csv', bytes, SECRET, nodeRowCrypto).commitment;
    expect(expected.count).toBe(10_001);
    expect(streamed('csv', bytes, cuts)).toEqual({ committed: true, count: expected.count, root: expected.root });
  });
});

describe('RowCommitter with records longer than its chunks', () => {
  it('commits records of 300 KB pushed 1,000 bytes at a time, as commitRecords does', () => {
    const long = 'x"y,\\'.repeat(60_000);
    const cases: [RowFormat, string][] = [
      ['json', `[${JSON.stringify(long)}, {"a": ${JSON.stringify(long)}}, 1]`],
      ['csv', `"${long.replaceAll('"', '""')}",2\r\nshort\n"${long.replaceAll('"', '""')}"`],
      ['txt', `${long}\r\n${long}`],
    ];
    for (const [format, source] of cases) {
      const bytes = utf8ToBytes(source);
      const cuts = Array.from({ length: Math.floor(bytes.length / 1000) }, (_, i) => (i + 1) * 1000);
      const expected = whole(format, bytes);
      expect(expected.committed).toBe(true);
      expect(streamed(format, bytes, cuts)).toEqual(expected);
    }
  });
});

describe('RowCommitter refusals', () => {
  const reasonOf = (format: RowFormat, parts: (string | number[])[]) => {
    const committer = new RowCommitter(format, SECRET, nodeRowCrypto);
    for (const part of parts) committer.push(typeof part === 'string' ? utf8ToBytes(part) : new Uint8Array(part));
    const result = committer.finish();
    return result.committed ? 'committed' : result.reason;
  };

  it('ranks bytes that are not UTF-8 above broken quoting, wherever they come', () => {
    expect(reasonOf('csv', ['a"b\n', 'ok\n'])).toBe('csv_quoting');
    expect(reasonOf('csv', ['a"b\n', 'ok\n', [0xc3]])).toBe('not_utf8');
    expect(reasonOf('txt', ['fine\n', [0xe2, 0x82], [0xac], '\n'])).toBe('committed');
    expect(reasonOf('txt', ['fine\n', [0xe2, 0x82]])).toBe('not_utf8');
    expect(reasonOf('json', ['[1,', [0xff], ']'])).toBe('json_invalid');
  });

  it('refuses an array closed by the wrong bracket, or followed by more than whitespace, as JSON.parse of the whole does', () => {
    expect(reasonOf('json', ['[1', '}'])).toBe('json_invalid');
    expect(reasonOf('json', ['[{"a":[1}', ']'])).toBe('json_invalid');
    expect(reasonOf('json', ['[1] ', '\n x'])).toBe('json_invalid');
    expect(reasonOf('json', ['[1] ', '\r\n\t'])).toBe('committed');
  });

  it("refuses more than MAX_RECORDS records, below the format's own reasons", () => {
    class ThreeAtMost extends RowCommitter {
      protected override readonly maxRecords = 3;
    }
    const reason = (source: string) => {
      const committer = new ThreeAtMost('csv', SECRET, nodeRowCrypto);
      committer.push(utf8ToBytes(source));
      const result = committer.finish();
      return result.committed ? result.count : result.reason;
    };
    expect(reason('a\nb\nc')).toBe(3);
    expect(reason('a\nb\nc\nd')).toBe('too_many_records');
    expect(reason('a\nb\nc\nd\n"open')).toBe('csv_quoting');
  });

  it('calls no bytes, and an array of no elements, empty', () => {
    expect(reasonOf('csv', [])).toBe('empty');
    expect(reasonOf('csv', ['', ''])).toBe('empty');
    expect(reasonOf('json', [' [ ', ' ] '])).toBe('empty');
    expect(reasonOf('json', ['[1', ',]'])).toBe('json_invalid');
  });

  it('refuses a secret that is not 32 bytes, and bytes after finish', () => {
    expect(codeOf(() => new RowCommitter('csv', new Uint8Array(31)))).toBe('ROWS_BAD_INPUT');
    const committer = new RowCommitter('txt', SECRET);
    committer.push(utf8ToBytes('a'));
    const result = committer.finish();
    expect(committer.finish()).toEqual(result);
    expect(codeOf(() => committer.push(utf8ToBytes('b')))).toBe('ROWS_BAD_INPUT');
  });
});
