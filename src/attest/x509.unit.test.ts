/**
 * The X.509 subset that authenticates TDX collateral: strict DER, ecdsa-with-SHA256
 * signatures, validity windows, CRL currency and exactly written PEM chains.
 * Certificates and CRLs are built here, field by field, and signed with a P-256 key.
 */
import { p256 } from '@noble/curves/nist';
import { sha256 } from '@noble/hashes/sha256';
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { certificateInfo, checkCertificate, checkCrl, pemChain, sameBytes } from './x509.js';

// ---------------------------------------------------------------- a tiny DER writer

const cat = (...parts: Uint8Array[]) => new Uint8Array(parts.flatMap((p) => [...p]));
const lengthBytes = (n: number) => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
const tlv = (tag: number, ...parts: Uint8Array[]) => {
  const body = cat(...parts);
  return cat(new Uint8Array([tag, ...lengthBytes(body.length)]), body);
};
const seq = (...parts: Uint8Array[]) => tlv(0x30, ...parts);
const int = (n: number) => tlv(0x02, new Uint8Array([n]));
const bits = (bytes: Uint8Array, unused = 0) => tlv(0x03, new Uint8Array([unused]), bytes);
const ascii = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
const utcTime = (s: string) => tlv(0x17, ascii(s));
const generalizedTime = (s: string) => tlv(0x18, ascii(s));
const ECDSA_SHA256 = seq(new Uint8Array([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));
const ECDSA_SHA384 = seq(new Uint8Array([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03]));
const EC_P256 = seq(
  new Uint8Array([0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]),
  new Uint8Array([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]),
);
const NAME = seq();

const CA_SECRET = new Uint8Array(32).fill(7);
const CA_KEY = p256.getPublicKey(CA_SECRET, false);
const OTHER_KEY = p256.getPublicKey(new Uint8Array(32).fill(9), false);
const SUBJECT_KEY = p256.getPublicKey(new Uint8Array(32).fill(5), false);

/** A signed object (certificate or CRL) around `tbs`. */
function signed(tbs: Uint8Array, options: { algorithm?: Uint8Array; unused?: number; secret?: Uint8Array } = {}): Uint8Array {
  const signature = p256.sign(sha256(tbs), options.secret ?? CA_SECRET, { prehash: false }).toDERRawBytes();
  return seq(tbs, options.algorithm ?? ECDSA_SHA256, bits(signature, options.unused));
}

interface CertOptions {
  version?: boolean;
  notBefore?: Uint8Array;
  notAfter?: Uint8Array;
  key?: Uint8Array;
  validity?: Uint8Array;
  spki?: Uint8Array | null;
}
function tbsCertificate(o: CertOptions = {}): Uint8Array {
  const validity = o.validity ?? seq(o.notBefore ?? utcTime('250101000000Z'), o.notAfter ?? utcTime('260101000000Z'));
  const spki = o.spki === null ? new Uint8Array(0) : (o.spki ?? seq(EC_P256, o.key ?? bits(SUBJECT_KEY)));
  return seq(...(o.version === false ? [] : [tlv(0xa0, int(2))]), int(1), ECDSA_SHA256, NAME, validity, NAME, spki);
}
const certificate = (o: CertOptions = {}, s: Parameters<typeof signed>[1] = {}) => signed(tbsCertificate(o), s);

function crl(o: { version?: boolean; thisUpdate?: Uint8Array; nextUpdate?: Uint8Array | null } = {}): Uint8Array {
  const next = o.nextUpdate === null ? [] : [o.nextUpdate ?? utcTime('250201000000Z')];
  return signed(seq(...(o.version === false ? [] : [int(1)]), ECDSA_SHA256, NAME, o.thisUpdate ?? utcTime('250101000000Z'), ...next));
}

const at = (iso: string) => Date.parse(iso) / 1000;
const JAN_2025 = at('2025-01-01T00:00:00Z');
const failure = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (error) {
    return isEphemeraError(error)
      ? { code: error.code, message: error.message, field: error.fields.field }
      : { code: 'NOT_EPHEMERA', message: String(error), field: null };
  }
};
const invalid = (message: string) => ({ code: 'ATTEST_COLLATERAL_INVALID', message, field: 'proof.attestation.collateral' });

describe('certificateInfo', () => {
  describe('when the certificate is well formed', () => {
    it('reads its key and validity window', () => {
      const info = certificateInfo(certificate());
      expect(Buffer.from(info.publicKey)).toEqual(Buffer.from(SUBJECT_KEY));
      expect([info.notBefore, info.notAfter]).toEqual([JAN_2025, at('2026-01-01T00:00:00Z')]);
    });

    it('reads a version-1 certificate, which has no version field', () => {
      expect(certificateInfo(certificate({ version: false })).notBefore).toBe(JAN_2025);
    });

    it('reads UTCTime years from 50 as 19xx and below as 20xx, and GeneralizedTime as written', () => {
      expect(certificateInfo(certificate({ notBefore: utcTime('500101000000Z'), notAfter: utcTime('491231235959Z') }))).toMatchObject({
        notBefore: at('1950-01-01T00:00:00Z'),
        notAfter: at('2049-12-31T23:59:59Z'),
      });
      expect(certificateInfo(certificate({ notBefore: utcTime('510203040506Z') })).notBefore).toBe(at('1951-02-03T04:05:06Z'));
      expect(certificateInfo(certificate({ notBefore: generalizedTime('20500607080910Z'), notAfter: generalizedTime('19991231235958Z') }))).toMatchObject({
        notBefore: at('2050-06-07T08:09:10Z'),
        notAfter: at('1999-12-31T23:59:58Z'),
      });
    });

    it('reads an element whose length needs the long form', () => {
      const long = certificate({ spki: seq(EC_P256, bits(SUBJECT_KEY), tlv(0x04, new Uint8Array(120))) });
      expect(Buffer.from(certificateInfo(long).publicKey)).toEqual(Buffer.from(SUBJECT_KEY));
    });
  });

  describe('when the DER is not strict', () => {
    const valid = certificate();
    it.each([
      ['an empty buffer', new Uint8Array(0), 'DER: truncated element'],
      ['one byte', new Uint8Array([0x30]), 'DER: truncated element'],
      ['a SEQUENCE holding one byte', new Uint8Array([0x30, 0x01, 0x30]), 'DER: truncated element'],
      ['a SEQUENCE holding an empty element', new Uint8Array([0x30, 0x02, 0x05, 0x00]), 'DER: not a signed object'],
      ['an indefinite length', new Uint8Array([0x30, 0x80, 0x00, 0x00]), 'DER: bad length'],
      ['a five-byte length', new Uint8Array([0x30, 0x85, 0, 0, 0, 0, 1, 0]), 'DER: bad length'],
      ['a four-byte length beyond the buffer', new Uint8Array([0x30, 0x84, 0x01, 0x00, 0x00, 0x00, 0x00]), 'DER: element longer than its container'],
      ['a length cut short', new Uint8Array([0x30, 0x82, 0x01]), 'DER: bad length'],
      ['a length with a leading zero byte', new Uint8Array([0x30, 0x82, 0x00, 0x80, ...new Uint8Array(128)]), 'DER: length not minimal'],
      ['a short length written long', new Uint8Array([0x30, 0x81, 0x02, 0x05, 0x00]), 'DER: length not minimal'],
      ['a length beyond the buffer', new Uint8Array([0x30, 0x03, 0x05, 0x00]), 'DER: element longer than its container'],
      ['a SEQUENCE shorter than the buffer', new Uint8Array([0x30, 0x02, 0x04, 0x05, 0, 0, 0, 0, 0]), 'DER: not exactly one SEQUENCE'],
      ['a child longer than its SEQUENCE', new Uint8Array([0x30, 0x03, 0x04, 0x05, 0x00]), 'DER: element longer than its container'],
      ['a child whose length runs past its SEQUENCE', new Uint8Array([0x30, 0x03, 0x04, 0x81, 0x80]), 'DER: element longer than its container'],
      ['a SET instead of a SEQUENCE', new Uint8Array([0x31, ...valid.subarray(1)]), 'DER: not exactly one SEQUENCE'],
      ['a byte after the SEQUENCE', new Uint8Array([...valid, 0]), 'DER: not exactly one SEQUENCE'],
      ['two parts', seq(tbsCertificate(), ECDSA_SHA256), 'DER: not a signed object'],
      ['four parts', seq(tbsCertificate(), ECDSA_SHA256, bits(new Uint8Array(8)), int(1)), 'DER: not a signed object'],
      ['a to-be-signed part that is no SEQUENCE', seq(int(1), ECDSA_SHA256, bits(new Uint8Array(8))), 'DER: not a signed object'],
      ['a signature that is no BIT STRING', seq(tbsCertificate(), ECDSA_SHA256, tlv(0x04, new Uint8Array(8))), 'DER: not a signed object'],
    ])('refuses %s', (_what, der, message) => {
      expect(failure(() => certificateInfo(der))).toEqual(invalid(message));
    });

    it('accepts a long-form length of exactly 128', () => {
      const der = new Uint8Array([0x30, 0x81, 0x80, ...new Uint8Array(128)]);
      expect(failure(() => certificateInfo(der))?.message).toBe('DER: not a signed object');
    });
  });

  describe('when the certificate lacks a part', () => {
    it.each([
      ['no fields at all', signed(seq()), 'certificate: malformed'],
      ['no subject key', certificate({ spki: null }), 'certificate: malformed'],
      ['a validity that is no SEQUENCE', certificate({ validity: tlv(0x31, utcTime('250101000000Z'), utcTime('260101000000Z')) }), 'certificate: malformed'],
      ['a subject key info that is no SEQUENCE', certificate({ spki: tlv(0x31, EC_P256, bits(SUBJECT_KEY)) }), 'certificate: malformed'],
      ['a validity with one time', certificate({ validity: seq(utcTime('250101000000Z')) }), 'certificate: malformed'],
      ['a subject key info without its key', certificate({ spki: seq(EC_P256) }), 'certificate: malformed'],
      ['a key that is no BIT STRING', certificate({ spki: seq(EC_P256, tlv(0x04, SUBJECT_KEY)) }), 'certificate: malformed'],
      ['a key BIT STRING with unused bits', certificate({ key: bits(SUBJECT_KEY, 1) }), 'certificate: malformed'],
      ['a time in another form', certificate({ notBefore: tlv(0x0c, ascii('250101000000Z')) }), 'DER: a time that is not UTCTime or GeneralizedTime in UTC'],
      ['a UTCTime with a digit too many', certificate({ notBefore: utcTime('2250101000000Z') }), 'DER: a time that is not UTCTime or GeneralizedTime in UTC'],
      ['a UTCTime with text after it', certificate({ notBefore: utcTime('250101000000Zx') }), 'DER: a time that is not UTCTime or GeneralizedTime in UTC'],
      ['a UTCTime with an offset', certificate({ notBefore: utcTime('250101000000+0100') }), 'DER: a time that is not UTCTime or GeneralizedTime in UTC'],
      [
        'a GeneralizedTime with a digit too few',
        certificate({ notBefore: generalizedTime('2025010100000Z') }),
        'DER: a time that is not UTCTime or GeneralizedTime in UTC',
      ],
      [
        'a GeneralizedTime with text before it',
        certificate({ notBefore: generalizedTime('x20250101000000Z') }),
        'DER: a time that is not UTCTime or GeneralizedTime in UTC',
      ],
      [
        'a GeneralizedTime with text after it',
        certificate({ notBefore: generalizedTime('20250101000000Zx') }),
        'DER: a time that is not UTCTime or GeneralizedTime in UTC',
      ],
      [
        'a GeneralizedTime with letters for digits',
        certificate({ notBefore: generalizedTime('2025a101000000Z') }),
        'DER: a time that is not UTCTime or GeneralizedTime in UTC',
      ],
    ])('refuses %s', (_what, der, message) => {
      expect(failure(() => certificateInfo(der))).toEqual(invalid(message));
    });
  });
});

describe('checkCertificate', () => {
  describe('when the issuer signed it and it is valid at the time', () => {
    it('passes from the first second of its window to the last', () => {
      const cert = certificate();
      for (const t of [JAN_2025, at('2025-06-01T00:00:00Z'), at('2026-01-01T00:00:00Z')])
        expect(failure(() => checkCertificate(cert, CA_KEY, t, 'the CA'))).toBeNull();
    });
  });

  describe('when it is not valid at the time', () => {
    it.each([
      ['a second before its window', JAN_2025 - 1],
      ['a second after it', at('2026-01-01T00:00:01Z')],
    ])('fails %s', (_when, t) => {
      expect(failure(() => checkCertificate(certificate(), CA_KEY, t, 'the CA'))).toMatchObject({
        message: 'the CA: not valid at the time of verification',
        field: 'proof.attestation.collateral',
      });
    });
  });

  describe("when the signature is not the issuer's", () => {
    it.each([
      ['signed by another key', certificate({}, { secret: new Uint8Array(32).fill(9) }), "the CA: its signature does not verify under its issuer's key"],
      ['signed with another algorithm', certificate({}, { algorithm: ECDSA_SHA384 }), 'the CA: not signed with ecdsa-with-SHA256'],
      ['a signature BIT STRING with unused bits', certificate({}, { unused: 1 }), 'the CA: signature BIT STRING has unused bits'],
    ])('fails when %s', (_what, der, message) => {
      expect(failure(() => checkCertificate(der, CA_KEY, JAN_2025, 'the CA'))).toEqual(invalid(message));
    });

    it("fails under another issuer's key", () => {
      expect(failure(() => checkCertificate(certificate(), OTHER_KEY, JAN_2025, 'the CA'))).toEqual(
        invalid("the CA: its signature does not verify under its issuer's key"),
      );
    });
  });
});

describe('checkCrl', () => {
  describe('when the issuer signed it and it is current', () => {
    it('passes from thisUpdate to nextUpdate, both included', () => {
      for (const t of [JAN_2025, at('2025-02-01T00:00:00Z')]) expect(failure(() => checkCrl(crl(), CA_KEY, t, 'the CRL'))).toBeNull();
    });

    it('reads a CRL without a version and with GeneralizedTime', () => {
      expect(failure(() => checkCrl(crl({ version: false }), CA_KEY, JAN_2025, 'the CRL'))).toBeNull();
      expect(
        failure(() =>
          checkCrl(
            crl({ thisUpdate: generalizedTime('20250101000000Z'), nextUpdate: generalizedTime('20250201000000Z') }),
            CA_KEY,
            at('2025-02-01T00:00:00Z'),
            'the CRL',
          ),
        ),
      ).toBeNull();
    });
  });

  describe('when it is not current', () => {
    it.each([
      ['a second before thisUpdate', JAN_2025 - 1],
      ['a second after nextUpdate', at('2025-02-01T00:00:01Z')],
    ])('fails %s', (_when, t) => {
      expect(failure(() => checkCrl(crl(), CA_KEY, t, 'the CRL'))).toMatchObject({
        message: 'the CRL: not current at the time of verification',
        field: 'proof.attestation.collateral',
      });
    });
  });

  describe("when it is malformed or not the issuer's", () => {
    it.each([
      ['no nextUpdate', crl({ nextUpdate: null }), 'the CRL: has no nextUpdate'],
      ['no nextUpdate, and no version', crl({ nextUpdate: null, version: false }), 'the CRL: has no nextUpdate'],
      ['revoked certificates where nextUpdate belongs', crl({ nextUpdate: seq() }), 'the CRL: has no nextUpdate'],
      ['no fields at all', signed(seq()), 'the CRL: has no nextUpdate'],
      ['a thisUpdate that is no time', crl({ thisUpdate: int(1) }), 'DER: a time that is not UTCTime or GeneralizedTime in UTC'],
      [
        'a signature by another key',
        signed(seq(int(1), ECDSA_SHA256, NAME, utcTime('250101000000Z'), utcTime('250201000000Z')), { secret: new Uint8Array(32).fill(9) }),
        "the CRL: its signature does not verify under its issuer's key",
      ],
    ])('fails with %s', (_what, der, message) => {
      expect(failure(() => checkCrl(der, CA_KEY, JAN_2025, 'the CRL'))).toEqual(invalid(message));
    });
  });
});

describe('pemChain', () => {
  const toPem = (der: Uint8Array) => {
    const b64 = Buffer.from(der).toString('base64');
    return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  };
  const a = new Uint8Array(48).fill(1); // 64 characters of base64: exactly one line
  const b = new Uint8Array(100).fill(2);

  describe('when the chain is written exactly', () => {
    it("returns each certificate's bytes, lines of 64 characters, one ending exactly at a line", () => {
      expect(pemChain(toPem(a) + toPem(b), 'chain').map((d) => Buffer.from(d))).toEqual([Buffer.from(a), Buffer.from(b)]);
    });

    it('allows one NUL after the last certificate only where asked, and does not require it', () => {
      expect(pemChain(`${toPem(b)}\u0000`, 'chain', true)).toHaveLength(1);
      expect(pemChain(toPem(b), 'chain', true)).toHaveLength(1);
      expect(failure(() => pemChain(`${toPem(b)}\u0000`, 'chain'))).toEqual(
        invalid('chain: not a PEM certificate chain written exactly (nothing may surround or separate the certificates)'),
      );
    });
  });

  describe('when it is not', () => {
    it.each([
      ['empty', ''],
      ['text before it', `x${toPem(b)}`],
      ['a blank line between certificates', `${toPem(a)}\n${toPem(b)}`],
      ['CRLF line ends', toPem(b).replaceAll('\n', '\r\n')],
      [
        'lines of 76 characters',
        `-----BEGIN CERTIFICATE-----\n${Buffer.from(b)
          .toString('base64')
          .match(/.{1,76}/g)!
          .join('\n')}\n-----END CERTIFICATE-----\n`,
      ],
      ['no END line', toPem(b).replace('-----END CERTIFICATE-----\n', '')],
    ])('refuses it with %s', (_what, text) => {
      expect(failure(() => pemChain(text, 'chain'))).toEqual(
        invalid('chain: not a PEM certificate chain written exactly (nothing may surround or separate the certificates)'),
      );
    });

    it('refuses text that is not base64', () => {
      expect(failure(() => pemChain('-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n', 'chain'))).toEqual(invalid('chain: not base64'));
    });
  });
});

describe('sameBytes', () => {
  it('is true only for the same bytes in the same length', () => {
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([2, 2]))).toBe(false);
    expect(sameBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(sameBytes(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2]))).toBe(false);
  });
});
