import { describe, expect, it } from 'vitest';
import { canonicalize, canonicalizeWithout } from './jcs.js';

// Examples from RFC 8785 §3.2.2, §3.2.3 and Appendix B.
describe('canonicalize (RFC 8785)', () => {
  describe('when given the RFC §3.2.2 sample', () => {
    it('produces the RFC output', () => {
      const input = JSON.parse(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
      );
      expect(canonicalize(input)).toBe(
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
      );
    });
  });

  describe('when keys need UTF-16 ordering (§3.2.3)', () => {
    it('sorts by code units', () => {
      const input = JSON.parse(
        '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
      );
      const keys = [...canonicalize(input).matchAll(/"([^"]*)":"[^"]*"/g)].map((m) => JSON.parse(`"${m[1]}"`));
      expect(keys).toEqual(['\r', '1', '\u0080', 'ö', '€', '😀', '\ufb33']);
    });
  });

  describe('when serializing numbers (Appendix B)', () => {
    const bits = (hex: string) => new DataView(new Uint8Array(hex.match(/../g)!.map((b) => parseInt(b, 16))).buffer).getFloat64(0);
    it.each([
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['41b3de4355555555', '333333333.3333333'],
    ])('writes %s as %s', (hex, expected) => expect(canonicalize(bits(hex))).toBe(expected));

    it('rejects NaN and Infinity', () => {
      expect(() => canonicalize(NaN)).toThrow(expect.objectContaining({ code: 'EVENTS_NOT_CANONICALIZABLE' }));
      expect(() => canonicalize([Infinity])).toThrow(expect.objectContaining({ code: 'EVENTS_NOT_CANONICALIZABLE' }));
    });
  });

  describe('when member names need escaping', () => {
    it('writes them as JSON.stringify does, and plain names as they are', () => {
      const names = ['a"b', '\\x', 'é', 'a b', '\u0001', 'A-z_0.9', ''];
      const value = Object.fromEntries(names.map((n, i) => [n, i]));
      expect(canonicalize(value)).toBe(
        `{${names
          .slice()
          .sort()
          .map((n) => `${JSON.stringify(n)}:${names.indexOf(n)}`)
          .join(',')}}`,
      );
      expect(canonicalize({ 'x"': 1 })).toBe('{"x\\"":1}');
    });
  });

  describe('when containers are empty or hold several values', () => {
    it('separates values with single commas and nothing else', () => {
      expect(canonicalize([])).toBe('[]');
      expect(canonicalize({})).toBe('{}');
      expect(canonicalize([true, false, null, 'a', 1, [], {}])).toBe('[true,false,null,"a",1,[],{}]');
      expect(canonicalize({ b: [1, 2], a: { d: false, c: true } })).toBe('{"a":{"c":true,"d":false},"b":[1,2]}');
    });
  });

  describe('when one top-level member is left out (an event without its hash)', () => {
    it('omits it at the top only, wherever it sorts', () => {
      expect(canonicalizeWithout({ hash: 'h', a: { hash: 'inner' }, z: 1 }, 'hash')).toBe('{"a":{"hash":"inner"},"z":1}');
      expect(canonicalizeWithout({ a: 1, b: 2 }, 'a')).toBe('{"b":2}');
      expect(canonicalizeWithout({ a: 1, b: 2 }, 'b')).toBe('{"a":1}');
      expect(canonicalizeWithout({ a: [{ a: 1 }] }, 'x')).toBe('{"a":[{"a":1}]}');
    });
  });

  describe('when a member is undefined', () => {
    it('leaves it out, as JSON.stringify does', () => {
      expect(canonicalize({ b: 1, a: undefined, c: [null] })).toBe('{"b":1,"c":[null]}');
    });
  });

  describe('when a value is not JSON', () => {
    it.each([
      ['a function', () => 1, 'a function cannot be canonicalized'],
      ['undefined', undefined, 'a undefined cannot be canonicalized'],
      ['a bigint', 1n, 'a bigint cannot be canonicalized'],
      ['NaN', NaN, 'non-finite number cannot be canonicalized'],
    ])('rejects %s with EVENTS_NOT_CANONICALIZABLE', (_what, value, message) => {
      expect(() => canonicalize({ a: [value] })).toThrow(expect.objectContaining({ code: 'EVENTS_NOT_CANONICALIZABLE', message }));
    });
  });

  describe('when the value nests deeply', () => {
    const nest = (levels: number, inner: unknown, wrap: (v: unknown) => unknown) => {
      let value = inner;
      for (let i = 0; i < levels; i++) value = wrap(value);
      return value;
    };

    it.each([
      ['arrays', (v: unknown) => [v]],
      ['objects', (v: unknown) => ({ a: v })],
    ])('canonicalizes %s down to depth 256 and refuses one level more', (_what, wrap) => {
      expect(canonicalize(nest(256, 1, wrap))).toMatch(/1[\]}]+$/);
      expect(() => canonicalize(nest(257, 1, wrap))).toThrow(
        expect.objectContaining({ code: 'EVENTS_NOT_CANONICALIZABLE', message: 'value nests too deeply to canonicalize' }),
      );
    });
  });

  describe('when the same object arrives with reordered keys or another number form (THREATS E39)', () => {
    it('canonicalizes identically', () => {
      expect(canonicalize(JSON.parse('{"b":1.0,"a":[1e0,"x"]}'))).toBe(canonicalize(JSON.parse('{"a":[1,"x"],"b":1}')));
    });
  });
});
