/**
 * The parts of an Intel TDX DCAP quote (v4/v5) the binding checks need,
 * parsed without trusting anything (signatures are dcap-qvl's job).
 *
 * Layout (Intel TDX DCAP Quote Generation Library, "Quote Format"):
 *   header   48 bytes: u16 version | u16 attestation key type | u32 TEE type | …
 *   TD report (TDREPORT 1.0 body, 584 bytes) at offset 48:
 *     tee_tcb_svn 16 | mr_seam 48 | mr_signer_seam 48 | seam_attributes 8 | td_attributes 8 | xfam 8
 *     | mr_td 48 | mr_config_id 48 | mr_owner 48 | mr_owner_config 48 | rtmr0..3 4×48 | report_data 64
 * v5 quotes carry a 6-byte body descriptor (type u16, size u32) before the report.
 * Isomorphic.
 */
import { EphemeraError } from '../errors.js';

export const QUOTE_VERSION_4 = 4;
export const QUOTE_VERSION_5 = 5;
export const ATTESTATION_KEY_ECDSA_P256 = 2;
export const TEE_TYPE_TDX = 0x81;
/** td_attributes bit 0: the TD runs in debug mode (its memory is readable by the host). */
export const TD_ATTRIBUTE_DEBUG = 0x01;

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
}

export function parseTdxQuote(quote: Uint8Array): TdxQuoteFields {
  const bad = (why: string): never => {
    throw new EphemeraError('ATTEST_QUOTE_MALFORMED', `quote: ${why}`, { fields: { field: 'proof.attestation.quote' } });
  };
  if (quote.length < HEADER + REPORT_LENGTH) bad('too short');
  const view = new DataView(quote.buffer, quote.byteOffset, quote.byteLength);
  const version = view.getUint16(0, true);
  const attestationKeyType = view.getUint16(2, true);
  const teeType = view.getUint32(4, true);
  if (version !== QUOTE_VERSION_4 && version !== QUOTE_VERSION_5) bad(`version ${version} is not 4 or 5`);
  if (attestationKeyType !== ATTESTATION_KEY_ECDSA_P256) bad(`attestation key type ${attestationKeyType} is not ECDSA-256 P-256`);
  if (teeType !== TEE_TYPE_TDX) bad(`TEE type 0x${teeType.toString(16)} is not TDX (0x81)`);
  const reportOffset = version === QUOTE_VERSION_5 ? HEADER + 6 : HEADER;
  if (quote.length < reportOffset + REPORT_LENGTH) bad('too short for its TD report');
  const at = (offset: number, length: number) => quote.slice(reportOffset + offset, reportOffset + offset + length);
  return { version, attestationKeyType, teeType, tdAttributes: at(OFF.tdAttributes, 8), rtmr3: at(OFF.rtmr3, 48), reportData: at(OFF.reportData, 64), reportOffset };
}

export function isDebugTd(fields: TdxQuoteFields): boolean {
  return (fields.tdAttributes[0]! & TD_ATTRIBUTE_DEBUG) !== 0;
}

/** Test support (the dstack simulator): a copy of `quote` with report data and RTMR3 replaced. The signature no longer holds. */
export function withReport(quote: Uint8Array, reportData: Uint8Array, rtmr3?: Uint8Array): Uint8Array {
  const fields = parseTdxQuote(quote);
  const copy = quote.slice();
  copy.set(reportData, fields.reportOffset + OFF.reportData);
  if (rtmr3) copy.set(rtmr3, fields.reportOffset + OFF.rtmr3);
  return copy;
}
