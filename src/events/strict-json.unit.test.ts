import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { decodeUtf8Strict, parseStrictJson } from './strict-json.js';
import { StrictObjectStream, type ObjectSink } from './strict-stream.js';

/** A sink that ignores whatever the test does not watch. */
const sink = (parts: Partial<ObjectSink>): ObjectSink => ({
  name: () => undefined,
  member: () => undefined,
  arrayOpened: () => undefined,
  elementStarting: () => undefined,
  element: () => undefined,
  ...parts,
});

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

describe('parseStrictJson, its messages', () => {
  const failure = (text: string, limits = { maxDepth: 4, maxStringLength: 16 }) => {
    try {
      parseStrictJson(text, limits);
      return null;
    } catch (error) {
      return isEphemeraError(error) ? [error.code, error.fields.field, error.message] : ['NOT_EPHEMERA', null, String(error)];
    }
  };

  describe('when the text is valid', () => {
    it.each([
      ['every short escape', '"\\b\\f\\n\\r\\t\\/\\\\\\""', '\b\f\n\r\t/\\"'],
      ['the lowest surrogate pair', '"\\ud800\\udc00"', '\u{10000}'],
      ['the highest surrogate pair', '"\\udbff\\udfff"', '\u{10ffff}'],
      ['a raw high surrogate with an escaped low one', '"\ud83d\\ude00"', '😀'],
      ['a private-use character after the surrogates', '"\\ue000x"', '\ue000x'],
      ['carriage returns and tabs between tokens', '{\r\n\t"a" :\t[ 1 ,\r2 ]\n}', { a: [1, 2] }],
      ['nesting exactly at the default bound (64)', `${'['.repeat(64)}${']'.repeat(64)}`, JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`)],
    ])('parses %s', (_what, text, value) => {
      expect(parseStrictJson(text)).toEqual(value);
    });

    it('counts every escaped character and each half of a pair against the length bound', () => {
      expect(failure(`"${'\\u0041'.repeat(17)}"`)).toEqual([
        'JSON_STRING_TOO_LONG',
        '(document)',
        '(document): a string of 17 characters (at most 16) (character 0)',
      ]);
      expect(failure(`"${'😀'.repeat(8)}"`)).toBeNull();
      expect(failure(`"${'😀'.repeat(8)}x"`)).toEqual([
        'JSON_STRING_TOO_LONG',
        '(document)',
        '(document): a string of 17 characters (at most 16) (character 0)',
      ]);
      expect(failure(`"${'\\ud83d\\ude00'.repeat(8)}x"`)).toEqual([
        'JSON_STRING_TOO_LONG',
        '(document)',
        '(document): a string of 17 characters (at most 16) (character 0)',
      ]);
    });

    it('holds names with escapes to the same duplicate rule, a pair half escaped included', () => {
      expect(failure('{"😀":1,"\ud83d\\ude00":2}')).toEqual(['JSON_DUPLICATE_MEMBER', '😀', '😀: this member name appears twice in one object (character 8)']);
      expect(failure('{"a/":1,"a\\/":2}')).toEqual(['JSON_DUPLICATE_MEMBER', 'a/', 'a/: this member name appears twice in one object (character 8)']);
    });
  });

  describe('when the text is not valid', () => {
    it.each([
      ['0.50', 'JSON_NUMBER_NOT_CANONICAL', '(document)', 'number 0.50 is not in canonical form (write 0.5) (character 0)'],
      ['0e1', 'JSON_NUMBER_NOT_CANONICAL', '(document)', 'number 0e1 is not in canonical form (write 0) (character 0)'],
      ['1e400', 'JSON_NUMBER_NOT_CANONICAL', '(document)', 'number 1e400 is not in canonical form (write a finite number) (character 0)'],
      [`1.${'0'.repeat(38)}`, 'JSON_NUMBER_NOT_CANONICAL', '(document)', `number 1.${'0'.repeat(38)} is not in canonical form (write 1) (character 0)`],
      [`1.${'0'.repeat(39)}`, 'JSON_NUMBER_NOT_CANONICAL', '(document)', `number 1.${'0'.repeat(38)}… is not in canonical form (write 1) (character 0)`],
      ['tx', 'JSON_SYNTAX', '(document)', 'unexpected literal (character 0)'],
      ['[trux]', 'JSON_SYNTAX', '[0]', 'unexpected literal (character 1)'],
      ['[nul1]', 'JSON_SYNTAX', '[0]', 'unexpected literal (character 1)'],
      ['[fals]', 'JSON_SYNTAX', '[0]', 'unexpected literal (character 1)'],
      ['[tr', 'JSON_SYNTAX', '[0]', 'the text ends inside a value (character 1)'],
      ['-x', 'JSON_SYNTAX', '(document)', 'malformed number (character 0)'],
      ['+1', 'JSON_SYNTAX', '(document)', 'unexpected character "+" (character 0)'],
      ['.5', 'JSON_SYNTAX', '(document)', 'unexpected character "." (character 0)'],
      ['x', 'JSON_SYNTAX', '(document)', 'unexpected character "x" (character 0)'],
      ['', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 0)'],
      ['   ', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 3)'],
      ['"\\u00zz"', 'JSON_SYNTAX', '(document)', 'malformed \\u escape (character 1)'],
      ['"\\u12"', 'JSON_SYNTAX', '(document)', 'malformed \\u escape (character 1)'],
      ['"\\u00', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 1)'],
      ['"\\u0041', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 7)'],
      ['"\\', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 1)'],
      ['"ab', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 3)'],
      ['"\\x41"', 'JSON_SYNTAX', '(document)', 'unknown escape in a string (character 1)'],
      ['"a\u001fb"', 'JSON_SYNTAX', '(document)', 'a control character must be escaped in a string (character 2)'],
      ['"\\ud83d', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 7)'],
      ['"\\udfff"', 'JSON_UNPAIRED_SURROGATE', '(document)', 'a low surrogate without a high one before it (character 7)'],
      ['"\\udc00"', 'JSON_UNPAIRED_SURROGATE', '(document)', 'a low surrogate without a high one before it (character 7)'],
      ['"\\ud800\\ue000"', 'JSON_UNPAIRED_SURROGATE', '(document)', 'a high surrogate without a low one after it (character 7)'],
      ['"\\udbff\\udbff"', 'JSON_UNPAIRED_SURROGATE', '(document)', 'a high surrogate without a low one after it (character 7)'],
      ['[1 2]', 'JSON_SYNTAX', '[0]', 'expected "," or "]" in an array (character 3)'],
      ['[1,', 'JSON_SYNTAX', '[1]', 'the text ends inside a value (character 3)'],
      ['[', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 1)'],
      ['[1', 'JSON_SYNTAX', '[0]', 'the text ends inside a value (character 2)'],
      ['{', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 1)'],
      ['{"a"', 'JSON_SYNTAX', '(document)', 'the text ends inside a value (character 4)'],
      ['{"a":', 'JSON_SYNTAX', 'a', 'the text ends inside a value (character 5)'],
      ['{"a":1', 'JSON_SYNTAX', 'a', 'the text ends inside a value (character 6)'],
      ['{"a":1,', 'JSON_SYNTAX', 'a', 'the text ends inside a value (character 7)'],
      ['{"a" 1}', 'JSON_SYNTAX', '(document)', 'expected ":" after a member name (character 5)'],
      ['{a:1}', 'JSON_SYNTAX', '(document)', 'expected a member name (character 1)'],
      ['{"x":{a:1}}', 'JSON_SYNTAX', 'x', 'expected a member name (character 6)'],
      ['{"a":1 "b":2}', 'JSON_SYNTAX', 'a', 'expected "," or "}" in an object (character 7)'],
      ['{"a":{"b":{"c":{"d":{}}}}}', 'JSON_TOO_DEEP', 'a.b.c.d', 'nested deeper than 4 (character 20)'],
      ['[[[[[1]]]]]', 'JSON_TOO_DEEP', '[0][0][0][0]', 'nested deeper than 4 (character 4)'],
    ])('%j is %s at %s: %s', (text, code, field, message) => {
      expect(failure(text)).toEqual([code, field, `${field}: ${message}`]);
    });

    it.each([
      ['\ufeff{}', 'the text starts with a byte-order mark'],
      ['{"a":1}  x', 'text after the end of the value (character 9)'],
    ])('%j is JSON_SYNTAX: %s', (text, message) => {
      expect(failure(text)).toEqual(['JSON_SYNTAX', '(document)', message]);
    });

    it('bounds nesting at 64 by default', () => {
      expect(codeOf(() => parseStrictJson(`${'['.repeat(64)}${']'.repeat(64)}`))).toBeNull();
      expect(() => parseStrictJson(`${'['.repeat(65)}${']'.repeat(65)}`)).toThrow(
        expect.objectContaining({ code: 'JSON_TOO_DEEP', message: `${'[0]'.repeat(64)}: nested deeper than 64 (character 64)` }),
      );
    });

    it('names members under the path it is given', () => {
      expect(() => parseStrictJson('{"a":1.0}', undefined, 'events[2]')).toThrow(
        expect.objectContaining({ code: 'JSON_NUMBER_NOT_CANONICAL', fields: { field: 'events[2].a' } }),
      );
      expect(() => parseStrictJson('1 2', undefined, 'events[2]')).toThrow(expect.objectContaining({ code: 'JSON_SYNTAX', fields: { field: 'events[2]' } }));
    });
  });
});

describe('decodeUtf8Strict', () => {
  it('decodes valid UTF-8 and keeps a byte-order mark as a character', () => {
    expect(decodeUtf8Strict(new Uint8Array([0xef, 0xbb, 0xbf, 0x41, 0xe2, 0x82, 0xac]))).toBe('\ufeffA€');
  });

  it('names the document in its error', () => {
    expect(() => decodeUtf8Strict(new Uint8Array([0xff]))).toThrow(
      expect.objectContaining({ code: 'JSON_INVALID_UTF8', message: 'the text is not valid UTF-8', fields: { field: '(document)' } }),
    );
  });

  it.each([[[0x80]], [[0xc0, 0xaf]], [[0xed, 0xa0, 0x80]], [[0xe2, 0x82]], [[0xff]]])('refuses %j with JSON_INVALID_UTF8', (bytes) => {
    expect(codeOf(() => decodeUtf8Strict(new Uint8Array(bytes)))?.code).toBe('JSON_INVALID_UTF8');
  });
});

describe('StrictObjectStream', () => {
  const read = (text: string, chunk: number) => {
    const seen: unknown[] = [];
    const reader = new StrictObjectStream(
      'items',
      sink({
        member: (n, v) => seen.push(['member', n, JSON.parse(v)]),
        arrayOpened: (n) => seen.push(['open', n]),
        element: (i, v) => seen.push(['element', i, JSON.parse(v)]),
      }),
    );
    for (let i = 0; i < text.length; i += chunk) reader.push(text.slice(i, i + chunk));
    reader.end();
    return seen;
  };
  const doc = JSON.stringify({ a: 'x'.repeat(300), items: [{ n: 1 }, [2, 3], 'four', 5e-7, null], z: { deep: [1, { e: true }] } });

  it.each([1, 2, 3, 7, 64, 100_000])('hands over the same members and elements whatever the chunk size (%i)', (chunk) => {
    expect(read(doc, chunk)).toEqual(read(doc, doc.length));
    expect(read(doc, doc.length)).toEqual([
      ['member', 'a', 'x'.repeat(300)],
      ['open', 'items'],
      ['element', 0, { n: 1 }],
      ['element', 1, [2, 3]],
      ['element', 2, 'four'],
      ['element', 3, 5e-7],
      ['element', 4, null],
      ['member', 'z', { deep: [1, { e: true }] }],
    ]);
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

  describe('when the document breaks a rule, it names it', () => {
    const failure = (text: string) => {
      try {
        read(text, text.length);
        return null;
      } catch (error) {
        return isEphemeraError(error) ? [error.code, error.fields.field, error.message] : ['NOT_EPHEMERA', null, String(error)];
      }
    };
    it.each([
      ['\ufeff{}', 'JSON_SYNTAX', '(document)', '(document): the text starts with a byte-order mark'],
      [' \ufeff{}', 'JSON_SYNTAX', '(document)', '(document): a certificate must be a JSON object'],
      ['[]', 'JSON_SYNTAX', '(document)', '(document): a certificate must be a JSON object'],
      ['{"a":1,}', 'JSON_SYNTAX', '(document)', '(document): expected a member name'],
      ['{a:1}', 'JSON_SYNTAX', '(document)', '(document): expected a member name'],
      ['{"a" 1}', 'JSON_SYNTAX', '(document)', '(document): expected ":" after a member name'],
      ['{"a":1 "b":2}', 'JSON_SYNTAX', '(document)', '(document): expected "," or "}" after a member'],
      ['{"a":1}x', 'JSON_SYNTAX', '(document)', '(document): text after the end of the document'],
      ['{"a":1', 'JSON_SYNTAX', '(document)', '(document): the text ends inside the document'],
      ['{"a":tru', 'JSON_SYNTAX', 'a', /^a: the text ends inside a value \(character \d+\)$/],
      ['{"a":1,', 'JSON_SYNTAX', '(document)', '(document): the text ends inside the document'],
      ['{"a":1,"a":2}', 'JSON_DUPLICATE_MEMBER', 'a', 'a: this member name appears twice in one object'],
      ['{"\\ud800":1}', 'JSON_UNPAIRED_SURROGATE', '(document)', /^\(document\): a high surrogate without a low one after it \(character \d+\)$/],
      ['{"a":{"b":1.0}}', 'JSON_NUMBER_NOT_CANONICAL', 'a.b', /^a\.b: number 1\.0 is not in canonical form \(write 1\) \(character \d+\)$/],
      ['{"items":{}}', 'JSON_SYNTAX', 'items', 'items: expected an array'],
      ['{"items":[1 2]}', 'JSON_SYNTAX', 'items', 'items: expected "," or "]" in the array'],
      [
        '{"items":[1,{"a":1.0}]}',
        'JSON_NUMBER_NOT_CANONICAL',
        'items[1].a',
        /^items\[1\]\.a: number 1\.0 is not in canonical form \(write 1\) \(character \d+\)$/,
      ],
    ])('%j is %s at %s', (text, code, field, message) => {
      // Character positions in a streamed read count from the unread part of the buffer: only their presence is pinned here.
      expect(failure(text)).toEqual([code, field, typeof message === 'string' ? message : expect.stringMatching(message)]);
    });

    it('refuses a byte-order mark after leading whitespace pushed on its own as not an object', () => {
      const reader = new StrictObjectStream('items', sink({}));
      reader.push('  ');
      expect(codeOf(() => reader.push('\ufeff{}'))).toEqual({ code: 'JSON_SYNTAX', field: '(document)' });
      expect(() => reader.end()).toThrow(/a certificate must be a JSON object/);
    });

    it('takes whitespace of every kind between members', () => {
      expect(read('\r\n\t{\r"a"\t:\n1\r,\t"items"\n:\r[\t2\n]\r}\t', 1000)).toEqual([
        ['member', 'a', 1],
        ['open', 'items'],
        ['element', 0, 2],
      ]);
    });

    it('ends an empty document', () => {
      expect(read('{}', 1)).toEqual([]);
      expect(read('{ }', 2)).toEqual([]);
    });
  });

  describe('when a chunk ends inside a value', () => {
    /** Pushes `first`, which must not throw, then `rest`, and ends. */
    const split = (first: string, rest: string) => {
      const seen: unknown[] = [];
      const reader = new StrictObjectStream(
        'items',
        sink({
          member: (n, v) => seen.push(['member', n, JSON.parse(v)]),
          arrayOpened: (n) => seen.push(['open', n]),
          element: (i, v) => seen.push(['element', i, JSON.parse(v)]),
        }),
      );
      reader.push(first);
      reader.push(rest);
      reader.end();
      return seen;
    };

    it.each([
      ['a literal', '{"a":tr', 'ue}', true],
      ['a literal, at its first letter', '{"a":n', 'ull}', null],
      ['a number', '{"a":12', '3}', 123],
      ['a string', '{"a":"ab', 'c"}', 'abc'],
      ['an escape', '{"a":"\\', 'n"}', '\n'],
      ['a \\u escape', '{"a":"\\u00', '41"}', 'A'],
      ['a \\u escape, at its backslash', '{"a":"x\\u', '0041"}', 'xA'],
      ['a surrogate pair', '{"a":"\\ud83d', '\\ude00"}', '😀'],
      ['a raw surrogate pair', '{"a":"\ud83d', '\ude00"}', '😀'],
      ['an object, after its brace', '{"a":{', '"b":1}}', { b: 1 }],
      ['an object, after a name', '{"a":{"b"', ':1}}', { b: 1 }],
      ['an object, after a colon', '{"a":{"b":', '1}}', { b: 1 }],
      ['an object, after a value', '{"a":{"b":1', '}}', { b: 1 }],
      ['an object, after a comma', '{"a":{"b":1,', '"c":2}}', { b: 1, c: 2 }],
      ['an array, after its bracket', '{"a":[', '1]}', [1]],
      ['an array, after a value', '{"a":[1', ']}', [1]],
      ['an array, after a comma', '{"a":[1,', '2]}', [1, 2]],
    ])('waits for the rest of %s', (_what, first, rest, value) => {
      expect(split(first, rest)).toEqual([['member', 'a', value]]);
    });

    it('waits for the rest of an element of the streamed array', () => {
      expect(split('{"items":[{"n":', '1}]}')).toEqual([
        ['open', 'items'],
        ['element', 0, { n: 1 }],
      ]);
    });

    it.each([
      ['a word that is no literal', '{"a":tx', 'unexpected literal'],
      ['a \\u escape that is no hex', '{"a":"\\u0g', 'malformed \\u escape'],
    ])('refuses %s at once', (_what, first, message) => {
      const reader = new StrictObjectStream('items', sink({}));
      expect(() => reader.push(first)).toThrow(message);
    });
  });

  describe('when a value is cut by a chunk boundary', () => {
    const reader = () => {
      const seen: string[] = [];
      return { seen, stream: new StrictObjectStream('items', sink({ member: (n) => seen.push(n) })) };
    };

    it('scans it again once the unread text holds 64 KiB, not before', () => {
      const { seen, stream } = reader();
      stream.push('{"a":"');
      stream.push('x'.repeat(65_536 - 3));
      expect(seen).toEqual([]);
      stream.push('x"');
      expect(seen).toEqual(['a']);
      stream.push(',"b":1}');
      stream.end();
      expect(seen).toEqual(['a', 'b']);
    });

    it('scans it again once the buffer has doubled, not before', () => {
      const { seen, stream } = reader();
      stream.push(`{"z":1,"a":"${'x'.repeat(100_000)}`);
      expect(seen).toEqual(['z']);
      stream.push(`${'x'.repeat(99_999)}"`);
      expect(seen).toEqual(['z']);
      stream.push(',');
      expect(seen).toEqual(['z', 'a']);
    });
  });
});
