/** The TDX quote parser: every declared length checked, the fields the binding needs read at their offsets (v4 and v5). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { isDebugTd, parseTdxQuote, trimQuote, withReport } from './tdx-quote.js';
import { TDX_TESTDATA } from './testing/dstack-standins.js';

const PADDED = new Uint8Array(readFileSync(join(TDX_TESTDATA, 'tdx_quote')));
/** The real v4 quote without the hardware's padding: header 48, TD report 584, signature data 4300 bytes. */
const V4 = PADDED.slice(0, 4936);
const REPORT_DATA = '9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20';
const SIG_START = 48 + 584 + 4;
const QE = SIG_START + 134;
const INNER = QE + 450 + 32;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A copy of `quote` with little-endian integers written at the given offsets, cut to `length` if given. */
function edited(quote: Uint8Array, writes: [offset: number, bytes: 2 | 4, value: number][], length = quote.length): Uint8Array {
  const copy = quote.slice(0, length);
  const view = new DataView(copy.buffer);
  for (const [offset, bytes, value] of writes) {
    if (bytes === 2) view.setUint16(offset, value, true);
    else view.setUint32(offset, value, true);
  }
  return copy;
}

/** The same quote as version 5: a body descriptor (type 2, size 584) after the header. */
function asVersion5(quote: Uint8Array): Uint8Array {
  const descriptor = new Uint8Array(6);
  new DataView(descriptor.buffer).setUint16(0, 2, true);
  new DataView(descriptor.buffer).setUint32(2, 584, true);
  return edited(new Uint8Array([...quote.subarray(0, 48), ...descriptor, ...quote.subarray(48)]), [[0, 2, 5]]);
}

const failureOf = (quote: Uint8Array) => {
  try {
    parseTdxQuote(quote);
    return null;
  } catch (error) {
    return isEphemeraError(error)
      ? { code: error.code, message: error.message, field: error.fields.field }
      : { code: 'NOT_EPHEMERA', message: String(error), field: null };
  }
};
const malformed = (why: string) => ({ code: 'ATTEST_QUOTE_MALFORMED', message: `quote: ${why}`, field: 'proof.attestation.quote' });

describe('parseTdxQuote', () => {
  describe('when the quote is a real v4 quote', () => {
    it('reads its version, key type, TEE type, report data and PCK chain, and where its structure ends', () => {
      const fields = parseTdxQuote(PADDED);
      expect({ version: fields.version, key: fields.attestationKeyType, tee: fields.teeType, offset: fields.reportOffset, length: fields.length }).toEqual({
        version: 4,
        key: 2,
        tee: 0x81,
        offset: 48,
        length: 4936,
      });
      expect(hex(fields.reportData)).toBe(REPORT_DATA);
      expect(Buffer.from(fields.rtmr3)).toEqual(Buffer.from(PADDED.subarray(48 + 472, 48 + 520)));
      expect(Buffer.from(fields.tdAttributes)).toEqual(Buffer.from(PADDED.subarray(48 + 120, 48 + 128)));
      expect(new TextDecoder().decode(fields.pckChain!)).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n\u0000?$/);
      expect(fields.pckChain!.length).toBe(3678);
    });
  });

  describe('when the quote is of version 5', () => {
    it('reads the TD report after the body descriptor', () => {
      const fields = parseTdxQuote(asVersion5(V4));
      expect({ version: fields.version, offset: fields.reportOffset, length: fields.length }).toEqual({ version: 5, offset: 54, length: 4942 });
      expect(hex(fields.reportData)).toBe(REPORT_DATA);
      expect(hex(fields.rtmr3)).toBe(hex(parseTdxQuote(V4).rtmr3));
      expect(fields.pckChain!.length).toBe(3678);
    });

    it('reads the real v5 quote of the outdated platform', () => {
      const quote = new Uint8Array(readFileSync(join(TDX_TESTDATA, 'tdx_quote_outdated')));
      expect(parseTdxQuote(quote)).toMatchObject({ version: 5, reportOffset: 54, length: quote.length });
    });

    it("refuses a TD report shorter than TDX 1.0's", () => {
      expect(failureOf(edited(asVersion5(V4), [[50, 4, 583]]))).toEqual(malformed('its TD report is too short'));
    });
  });

  describe('when the header is not a TDX ECDSA quote', () => {
    it.each([
      ['version 3', [0, 2, 3], 'version 3 is not 4 or 5'],
      ['attestation key type 3', [2, 2, 3], 'attestation key type 3 is not ECDSA-256 P-256'],
      ['TEE type 0 (SGX)', [4, 4, 0], 'TEE type 0x0 is not TDX (0x81)'],
    ] as const)('refuses %s', (_what, write, why) => {
      expect(failureOf(edited(V4, [[...write]]))).toEqual(malformed(why));
    });
  });

  describe('when the quote is shorter than it declares', () => {
    it.each([
      ['100 bytes', V4.slice(0, 100), 'too short'],
      ['one byte short of a header and a TD report', V4.slice(0, 631), 'too short'],
      ['a header and a TD report, nothing else', V4.slice(0, 632), 'shorter than the lengths it declares'],
      ['cut inside its signature data', V4.slice(0, 4935), 'shorter than the lengths it declares'],
      ['signature data too short for the certification data header', edited(V4, [[632, 4, 100]], SIG_START + 100), 'shorter than the lengths it declares'],
      [
        'certification data too short for a QE report',
        edited(
          V4,
          [
            [632, 4, 234],
            [SIG_START + 130, 4, 100],
          ],
          SIG_START + 234,
        ),
        'shorter than the lengths it declares',
      ],
      [
        'QE data too short for the PCK chain header',
        edited(
          V4,
          [
            [632, 4, 134 + 452],
            [SIG_START + 130, 4, 452],
            [QE + 448, 2, 0],
          ],
          SIG_START + 134 + 452,
        ),
        'shorter than the lengths it declares',
      ],
    ])('refuses %s', (_what, quote, why) => {
      expect(failureOf(quote)).toEqual(malformed(why));
    });
  });

  describe('when the declared sizes do not add up', () => {
    it('refuses certification data that does not fill the signature data', () => {
      expect(failureOf(edited(V4, [[SIG_START + 130, 4, 4165]]))).toEqual(malformed('its certification data does not fill its signature data exactly'));
    });

    it('refuses a PCK chain that does not fill the QE certification data', () => {
      expect(failureOf(edited(V4, [[INNER + 2, 4, 3677]]))).toEqual(malformed('its QE certification data does not fill its declared size exactly'));
    });
  });

  describe('when the quote carries no PCK chain', () => {
    it('reads it as null when the certification data is not a QE report', () => {
      expect(parseTdxQuote(edited(V4, [[SIG_START + 128, 2, 5]])).pckChain).toBeNull();
    });

    it('reads it as null when the QE certification data holds something else', () => {
      expect(parseTdxQuote(edited(V4, [[INNER, 2, 4]])).pckChain).toBeNull();
    });
  });
});

describe('isDebugTd', () => {
  it('reads bit 0 of td_attributes', () => {
    expect(isDebugTd(parseTdxQuote(V4))).toBe(false);
    const debug = V4.slice();
    debug[48 + 120] |= 1;
    expect(isDebugTd(parseTdxQuote(debug))).toBe(true);
    const other = V4.slice();
    other[48 + 120] |= 2;
    expect(isDebugTd(parseTdxQuote(other))).toBe(false);
  });
});

describe('trimQuote', () => {
  describe('when the hardware padded the quote with zeros', () => {
    it('cuts them off', () => {
      expect(PADDED.length).toBeGreaterThan(4936);
      expect(Buffer.from(trimQuote(PADDED))).toEqual(Buffer.from(V4));
      expect(trimQuote(V4).length).toBe(4936);
    });
  });

  describe('when a byte after the structure is not zero', () => {
    it('refuses the quote', () => {
      const junk = PADDED.slice();
      junk[junk.length - 1] = 1;
      expect(() => trimQuote(junk)).toThrow(
        expect.objectContaining({
          code: 'ATTEST_QUOTE_MALFORMED',
          message: 'quote: non-zero bytes after its structure',
          fields: { field: 'proof.attestation.quote' },
        }),
      );
    });
  });
});

describe('withReport', () => {
  const report = new Uint8Array(64).fill(0x5a);
  const rtmr3 = new Uint8Array(48).fill(0x3c);

  it('writes the report data and RTMR3 into a copy, leaving the quote as it was', () => {
    const before = hex(V4);
    const patched = parseTdxQuote(withReport(V4, report, rtmr3));
    expect([hex(patched.reportData), hex(patched.rtmr3)]).toEqual([hex(report), hex(rtmr3)]);
    expect(hex(V4)).toBe(before);
  });

  it('keeps RTMR3 when given none', () => {
    const patched = parseTdxQuote(withReport(V4, report));
    expect([hex(patched.reportData), hex(patched.rtmr3)]).toEqual([hex(report), hex(parseTdxQuote(V4).rtmr3)]);
  });

  it("writes at the report's offset in a version-5 quote", () => {
    expect(hex(parseTdxQuote(withReport(asVersion5(V4), report, rtmr3)).reportData)).toBe(hex(report));
  });
});
