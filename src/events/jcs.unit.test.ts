import { describe, expect, it } from 'vitest';
import { canonicalize } from './jcs.js';

// Examples from RFC 8785 §3.2.2, §3.2.3 and Appendix B.
describe('canonicalize (RFC 8785)', () => {
  describe('when given the RFC §3.2.2 sample', () => {
    it('produces the RFC output', () => {
      const input = JSON.parse(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
      );
      expect(canonicalize(input)).toBe('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}');
    });
  });

  describe('when keys need UTF-16 ordering (§3.2.3)', () => {
    it('sorts by code units', () => {
      const input = JSON.parse('{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}');
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

  describe('when the same object arrives with reordered keys or another number form (THREATS E39)', () => {
    it('canonicalizes identically', () => {
      expect(canonicalize(JSON.parse('{"b":1.0,"a":[1e0,"x"]}'))).toBe(canonicalize(JSON.parse('{"a":[1,"x"],"b":1}')));
    });
  });
});
