import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { StrictObjectStream, decodeUtf8Strict, parseStrictJson } from './strict-json.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (error) {
    return isEphemeraError(error) ? { code: error.code, field: error.fields.field } : { code: 'NOT_EPHEMERA', field: null };
  }
};

describe('parseStrictJson', () => {
  describe('when the text is ordinary JSON', () => {
    it.each([
      ['{"a":1,"b":[true,false,null],"c":"x"}', { a: 1, b: [true, false, null], c: 'x' }],
      ['  [0.5, -2, 1e+21, 1e-7, 123456789012345]  ', [0.5, -2, 1e21, 1e-7, 123456789012345]],
      ['"\\ud83d\\ude00 \\u00e9 \\/"', '😀 é /'],
      ['{"__proto__":{"polluted":true}}', JSON.parse('{"__proto__":{"polluted":true}}')],
    ])('%s parses to the same value as JSON.parse', (text, value) => {
      expect(parseStrictJson(text)).toEqual(value);
    });

    it('keeps "__proto__" as an own member and leaves Object.prototype alone', () => {
      const value = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
      expect(Object.keys(value)).toEqual(['__proto__']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('when the text breaks a rule', () => {
    it.each([
      ['{"a":1,"a":2}', 'JSON_DUPLICATE_MEMBER', 'a'],
      ['{"x":{"b":1,"\\u0062":2}}', 'JSON_DUPLICATE_MEMBER', 'x.b'],
      ['[{"k":1},{"k":1,"k":1}]', 'JSON_DUPLICATE_MEMBER', '[1].k'],
      ['["\\ud800"]', 'JSON_UNPAIRED_SURROGATE', '[0]'],
      ['"\\udc00\\ud800"', 'JSON_UNPAIRED_SURROGATE', '(document)'],
      ['"\ud800"', 'JSON_UNPAIRED_SURROGATE', '(document)'],
      ['{"n":1.0}', 'JSON_NUMBER_NOT_CANONICAL', 'n'],
      ['{"n":-0}', 'JSON_NUMBER_NOT_CANONICAL', 'n'],
      ['{"n":1E3}', 'JSON_NUMBER_NOT_CANONICAL', 'n'],
      ['{"n":9007199254740993}', 'JSON_NUMBER_NOT_CANONICAL', 'n'],
      ['{"n":1e400}', 'JSON_NUMBER_NOT_CANONICAL', 'n'],
      ['{"n":01}', 'JSON_SYNTAX', 'n'],
      ['[1,]', 'JSON_SYNTAX', '[1]'],
      ['{"a":1}x', 'JSON_SYNTAX', '(document)'],
      ['\ufeff{}', 'JSON_SYNTAX', '(document)'],
      ['"tab\there"', 'JSON_SYNTAX', '(document)'],
      ['', 'JSON_SYNTAX', '(document)'],
      ['[[[[[1]]]]]', 'JSON_TOO_DEEP', '[0][0][0][0]'],
      ['["0123456789abcdefX"]', 'JSON_STRING_TOO_LONG', '[0]'],
    ])('%j is %s at %s', (text, code, field) => {
      expect(codeOf(() => parseStrictJson(text, { maxDepth: 4, maxStringLength: 16 }))).toEqual({ code, field });
    });

    it('counts string length after decoding escapes (six characters of escape are one)', () => {
      expect(codeOf(() => parseStrictJson(`"${'\\u0041'.repeat(16)}"`, { maxDepth: 4, maxStringLength: 16 }))).toBeNull();
    });
  });
});

describe('decodeUtf8Strict', () => {
  it.each([[[0x80]], [[0xc0, 0xaf]], [[0xed, 0xa0, 0x80]], [[0xe2, 0x82]], [[0xff]]])('refuses %j with JSON_INVALID_UTF8', (bytes) => {
    expect(codeOf(() => decodeUtf8Strict(new Uint8Array(bytes)))?.code).toBe('JSON_INVALID_UTF8');
  });
});

describe('StrictObjectStream', () => {
  const read = (text: string, chunk: number) => {
    const seen: unknown[] = [];
    const reader = new StrictObjectStream('items', { member: (n, v) => seen.push(['member', n, v]), arrayOpened: (n) => seen.push(['open', n]), element: (i, v) => seen.push(['element', i, v]) });
    for (let i = 0; i < text.length; i += chunk) reader.push(text.slice(i, i + chunk));
    reader.end();
    return seen;
  };
  const doc = JSON.stringify({ a: 'x'.repeat(300), items: [{ n: 1 }, [2, 3], 'four', 5e-7, null], z: { deep: [1, { e: true }] } });

  it.each([1, 2, 3, 7, 64, 100_000])('hands over the same members and elements whatever the chunk size (%i)', (chunk) => {
    expect(read(doc, chunk)).toEqual(read(doc, doc.length));
    expect(read(doc, doc.length)).toEqual([['member', 'a', 'x'.repeat(300)], ['open', 'items'], ['element', 0, { n: 1 }], ['element', 1, [2, 3]], ['element', 2, 'four'], ['element', 3, 5e-7], ['element', 4, null], ['member', 'z', { deep: [1, { e: true }] }]]);
  });

  it('announces an empty array', () => {
    expect(read('{"items":[]}', 3)).toEqual([['open', 'items']]);
  });

  it.each([
    ['{"a":1,"a":2}', 'JSON_DUPLICATE_MEMBER'],
    ['{"items":{}}', 'JSON_SYNTAX'],
    ['{"items":[1,]}', 'JSON_SYNTAX'],
    ['{"items":[1]', 'JSON_SYNTAX'],
    ['{"a":1}{}', 'JSON_SYNTAX'],
    ['[]', 'JSON_SYNTAX'],
    ['{"items":[{"k":1,"k":2}]}', 'JSON_DUPLICATE_MEMBER'],
    ['{"items":[1.50]}', 'JSON_NUMBER_NOT_CANONICAL'],
  ])('refuses %j with %s, in chunks of 2', (text, code) => {
    expect(codeOf(() => read(text, 2))?.code).toBe(code);
  });
});
