import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8ToBytes } from '../events/index.js';
import { codeOf } from '../tlog/testing/code-of.js';
import { splitRecords, type RowFormat } from './records.js';

const text = (format: RowFormat, source: string) => splitRecords(format, utf8ToBytes(source)).map((r) => new TextDecoder().decode(r));
const reason = (format: RowFormat, source: string) => {
  try {
    splitRecords(format, utf8ToBytes(source));
    return 'split';
  } catch (error) {
    return `${(error as { code: string }).code} ${(error as { fields: { reason: string } }).fields.reason}`;
  }
};

describe('CSV records (RFC 4180)', () => {
  it('keeps each record as its bytes: quoted commas, doubled quotes, quoted line breaks, LF or CRLF ends', () => {
    expect(text('csv', 'name,note\r\nada,"a, b"\nbob,"say ""hi"""\r\n"multi\nline",x\n')).toEqual([
      'name,note',
      'ada,"a, b"',
      'bob,"say ""hi"""',
      '"multi\nline",x',
    ]);
  });

  it('counts an empty line as a record, a final line without an end as one, and a final end as none', () => {
    expect(text('csv', 'a\n\nb')).toEqual(['a', '', 'b']);
    expect(text('csv', 'a,\n')).toEqual(['a,']);
    expect(text('csv', 'a\r\n')).toEqual(['a']);
    expect(text('csv', '"x"')).toEqual(['"x"']);
  });

  it('refuses broken quoting with its reason (the run still goes on, without a row commitment)', () => {
    for (const source of ['a,b"c\n', '"open\n', '"x"y,1\n', 'a,"b"c'] as const) expect(reason('csv', source)).toBe('ROWS_UNSPLITTABLE csv_quoting');
    expect(reason('csv', '')).toBe('ROWS_UNSPLITTABLE empty');
    expect(codeOf(() => splitRecords('csv', new Uint8Array([0x61, 0xff, 0x0a])))).toBe('ROWS_UNSPLITTABLE');
  });

  it('gives back exactly the records any RFC 4180 writer joined (fast-check)', () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é') });
    const quote = (f: string) => (/[",\n\r]/.test(f) || f === '' ? `"${f.replaceAll('"', '""')}"` : f);
    fc.assert(
      fc.property(
        fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        (rows, crlf, final) => {
          const written = rows.map((row) => row.map(quote).join(','));
          const source = written.join(crlf ? '\r\n' : '\n') + (final ? '\n' : '');
          expect(text('csv', source)).toEqual(written);
        },
      ),
    );
  });
});

describe('JSON records', () => {
  it("takes a JSON array's elements as written, trimmed (strings with commas and brackets, nesting, numbers as they are)", () => {
    expect(text('json', ' [ {"b":1, "a":[1, 2]}, "x,]\\"y", 1.50 ,[[]] ] ')).toEqual(['{"b":1, "a":[1, 2]}', '"x,]\\"y"', '1.50', '[[]]']);
    expect(reason('json', '[ ]')).toBe('ROWS_UNSPLITTABLE empty');
  });

  it('takes JSON Lines, one value per line as written (an array on a line is one record)', () => {
    expect(text('json', '{"z": 1,"a":2}\r\n[1, 2]\n "s" \n')).toEqual(['{"z": 1,"a":2}', '[1, 2]', '"s"']);
  });

  it('refuses what is not JSON, and empty lines', () => {
    for (const source of ['[1,2', '{"a":1}\n\n{"b":2}\n', '[1] [2]', 'nope\n']) expect(reason('json', source)).toBe('ROWS_UNSPLITTABLE json_invalid');
  });
});

describe('text records', () => {
  it('are lines, ended by LF or CRLF; a lone CR stays in its line', () => {
    expect(text('txt', 'one\r\ntwo\rstill two\n\nfour')).toEqual(['one', 'two\rstill two', '', 'four']);
  });
});
