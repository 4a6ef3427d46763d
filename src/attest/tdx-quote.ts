/**
 * The parts of an Intel TDX DCAP quote (v4/v5) the binding checks need,
 * parsed without trusting anything (signatures are dcap-qvl's job).
 *
 * Layout (Intel TDX DCAP Quote Generation Library, "Quote Format"):
 *   header   48 bytes: u16 version | u16 attestation key type | u32 TEE type | …
 *   v5 only: body descriptor u16 type | u32 size
 *   TD report (TDREPORT body, 584 bytes for TDX 1.0, 648 for 1.5):
 *     tee_tcb_svn 16 | mr_seam 48 | mr_signer_seam 48 | seam_attributes 8 | td_attributes 8 | xfam 8
 *     | mr_td 48 | mr_config_id 48 | mr_owner 48 | mr_owner_config 48 | rtmr0..3 4×48 | report_data 64 | …
 *   u32 signature data length, then the signature data:
 *     ECDSA signature 64 | attestation key 64 | u16 certification data type | u32 size | data
 *     type 6 (QE report certification data): QE report 384 | QE report signature 64
 *       | u16 QE auth data size | auth data | u16 type (5: PCK certificate chain) | u32 size | PEM chain
 * `length` is where the declared structure ends; hardware pads quotes with
 * zero bytes beyond it, which a version-2 certificate must not carry.
 * Isomorphic.
 */
import { EphemeraError } from '../errors.js';

export const QUOTE_VERSION_4 = 4;
export const QUOTE_VERSION_5 = 5;
export const ATTESTATION_KEY_ECDSA_P256 = 2;
export const TEE_TYPE_TDX = 0x81;
/** td_attributes bit 0: the TD runs in debug mode (its memory is readable by the host). */
export const TD_ATTRIBUTE_DEBUG = 0x01;
const CERT_DATA_QE_REPORT = 6;
const CERT_DATA_PCK_CHAIN = 5;

const HEADER = 48;
const OFF = { tdAttributes: 120, rtmr3: 472, reportData: 520 } as const;
const REPORT_LENGTH = 584;

export interface TdxQuoteFields {
  version: number;
  attestationKeyType: number;
  teeType: number;
  tdAttributes: Uint8Array;
  rtmr3: Uint8Array;
  reportData: Uint8Array;
  /** Offset of the TD report in the quote. */
  reportOffset: number;
  /** Length of the quote's declared structure; bytes past it are padding. */
  length: number;
  /** The PCK certificate chain carried in the quote (PEM text), when it has one. */
  pckChain: Uint8Array | null;
}

export function parseTdxQuote(quote: Uint8Array): TdxQuoteFields {
  const bad = (why: string): never => {
    throw new EphemeraError('ATTEST_QUOTE_MALFORMED', `quote: ${why}`, { fields: { field: 'proof.attestation.quote' } });
  };
  if (quote.length < HEADER + REPORT_LENGTH) bad('too short');
  const view = new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  const need = (end: number) => {
    if (end > quote.length) bad('shorter than the lengths it declares');
  };
  const version = view.getUint16(0, true);
  const attestationKeyType = view.getUint16(2, true);
  const teeType = view.getUint32(4, true);
  if (version !== QUOTE_VERSION_4 && version !== QUOTE_VERSION_5) bad(`version ${version} is not 4 or 5`);
  if (attestationKeyType !== ATTESTATION_KEY_ECDSA_P256) bad(`attestation key type ${attestationKeyType} is not ECDSA-256 P-256`);
  if (teeType !== TEE_TYPE_TDX) bad(`TEE type 0x${teeType.toString(16)} is not TDX (0x81)`);
  let reportOffset = HEADER;
  let bodyLength = REPORT_LENGTH;
  if (version === QUOTE_VERSION_5) {
    need(HEADER + 6);
    bodyLength = view.getUint32(HEADER + 2, true);
    reportOffset = HEADER + 6;
    if (bodyLength < REPORT_LENGTH) bad('its TD report is too short');
  }
  need(reportOffset + bodyLength + 4);
  const at = (offset: number, length: number) => quote.slice(reportOffset + offset, reportOffset + offset + length);
  const sigStart = reportOffset + bodyLength + 4;
  const sigLength = view.getUint32(reportOffset + bodyLength, true);
  const length = sigStart + sigLength;
  need(length);
  need(sigStart + 134);
  const certType = view.getUint16(sigStart + 128, true);
  const certSize = view.getUint32(sigStart + 130, true);
  if (134 + certSize !== sigLength) bad('its certification data does not fill its signature data exactly');
  let pckChain: Uint8Array | null = null;
  if (certType === CERT_DATA_QE_REPORT) {
    const c = sigStart + 134;
    need(c + 450);
    const authSize = view.getUint16(c + 448, true);
    const inner = c + 450 + authSize;
    need(inner + 6);
    const innerType = view.getUint16(inner, true);
    const innerSize = view.getUint32(inner + 2, true);
    if (450 + authSize + 6 + innerSize !== certSize) bad('its QE certification data does not fill its declared size exactly');
    if (innerType === CERT_DATA_PCK_CHAIN) pckChain = quote.slice(inner + 6, inner + 6 + innerSize);
  }
  return {
    version,
    attestationKeyType,
    teeType,
    tdAttributes: at(OFF.tdAttributes, 8),
    rtmr3: at(OFF.rtmr3, 48),
    reportData: at(OFF.reportData, 64),
    reportOffset,
    length,
    pckChain,
  };
}

export function isDebugTd(fields: TdxQuoteFields): boolean {
  return (fields.tdAttributes[0]! & TD_ATTRIBUTE_DEBUG) !== 0;
}

/** The quote without the zero padding hardware adds past its structure (what a version-2 certificate carries). */
export function trimQuote(quote: Uint8Array): Uint8Array {
  const { length } = parseTdxQuote(quote);
  if (quote.subarray(length).some((byte) => byte !== 0)) {
    throw new EphemeraError('ATTEST_QUOTE_MALFORMED', 'quote: non-zero bytes after its structure', { fields: { field: 'proof.attestation.quote' } });
  }
  return quote.slice(0, length);
}

/** Test support (the dstack simulator): a copy of `quote` with report data and RTMR3 replaced. The signature no longer holds. */
export function withReport(quote: Uint8Array, reportData: Uint8Array, rtmr3?: Uint8Array): Uint8Array {
  const fields = parseTdxQuote(quote);
  const copy = quote.slice();
  copy.set(reportData, fields.reportOffset + OFF.reportData);
  if (rtmr3) copy.set(rtmr3, fields.reportOffset + OFF.rtmr3);
  return copy;
}
