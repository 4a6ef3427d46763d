/**
 * Just enough X.509 (RFC 5280) to authenticate what dcap-qvl leaves
 * unchecked in a quote's collateral: CRL signatures and validity windows
 * (dcap-qvl reads revocations from CRLs without checking who signed them,
 * and skips a CRL it cannot parse), and PEM chains written exactly, so that
 * no unverified byte can ride inside an attestation (docs/verification.md §7.2).
 *
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 *   CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue BIT STRING }
 *   tbsCertificate: [0] version?, serial, signature, issuer, validity {notBefore, notAfter}, subject, subjectPublicKeyInfo, …
 *   tbsCertList:    version?, signature, issuer, thisUpdate, nextUpdate?, revokedCertificates?, [0] crlExtensions?
 * Only ecdsa-with-SHA256 over P-256 (what Intel's SGX/TDX PKI uses).
 * DER is read strictly: minimal length encodings, no bytes after the outer SEQUENCE.
 * Isomorphic (@noble/curves, atob/btoa).
 */
import { p256 } from '@noble/curves/nist';
import { sha256 } from '@noble/hashes/sha256';
import { EphemeraError } from '../errors.js';

/** 1.2.840.10045.4.3.2 ecdsa-with-SHA256, DER-encoded (tag and length included). */
const ECDSA_WITH_SHA256 = '06082a8648ce3d040302';

interface Tlv {
  tag: number;
  /** Start of the element (its tag). */
  start: number;
  /** Start of the contents. */
  body: number;
  /** End of the element. */
  end: number;
}

const bad = (what: string): never => {
  throw new EphemeraError('ATTEST_COLLATERAL_INVALID', what, { fields: { field: 'proof.attestation.collateral' } });
};
/** Authentic, but not valid at the time of verification. */
const expired = (what: string): never => {
  throw new EphemeraError('ATTEST_COLLATERAL_EXPIRED', what, { fields: { field: 'proof.attestation.collateral' } });
};

function readTlv(der: Uint8Array, at: number, limit = der.length): Tlv {
  if (at + 2 > limit) bad('DER: truncated element');
  const tag = der[at]!;
  let length = der[at + 1]!;
  let body = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || body + count > limit) bad('DER: bad length');
    if (der[body] === 0) bad('DER: length not minimal');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[body + i]!;
    if (length < 0x80) bad('DER: length not minimal');
    body += count;
  }
  if (body + length > limit) bad('DER: element longer than its container');
  return { tag, start: at, body, end: body + length };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.body; at < parent.end; ) {
    const child = readTlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

/** The three parts of a signed object (certificate or CRL), the whole buffer being exactly one SEQUENCE. */
function signedParts(der: Uint8Array): { tbs: Tlv; algorithm: Tlv; signature: Tlv } {
  const outer = readTlv(der, 0);
  if (outer.tag !== 0x30 || outer.end !== der.length) bad('DER: not exactly one SEQUENCE');
  const [tbs, algorithm, signature, ...rest] = children(der, outer);
  if (!tbs || !algorithm || !signature || rest.length > 0 || tbs.tag !== 0x30 || signature.tag !== 0x03) bad('DER: not a signed object');
  return { tbs: tbs!, algorithm: algorithm!, signature: signature! };
}

function verifySigned(der: Uint8Array, issuerKey: Uint8Array, what: string): Tlv {
  const { tbs, algorithm, signature } = signedParts(der);
  if (hex(der.subarray(algorithm.body, algorithm.end)) !== ECDSA_WITH_SHA256) bad(`${what}: not signed with ecdsa-with-SHA256`);
  if (der[signature.body] !== 0) bad(`${what}: signature BIT STRING has unused bits`);
  const digest = sha256(der.subarray(tbs.start, tbs.end));
  const ok = p256.verify(der.subarray(signature.body + 1, signature.end), digest, issuerKey, { prehash: false, lowS: false, format: 'der' });
  if (!ok) bad(`${what}: its signature does not verify under its issuer's key`);
  return tbs;
}

/** X.509 Time (UTCTime or GeneralizedTime, UTC) as seconds since the epoch. */
function timeOf(der: Uint8Array, tlv: Tlv): number {
  const text = String.fromCharCode(...der.subarray(tlv.body, tlv.end));
  const m =
    tlv.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : tlv.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!m) return bad('DER: a time that is not UTCTime or GeneralizedTime in UTC');
  const year = tlv.tag === 0x17 ? (Number(m[1]) >= 50 ? 1900 : 2000) + Number(m[1]) : Number(m[1]);
  return Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
}

/** The P-256 public key (65-byte uncompressed point) of a certificate, and its validity window. */
export function certificateInfo(der: Uint8Array): { publicKey: Uint8Array; notBefore: number; notAfter: number } {
  const { tbs } = signedParts(der);
  const fields = children(der, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0;
  const validity = fields[offset + 3];
  const spki = fields[offset + 5];
  if (!validity || !spki || validity.tag !== 0x30 || spki.tag !== 0x30) bad('certificate: malformed');
  const [notBefore, notAfter] = children(der, validity!);
  const [, key] = children(der, spki!);
  if (!notBefore || !notAfter || !key || key.tag !== 0x03 || der[key.body] !== 0) bad('certificate: malformed');
  return { publicKey: der.slice(key!.body + 1, key!.end), notBefore: timeOf(der, notBefore!), notAfter: timeOf(der, notAfter!) };
}

/** Verifies `der` (a certificate) is signed by `issuerKey` and valid at `atSeconds`. */
export function checkCertificate(der: Uint8Array, issuerKey: Uint8Array, atSeconds: number, what: string): void {
  verifySigned(der, issuerKey, what);
  const { notBefore, notAfter } = certificateInfo(der);
  if (atSeconds < notBefore || atSeconds > notAfter) expired(`${what}: not valid at the time of verification`);
}

/** Verifies a CRL: exact DER, signed by `issuerKey`, and current at `atSeconds` (thisUpdate ≤ t ≤ nextUpdate). */
export function checkCrl(der: Uint8Array, issuerKey: Uint8Array, atSeconds: number, what: string): void {
  const tbs = verifySigned(der, issuerKey, what);
  const fields = children(der, tbs);
  const offset = fields[0]?.tag === 0x02 ? 1 : 0;
  const thisUpdate = fields[offset + 2];
  const nextUpdate = fields[offset + 3];
  if (!thisUpdate || !nextUpdate || (nextUpdate.tag !== 0x17 && nextUpdate.tag !== 0x18)) bad(`${what}: has no nextUpdate`);
  if (atSeconds < timeOf(der, thisUpdate!) || atSeconds > timeOf(der, nextUpdate!)) expired(`${what}: not current at the time of verification`);
}

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----\n';
const PEM_END = '-----END CERTIFICATE-----\n';

function toPem(der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  let body = '';
  for (let i = 0; i < b64.length; i += 64) body += `${b64.slice(i, i + 64)}\n`;
  return PEM_BEGIN + body + PEM_END;
}

/**
 * The certificates of a PEM chain, which must be written exactly as this
 * module writes them (64-character lines, `\n`, nothing between or around),
 * with one NUL after the last as Intel's quotes carry when `trailingNul`.
 */
export function pemChain(text: string, what: string, trailingNul = false): Uint8Array[] {
  const body = trailingNul && text.endsWith('\u0000') ? text.slice(0, -1) : text;
  const ders: Uint8Array[] = [];
  for (const block of body.split(PEM_BEGIN).slice(1)) {
    const base64 = block.split(PEM_END)[0]!.replaceAll('\n', '');
    let binary: string;
    try {
      binary = atob(base64);
    } catch {
      return bad(`${what}: not base64`);
    }
    ders.push(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }
  if (ders.length === 0 || ders.map(toPem).join('') !== body)
    bad(`${what}: not a PEM certificate chain written exactly (nothing may surround or separate the certificates)`);
  return ders;
}

export const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
