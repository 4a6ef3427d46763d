/** checkJsonValue: the strict reader's rules for a document handed over already parsed. */
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { checkJsonValue } from './json-value.js';

const LIMITS = { maxDepth: 3, maxStringLength: 4 };
const failureOf = (value: unknown, limits = LIMITS) => {
  try {
    checkJsonValue(value, limits);
    return null;
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return { code: error.code, field: error.fields.field, message: error.message };
  }
};

describe('checkJsonValue', () => {
  describe('when the value is JSON within the bounds', () => {
    it.each([
      ['a string at the length bound', 'abcd'],
      ['a surrogate pair', '😀'],
      ['numbers, booleans and null', [0, -1.5, true, false, null]],
      ['nesting exactly at the depth bound', { a: [{}] }],
      ['arrays nested exactly at the depth bound', [[[1]]]],
      ['a null-prototype object', Object.assign(Object.create(null), { a: 1 })],
      ['an own "__proto__" member', JSON.parse('{"__proto__":{"a":1}}')],
    ])('accepts %s', (_what, value) => {
      expect(failureOf(value)).toBeNull();
    });
  });

  describe('when a string breaks a rule', () => {
    it('refuses a string over the length bound with JSON_STRING_TOO_LONG, naming its member', () => {
      expect(failureOf({ a: { b: 'abcde' } })).toEqual({ code: 'JSON_STRING_TOO_LONG', field: 'a.b', message: 'a.b: a string of 5 characters (at most 4)' });
    });

    it('refuses an unpaired surrogate with JSON_UNPAIRED_SURROGATE', () => {
      expect(failureOf(['x\udc00'])).toEqual({ code: 'JSON_UNPAIRED_SURROGATE', field: '[0]', message: '[0]: a string with an unpaired surrogate' });
    });

    it('refuses a member name with an unpaired surrogate, naming the object that holds it', () => {
      expect(failureOf({ a: { '\ud800': 1 } })).toEqual({
        code: 'JSON_UNPAIRED_SURROGATE',
        field: 'a',
        message: 'a: a member name with an unpaired surrogate',
      });
    });

    it('names the document itself when the value is the string', () => {
      expect(failureOf('\ud800')).toEqual({ code: 'JSON_UNPAIRED_SURROGATE', field: '(document)', message: '(document): a string with an unpaired surrogate' });
    });
  });

  describe('when a number is not finite', () => {
    it.each([NaN, Infinity, -Infinity])('refuses %s with JSON_SYNTAX', (n) => {
      expect(failureOf({ n })).toEqual({ code: 'JSON_SYNTAX', field: 'n', message: 'n: not a finite number' });
    });

    it('checks every element of an array', () => {
      expect(failureOf([1, 2, NaN])).toMatchObject({ code: 'JSON_SYNTAX', field: '[2]' });
    });
  });

  describe('when the value nests too deep', () => {
    it('refuses an object one level past the bound with JSON_TOO_DEEP', () => {
      expect(failureOf({ a: { b: { c: {} } } })).toEqual({ code: 'JSON_TOO_DEEP', field: 'a.b.c', message: 'a.b.c: nested deeper than 3' });
    });

    it('refuses arrays one level past the bound', () => {
      expect(failureOf([[[[1]]]])).toEqual({ code: 'JSON_TOO_DEEP', field: '[0][0][0]', message: '[0][0][0]: nested deeper than 3' });
    });

    it('counts arrays and objects alike', () => {
      expect(failureOf({ a: [{ b: [] }] })).toMatchObject({ code: 'JSON_TOO_DEEP', field: 'a[0].b' });
      expect(failureOf({}, { maxDepth: 0, maxStringLength: 4 })).toMatchObject({ code: 'JSON_TOO_DEEP', field: '(document)' });
    });
  });

  describe('when the value is not JSON at all', () => {
    it.each([
      ['a Date', new Date(0), 'not a plain JSON object'],
      ['a Map', new Map(), 'not a plain JSON object'],
      ['a class instance', new (class Thing {})(), 'not a plain JSON object'],
      ['an object with a symbol key', { [Symbol('s')]: 1 }, 'not a plain JSON object'],
      ['undefined', undefined, 'a undefined is not JSON'],
      ['a function', () => 1, 'a function is not JSON'],
      ['a bigint', 1n, 'a bigint is not JSON'],
      ['a symbol', Symbol('s'), 'a symbol is not JSON'],
    ])('refuses %s with JSON_SYNTAX', (_what, value, why) => {
      expect(failureOf({ v: value })).toEqual({ code: 'JSON_SYNTAX', field: 'v', message: `v: ${why}` });
    });
  });
});
