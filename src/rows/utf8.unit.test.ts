import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Validator } from './utf8.js';

const fatal = (bytes: Uint8Array) => {
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
};

/** A lead byte (or a stray one) and up to three continuation bytes at the edges where overlongs, surrogates and > U+10FFFF begin. */
const edgy = fc
  .tuple(
    fc.constantFrom(0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff),
    fc.array(fc.constantFrom(0x41, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0), { maxLength: 3 }),
  )
  .map(([lead, rest]) => [lead, ...rest]);

/** Mostly valid text (code points at the edges of each length), with an edge byte here and there: invalid at one spot. */
const nearlyValid = fc
  .array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .constantFrom(0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff)
          .map((c) => [...new TextEncoder().encode(String.fromCodePoint(c))]),
      },
      { weight: 1, arbitrary: edgy },
    ),
    { maxLength: 8 },
  )
  .map((pieces) => Uint8Array.from(pieces.flat()));

describe('Utf8Validator', () => {
  it('accepts exactly what a fatal TextDecoder accepts, for any chunking (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 12 }).chain((random) => fc.tuple(fc.constant(random), nearlyValid, fc.array(fc.nat(), { maxLength: 4 }))),
        ([random, picked, cuts]) => {
          for (const bytes of [random, picked]) {
            const validator = new Utf8Validator();
            let start = 0;
            for (const end of [...cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b), bytes.length]) {
              validator.push(bytes.subarray(start, Math.max(start, end)));
              start = Math.max(start, end);
            }
            expect(validator.end()).toBe(fatal(bytes));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuses overlongs, surrogates and code points above U+10FFFF at their exact edges', () => {
    const refused = [
      [0xc0, 0x80],
      [0xc1, 0xbf],
      [0xe0, 0x9f, 0xbf],
      [0xed, 0xa0, 0x80],
      [0xf0, 0x8f, 0xbf, 0xbf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
    ];
    const accepted = [
      [0xc2, 0x80],
      [0xe0, 0xa0, 0x80],
      [0xed, 0x9f, 0xbf],
      [0xee, 0x80, 0x80],
      [0xf0, 0x90, 0x80, 0x80],
      [0xf4, 0x8f, 0xbf, 0xbf],
    ];
    const valid = (bytes: number[]) => {
      const validator = new Utf8Validator();
      validator.push(Uint8Array.from(bytes));
      return validator.end();
    };
    expect(refused.map(valid)).toEqual(refused.map(() => false));
    expect(accepted.map(valid)).toEqual(accepted.map(() => true));
    expect([...refused, ...accepted].every((bytes) => fatal(Uint8Array.from(bytes)) === valid(bytes))).toBe(true);
  });

  it('judges a sequence split across chunks as a whole one', () => {
    const validator = new Utf8Validator();
    for (const byte of [0xf0, 0x9f, 0x98, 0x80, 0xe2, 0x82]) validator.push(new Uint8Array([byte]));
    expect(validator.ok).toBe(true);
    expect(validator.end()).toBe(false);
  });
});
