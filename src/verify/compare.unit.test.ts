/** firstDifference: the member-by-member comparison of what the events imply with what a document says. */
import { describe, expect, it } from 'vitest';
import { firstDifference, firstDifferenceInText } from './compare.js';

describe('firstDifference', () => {
  describe('when both sides are equal', () => {
    it.each([
      ['numbers', 1, 1],
      ['strings', 'a', 'a'],
      ['null', null, null],
      ['arrays', [1, [2, 'x']], [1, [2, 'x']]],
      ['objects in another key order', { a: 1, b: { c: [true] } }, { b: { c: [true] }, a: 1 }],
      [
        'objects with own "__proto__" and "toString" members',
        JSON.parse('{"__proto__":{"x":1},"toString":2}'),
        JSON.parse('{"toString":2,"__proto__":{"x":1}}'),
      ],
    ])('finds none between %s', (_what, expected, actual) => {
      expect(firstDifference(expected, actual, 'm')).toBeNull();
    });
  });

  describe('when the values differ at the top', () => {
    it('names the document when no path is given', () => {
      expect(firstDifference(1, 2)).toEqual({ path: '(document)', kind: 'mismatch' });
    });

    it('names the path it was given', () => {
      expect(firstDifference('a', 'b', 'status')).toEqual({ path: 'status', kind: 'mismatch' });
    });

    it.each([
      ['a number expected, an object found', 5, {}],
      ['null expected, an object found', null, {}],
      ['null expected, an object with members found', null, { a: 1 }],
      ['an object expected, null found', { a: 1 }, null],
      ['an object expected, a string found', { a: 1 }, 'ab'],
      ['an object expected, a number found', { a: 1 }, 5],
      ['an object expected, an array found', { 0: 1 }, [1]],
      ['an array expected, an object found', [1], { 0: 1 }],
      ['an array expected, a string found', ['a', 'b'], 'ab'],
    ])('is a mismatch when %s', (_what, expected, actual) => {
      expect(firstDifference(expected, actual, 'x')).toEqual({ path: 'x', kind: 'mismatch' });
    });
  });

  describe('when arrays differ', () => {
    it('is a mismatch of the whole array when the lengths differ', () => {
      expect(firstDifference([1], [1, 2], 'rows')).toEqual({ path: 'rows', kind: 'mismatch' });
      expect(firstDifference([1, 2], [1], 'rows')).toEqual({ path: 'rows', kind: 'mismatch' });
    });

    it('names the first differing element by index', () => {
      expect(firstDifference([1, 2, 3], [1, 5, 6], 'rows')).toEqual({ path: 'rows[1]', kind: 'mismatch' });
    });

    it('names a nested element with the full path', () => {
      expect(firstDifference({ a: [{ b: [0, 1] }] }, { a: [{ b: [0, 2] }] }, 'trace')).toEqual({ path: 'trace.a[0].b[1]', kind: 'mismatch' });
    });
  });

  describe('when objects differ', () => {
    it('names a member the events do not imply as unknown_member', () => {
      expect(firstDifference({ a: 1 }, { a: 1, extra: 1 }, 'result')).toEqual({ path: 'result.extra', kind: 'unknown_member' });
    });

    it("names the first difference in the document's own order", () => {
      expect(firstDifference({ a: 1 }, { extra: 1, a: 2 }, 'result')).toEqual({ path: 'result.extra', kind: 'unknown_member' });
      expect(firstDifference({ a: 1 }, { a: 2, extra: 1 }, 'result')).toEqual({ path: 'result.a', kind: 'mismatch' });
      expect(firstDifference({ a: 1, b: 2 }, { b: 3, a: 4 }, 'result')).toEqual({ path: 'result.b', kind: 'mismatch' });
    });

    it('names a member the document leaves out only after the members it has', () => {
      expect(firstDifference({ a: 1, b: 2 }, { b: 3 }, 'result')).toEqual({ path: 'result.b', kind: 'mismatch' });
    });

    it('names an unknown member at the top without a leading dot', () => {
      expect(firstDifference({ a: 1 }, { a: 1, extra: 1 })).toEqual({ path: 'extra', kind: 'unknown_member' });
    });

    it('names a missing member as a mismatch', () => {
      expect(firstDifference({ a: 1, b: 2 }, { a: 1 }, 'dataset')).toEqual({ path: 'dataset.b', kind: 'mismatch' });
      expect(firstDifference({ a: 1, b: 2 }, { a: 1 })).toEqual({ path: 'b', kind: 'mismatch' });
    });

    it('names a missing member even when the implied value is undefined', () => {
      expect(firstDifference({ a: undefined }, {}, 'x')).toEqual({ path: 'x.a', kind: 'mismatch' });
    });

    it('names a differing member with its path', () => {
      expect(firstDifference({ a: { b: 1 } }, { a: { b: 2 } })).toEqual({ path: 'a.b', kind: 'mismatch' });
    });

    it('does not take an inherited member for an own one', () => {
      expect(firstDifference({ toString: 1 }, {}, 'x')).toEqual({ path: 'x.toString', kind: 'mismatch' });
      expect(firstDifference({}, JSON.parse('{"__proto__":{}}'), 'x')).toEqual({ path: 'x.__proto__', kind: 'unknown_member' });
    });
  });
});

describe('firstDifferenceInText', () => {
  describe('when the text says what the events imply', () => {
    it.each([
      ['numbers, booleans and null', [1, -2.5, 1e21, true, false, null], '[1, -2.5, 1e+21, true, false, null]'],
      ['strings, escaped or not', { a: 'x"y\\z', b: '😀/' }, '{"a": "x\\"y\\\\z", "b": "\\ud83d\\ude00\\/"}'],
      ['objects in another key order, with whitespace of every kind', { a: 1, b: { c: [true] } }, '{\r\n\t"b" : { "c" :[ true ] } ,\n "a":1 }'],
      ['empty objects and arrays', { a: {}, b: [] }, '{"a":{ },"b":[ ]}'],
      ['own "__proto__" and "toString" members', JSON.parse('{"__proto__":{"x":1},"toString":2}'), '{"toString":2,"__proto__":{"x":1}}'],
    ])('finds no difference in %s', (_what, expected, text) => {
      expect(firstDifferenceInText(expected, text, 'm')).toBeNull();
    });
  });

  describe('when it does not', () => {
    it.each([
      ['another number', { a: 1 }, '{"a":2}', { path: 'x.a', kind: 'mismatch' }],
      ['a number for a string', { a: '1' }, '{"a":1}', { path: 'x.a', kind: 'mismatch' }],
      ['a string for a number', { a: 1 }, '{"a":"1"}', { path: 'x.a', kind: 'mismatch' }],
      ['true for false', [false], '[true]', { path: 'x[0]', kind: 'mismatch' }],
      ['false for true', [true], '[false]', { path: 'x[0]', kind: 'mismatch' }],
      ['null for a value', { a: 0 }, '{"a":null}', { path: 'x.a', kind: 'mismatch' }],
      ['a value for null', { a: null }, '{"a":0}', { path: 'x.a', kind: 'mismatch' }],
      ['an escaped string that decodes to another', { a: 'ab' }, '{"a":"a\\u0063"}', { path: 'x.a', kind: 'mismatch' }],
      ['an object for an array', { a: [] }, '{"a":{}}', { path: 'x.a', kind: 'mismatch' }],
      ['an array for an object', { a: {} }, '{"a":[]}', { path: 'x.a', kind: 'mismatch' }],
      ['an object for a number', { a: 1 }, '{"a":{}}', { path: 'x.a', kind: 'mismatch' }],
      ['a member the events do not imply', { a: 1 }, '{"a":1,"b":2}', { path: 'x.b', kind: 'unknown_member' }],
      ['an inherited name', {}, '{"toString":1}', { path: 'x.toString', kind: 'unknown_member' }],
      ['a member left out', { a: 1, b: 2 }, '{"a":1}', { path: 'x.b', kind: 'mismatch' }],
      ['every member left out', { a: 1 }, '{}', { path: 'x.a', kind: 'mismatch' }],
      ['an element more', [1], '[1,2]', { path: 'x[1]', kind: 'mismatch' }],
      ['an element less', [1, 2], '[1]', { path: 'x[1]', kind: 'mismatch' }],
      ['no elements', [1], '[]', { path: 'x[0]', kind: 'mismatch' }],
      ['a nested difference', { a: [{ b: 1 }, { b: 2 }] }, '{"a":[{"b":1},{"b":3}]}', { path: 'x.a[1].b', kind: 'mismatch' }],
    ])('names %s', (_what, expected, text, difference) => {
      expect(firstDifferenceInText(expected, text, 'x')).toEqual(difference);
    });

    it("names the first difference in the text's order", () => {
      expect(firstDifferenceInText({ a: 1, b: 2 }, '{"b":3,"a":4}', 'x')).toEqual({ path: 'x.b', kind: 'mismatch' });
      expect(firstDifferenceInText({ a: 1 }, '{"z":1,"a":4}', 'x')).toEqual({ path: 'x.z', kind: 'unknown_member' });
    });

    it('names the document when no path is given, and members without a leading dot', () => {
      expect(firstDifferenceInText(1, '2')).toEqual({ path: '(document)', kind: 'mismatch' });
      expect(firstDifferenceInText({ a: 1 }, '{"a":2}')).toEqual({ path: 'a', kind: 'mismatch' });
      expect(firstDifferenceInText([1], '[2]')).toEqual({ path: '[0]', kind: 'mismatch' });
    });

    it("agrees with firstDifference on a certificate-shaped value edited anywhere but in an array's length", () => {
      const expected = {
        status: 'completed',
        result: { output: 'ok', exit_code: 0, json: { rows: [1, 2, { n: null }] } },
        trace: { tools: [{ tool: 'bash', count: 2 }] },
      };
      const edits: ((d: typeof expected) => void)[] = [
        (d) => void (d.status = 'failed'),
        (d) => void (d.result.exit_code = 1),
        (d) => void (d.result.json.rows[2] = { n: 0 } as never),
        (d) => void ((d.trace.tools[0] as Record<string, unknown>).extra = 1),
        (d) => void delete (d.result as Partial<typeof d.result>).output,
      ];
      for (const edit of edits) {
        const actual = structuredClone(expected);
        edit(actual);
        const text = JSON.stringify(actual, null, 2);
        expect(firstDifferenceInText(expected, text, 'm'), text).toEqual(firstDifference(expected, actual, 'm'));
      }
    });
  });
});
