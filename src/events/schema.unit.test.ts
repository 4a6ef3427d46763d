/** The schema language: each combinator's first problem, with its kind, path and reason. */
import { describe, expect, it } from 'vitest';
import { HASH_TEXT_PATTERN, isPlainObject, isTimestamp, s } from './schema.js';

const HASH = `sha256:${'ab'.repeat(32)}`;
const ok = (schema: { check: (v: unknown, p: string) => unknown }, value: unknown) => schema.check(value, 'x');
const invalid = (path: string, reason: string) => ({ kind: 'invalid', path, reason });

describe('isTimestamp', () => {
  describe('when the time is in the profile and on the calendar', () => {
    it.each(['2026-02-28T23:59:59.999Z', '2024-02-29T00:00:00.000Z', '1970-01-01T00:00:00.000Z'])('accepts %s', (t) => {
      expect(isTimestamp(t)).toBe(true);
    });
  });

  describe('when it is not', () => {
    it.each([
      ['no milliseconds', '2026-02-28T23:59:59Z'],
      ['an offset', '2026-02-28T23:59:59.999+00:00'],
      ['text before it', 'x2026-02-28T23:59:59.999Z'],
      ['text after it', '2026-02-28T23:59:59.999Zx'],
      ['February 30', '2026-02-30T00:00:00.000Z'],
      ['February 29 of a common year', '2026-02-29T00:00:00.000Z'],
      ['24:00', '2026-02-28T24:00:00.000Z'],
      ['a leap second', '2016-12-31T23:59:60.000Z'],
      ['month 13', '2026-13-01T00:00:00.000Z'],
      ['a number', 1767225600000],
      ['an array holding a time', ['2026-02-28T23:59:59.999Z']],
    ])('refuses %s', (_what, t) => {
      expect(isTimestamp(t)).toBe(false);
    });
  });
});

describe('isPlainObject', () => {
  it.each([
    ['a literal object', {}, true],
    ['a null-prototype object', Object.create(null), true],
    ['null', null, false],
    ['an array', [], false],
    ['a Date', new Date(0), false],
    ['an object inheriting from another', Object.create({ a: 1 }), false],
    ['a string', 'x', false],
  ])('says %s is %s', (_what, value, expected) => {
    expect(isPlainObject(value)).toBe(expected);
  });
});

describe('s', () => {
  describe('string', () => {
    it('accepts a string up to its bound and refuses a longer one or another type', () => {
      expect(ok(s.string(3), 'abc')).toBeNull();
      expect(ok(s.string(3), 'abcd')).toEqual(invalid('x', 'expected a string of at most 3 characters'));
      expect(ok(s.string(), 'a'.repeat(4096))).toBeNull();
      expect(ok(s.string(), 'a'.repeat(4097))).toEqual(invalid('x', 'expected a string of at most 4096 characters'));
      expect(ok(s.string(3), 3)).toEqual(invalid('x', 'expected a string of at most 3 characters'));
    });
  });

  describe('pattern', () => {
    it('accepts a string matching its pattern and refuses anything else', () => {
      const lower = s.pattern(/^[a-z]+$/, 'lowercase letters');
      expect(ok(lower, 'abc')).toBeNull();
      expect(ok(lower, 'aBc')).toEqual(invalid('x', 'expected lowercase letters'));
      expect(ok(lower, ['abc'])).toEqual(invalid('x', 'expected lowercase letters'));
    });
  });

  describe('hash', () => {
    it('accepts sha256:<64 lowercase hex> only', () => {
      expect(HASH_TEXT_PATTERN.test(HASH)).toBe(true);
      expect(ok(s.hash(), HASH)).toBeNull();
      for (const bad of [`x${HASH}`, `${HASH}0`, HASH.toUpperCase(), [HASH], 7])
        expect(ok(s.hash(), bad)).toEqual(invalid('x', 'expected sha256:<64 lowercase hex>'));
    });
  });

  describe('hex', () => {
    it('accepts lowercase hex of an even length, of the given length, within the bound', () => {
      expect(ok(s.hex(), '')).toBeNull();
      expect(ok(s.hex(), '0a')).toBeNull();
      expect(ok(s.hex(4), 'abcd')).toBeNull();
      expect(ok(s.hex(undefined, 4), 'abcd')).toBeNull();
    });

    it.each([
      ['odd length', s.hex(), 'abc', 'expected lowercase hex'],
      ['uppercase', s.hex(), 'AB', 'expected lowercase hex'],
      ['not hex', s.hex(), 'zz', 'expected lowercase hex'],
      ['not a string', s.hex(), ['ab'], 'expected lowercase hex'],
      ['over the bound', s.hex(undefined, 4), 'abcdef', 'expected lowercase hex'],
      ['another length', s.hex(4), 'ab', 'expected lowercase hex of 4 characters'],
      ['another, odd length', s.hex(4), 'abcde', 'expected lowercase hex of 4 characters'],
    ])('refuses %s', (_what, schema, value, reason) => {
      expect(ok(schema, value)).toEqual(invalid('x', reason));
    });

    it('bounds hex at 4 Mi characters by default', () => {
      expect(ok(s.hex(), '0'.repeat(1 << 22))).toBeNull();
      expect(ok(s.hex(), '0'.repeat((1 << 22) + 2))).toEqual(invalid('x', 'expected lowercase hex'));
    });
  });

  describe('timestamp', () => {
    it('accepts a time in the profile and refuses another with the timestamp kind', () => {
      expect(ok(s.timestamp(), '2026-02-01T13:15:00.000Z')).toBeNull();
      expect(ok(s.timestamp(), '2026-02-01T13:15:00Z')).toEqual({
        kind: 'timestamp',
        path: 'x',
        reason: 'expected an RFC 3339 UTC time with milliseconds (YYYY-MM-DDTHH:MM:SS.mmmZ) on a real calendar date',
      });
    });
  });

  describe('int', () => {
    it('accepts integers within its bounds, the bounds included', () => {
      expect(ok(s.int(1, 3), 1)).toBeNull();
      expect(ok(s.int(1, 3), 3)).toBeNull();
      expect(ok(s.int(), Number.MAX_SAFE_INTEGER)).toBeNull();
    });

    it('refuses values outside them, non-integers and non-numbers', () => {
      expect(ok(s.int(1, 3), 0)).toEqual(invalid('x', 'expected an integer in [1, 3]'));
      expect(ok(s.int(1, 3), 4)).toEqual(invalid('x', 'expected an integer in [1, 3]'));
      expect(ok(s.int(), -1)).toEqual(invalid('x', `expected an integer in [0, ${Number.MAX_SAFE_INTEGER}]`));
      expect(ok(s.int(), '1')).toEqual(invalid('x', 'expected an integer'));
      expect(ok(s.int(), 1.5)).toEqual({ kind: 'not_safe_integer', path: 'x', reason: 'expected an exact integer of at most 2^53-1, found 1.5' });
      expect(ok(s.int(), 2 ** 53)).toEqual({
        kind: 'not_safe_integer',
        path: 'x',
        reason: 'expected an exact integer of at most 2^53-1, found 9007199254740992',
      });
    });
  });

  describe('bool, literal, oneOf', () => {
    it('accept exactly their values', () => {
      expect([ok(s.bool(), true), ok(s.bool(), false)]).toEqual([null, null]);
      expect(ok(s.bool(), 0)).toEqual(invalid('x', 'expected a boolean'));
      expect(ok(s.literal('a'), 'a')).toBeNull();
      expect(ok(s.literal('a'), 'b')).toEqual(invalid('x', 'expected "a"'));
      expect(ok(s.literal(3), '3')).toEqual(invalid('x', 'expected 3'));
      expect(ok(s.oneOf(['a', 'b']), 'b')).toBeNull();
      expect(ok(s.oneOf(['a', 'b']), 'c')).toEqual(invalid('x', 'expected one of a, b'));
      expect(ok(s.oneOf(['a', 'b']), ['a'])).toEqual(invalid('x', 'expected one of a, b'));
    });
  });

  describe('nullable and optional', () => {
    it('let null (nullable) or undefined (optional) through, and check anything else', () => {
      expect(ok(s.nullable(s.bool()), null)).toBeNull();
      expect(ok(s.nullable(s.bool()), undefined)).toEqual(invalid('x', 'expected a boolean'));
      expect(ok(s.nullable(s.bool()), 1)).toEqual(invalid('x', 'expected a boolean'));
      expect(ok(s.optional(s.bool()), undefined)).toBeNull();
      expect(ok(s.optional(s.bool()), true)).toBeNull();
      expect(ok(s.optional(s.bool()), null)).toEqual(invalid('x', 'expected a boolean'));
    });
  });

  describe('array', () => {
    it('checks every item, naming the first bad one by index', () => {
      expect(ok(s.array(s.bool()), [true, false])).toBeNull();
      expect(ok(s.array(s.bool()), [true, 1, 2])).toEqual(invalid('x[1]', 'expected a boolean'));
    });

    it('refuses a non-array and more items than its bound', () => {
      expect(ok(s.array(s.bool()), { 0: true, length: 1 })).toEqual(invalid('x', 'expected an array'));
      expect(ok(s.array(s.bool(), 2), [true, true])).toBeNull();
      expect(ok(s.array(s.bool(), 2), [true, true, true])).toEqual(invalid('x', 'expected at most 2 items'));
      expect(ok(s.array(s.bool()), Array(10_000).fill(true))).toBeNull();
      expect(ok(s.array(s.bool()), Array(10_001).fill(true))).toEqual(invalid('x', 'expected at most 10000 items'));
    });
  });

  describe('json', () => {
    it('accepts any plain object and nothing else', () => {
      expect(ok(s.json(), { anything: [1] })).toBeNull();
      expect(ok(s.json(), [])).toEqual(invalid('x', 'expected an object'));
    });

    it('holds the object within its budget of values and of string characters, names included', () => {
      const small = s.json(3, 10);
      const over = invalid('x', 'expected at most 3 values and 10 characters of strings');
      expect(ok(small, { a: 1, b: 2 })).toBeNull();
      expect(ok(small, { a: 1, b: 2, c: 3 })).toEqual(over);
      expect(ok(small, { a: [1] })).toBeNull();
      expect(ok(small, { a: [1, 2] })).toEqual(over);
      expect(ok(small, { ab: 'cdefghij' })).toBeNull();
      expect(ok(small, { ab: 'cdefghijk' })).toEqual(over);
      expect(ok(small, { abcdefghij: null })).toBeNull();
      expect(ok(small, { abcdefghijk: null })).toEqual(over);
      expect(ok(small, { a: { bcdefghijkl: 1 } })).toEqual(over);
    });

    it('allows 100,000 values and 1 Mi characters by default', () => {
      expect(ok(s.json(), { a: new Array(99_998).fill(0) })).toBeNull();
      expect(ok(s.json(), { a: new Array(99_999).fill(0) })).toEqual(invalid('x', `expected at most 100000 values and ${1 << 20} characters of strings`));
      expect(ok(s.json(), { a: 'x'.repeat((1 << 20) - 1) })).toBeNull();
      expect(ok(s.json(), { a: 'x'.repeat(1 << 20) })).toEqual(invalid('x', `expected at most 100000 values and ${1 << 20} characters of strings`));
    });
  });

  describe('record', () => {
    it("checks each member's value, naming it", () => {
      expect(ok(s.record(s.bool()), { a: true, __proto__x: false })).toBeNull();
      expect(ok(s.record(s.bool()), { a: true, b: 1 })).toEqual(invalid('x.b', 'expected a boolean'));
    });

    it('refuses a non-object and more members than its bound', () => {
      expect(ok(s.record(s.bool()), [true])).toEqual(invalid('x', 'expected an object'));
      expect(ok(s.record(s.bool(), 1), { a: true })).toBeNull();
      expect(ok(s.record(s.bool(), 1), { a: true, b: true })).toEqual(invalid('x', 'expected at most 1 members'));
      const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, true]));
      expect(ok(s.record(s.bool()), many(256))).toBeNull();
      expect(ok(s.record(s.bool()), many(257))).toEqual(invalid('x', 'expected at most 256 members'));
    });
  });

  describe('tagged', () => {
    const shape = s.tagged('type', { a: s.object({ type: s.literal('a'), n: s.int() }), b: s.object({ type: s.literal('b') }) });

    it('checks the variant its tag names', () => {
      expect(ok(shape, { type: 'a', n: 1 })).toBeNull();
      expect(ok(shape, { type: 'b' })).toBeNull();
      expect(ok(shape, { type: 'a' })).toEqual(invalid('x.n', 'missing member'));
    });

    it('refuses a non-object, an unknown tag, a tag that is not a string, and an inherited tag', () => {
      expect(ok(shape, null)).toEqual(invalid('x', 'expected an object'));
      for (const value of [{ type: 'c' }, { type: ['a'] }, {}, Object.assign(Object.create(null), { type: 'toString' })]) {
        expect(ok(shape, value)).toEqual(invalid('x.type', 'expected one of a, b'));
      }
    });
  });

  describe('either', () => {
    it("accepts what either accepts, and reports the second's problem", () => {
      const e = s.either(s.literal(false), s.object({ n: s.int() }));
      expect(ok(e, false)).toBeNull();
      expect(ok(e, { n: 1 })).toBeNull();
      expect(ok(e, true)).toEqual(invalid('x', 'expected an object'));
    });
  });

  describe('object', () => {
    const shape = s.object({ a: s.int(), b: s.optional(s.bool()) });

    it('accepts its members, an optional one absent', () => {
      expect(ok(shape, { a: 1, b: true })).toBeNull();
      expect(ok(shape, { a: 1 })).toBeNull();
    });

    it('refuses a non-object, an unknown member before anything else, a missing member and a bad one', () => {
      expect(ok(shape, [1])).toEqual(invalid('x', 'expected an object'));
      expect(ok(shape, { b: 1, c: 1 })).toEqual({ kind: 'unknown_member', path: 'x.c', reason: 'not a member of this object in this format version' });
      expect(ok(shape, { b: true })).toEqual(invalid('x.a', 'missing member'));
      expect(ok(shape, { a: -1 })).toEqual(invalid('x.a', `expected an integer in [0, ${Number.MAX_SAFE_INTEGER}]`));
      expect(ok(shape, { a: 1, b: 'yes' })).toEqual(invalid('x.b', 'expected a boolean'));
    });

    it('does not take an inherited member for an own one', () => {
      expect(ok(s.object({ toString: s.optional(s.bool()) }), {})).toBeNull();
      expect(ok(s.object({ constructor: s.int() }), {})).toEqual(invalid('x.constructor', 'missing member'));
    });
  });
});
