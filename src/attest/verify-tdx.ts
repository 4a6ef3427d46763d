/**
 * Verification of a `tdx` attestation (DESIGN §6, THREATS F41–F45). Each
 * check is reported by name; all must pass:
 *   quote.structure  version 4/5, ECDSA-256 P-256 key, TEE type TDX
 *   quote.debug      the TD is not a debug TD
 *   report_data      all 64 bytes equal what the events imply
 *   dcap             Intel's signature chain, CRLs and collateral validity (@phala/dcap-qvl)
 *   tcb_status       `UpToDate` passes; any other status fails unless the policy allows it
 *   rtmr3            the event log, every digest recomputed, replays to the quote's RTMR3
 *   compose_hash     the compose hash in that log is one of the verifier's trusted builds
 * Verification time: the policy's, else the time the collateral was fetched
 * at sealing (so a certificate still verifies after Intel rotates collateral);
 * the verdict says which.
 * Isomorphic: dcap-qvl is plain JavaScript, and `buffer` is Node's own module
 * here and the npm package of the same API in the browser bundle (web/src/tdx.ts).
 */
import qvl from '@phala/dcap-qvl';
import { Buffer } from 'buffer';
import { bytesToHex, hexToBytes } from '../events/index.js';
import { isDebugTd, parseTdxQuote } from './tdx-quote.js';
import { replayRtmr3, type EventLogEntry } from './rtmr.js';

export interface TdxPolicy {
  /** Compose hashes (hex) of the builds this verifier trusts. */
  trustedComposeHashes: readonly string[];
  /** TCB statuses accepted besides UpToDate (e.g. SWHardeningNeeded). */
  allowedTcbStatuses: readonly string[];
  /** Verification time, seconds since the epoch; default: the collateral's fetch time. */
  atSeconds?: number;
}

/** One named check; the verifier's VerifyCheck has the same shape. */
export interface Check {
  name: string;
  status: 'pass' | 'fail';
  code?: string;
  field?: string;
  detail?: string;
}
const pass = (name: string, detail?: string): Check => ({ name, status: 'pass', ...(detail ? { detail } : {}) });
const fail = (name: string, code: string, detail: string): Check => ({ name, status: 'fail', code, field: 'proof.attestation', detail });

export function dcapErrorCode(message: string): string {
  if (/signature/i.test(message)) return 'ATTEST_QUOTE_SIGNATURE_INVALID';
  if (/expired|future|not yet valid|nextUpdate/i.test(message)) return 'ATTEST_COLLATERAL_EXPIRED';
  if (/TCB level/i.test(message)) return 'ATTEST_TCB_OUT_OF_DATE';
  if (/revoked/i.test(message)) return 'ATTEST_REVOKED';
  return 'ATTEST_DCAP_FAILED';
}

export function verifyTdxAttestation(attestation: Record<string, unknown>, expectedReportData: Uint8Array, policy: TdxPolicy): Check[] {
  const checks: Check[] = [];
  let quote: Uint8Array;
  let fields;
  try {
    quote = hexToBytes(String(attestation.quote ?? ''));
    fields = parseTdxQuote(quote);
    checks.push(pass('quote.structure', `v${fields.version}, ECDSA-P256, TDX`));
  } catch {
    return [fail('quote.structure', 'ATTEST_QUOTE_MALFORMED', 'the quote is not a TDX DCAP quote (version 4/5, ECDSA P-256, TEE type 0x81)')];
  }
  checks.push(isDebugTd(fields) ? fail('quote.debug', 'ATTEST_DEBUG_TD', 'the TD runs in debug mode: the host can read its memory') : pass('quote.debug'));
  checks.push(bytesToHex(fields.reportData) === bytesToHex(expectedReportData)
    ? pass('report_data', 'all 64 bytes match')
    : fail('report_data', 'ATTEST_REPORT_DATA_MISMATCH', bytesToHex(fields.reportData.slice(0, 32)) === bytesToHex(expectedReportData.slice(0, 32)) ? 'only the first 32 bytes match' : 'the quote commits to other report data'));

  const fetchedAt = Date.parse(String(attestation.collateral_fetched_at ?? ''));
  const at = policy.atSeconds ?? (Number.isNaN(fetchedAt) ? Date.now() / 1000 : fetchedAt / 1000);
  const atText = `${new Date(at * 1000).toISOString()} (${policy.atSeconds === undefined ? 'collateral fetch time' : 'verifier-chosen time'})`;
  if (!attestation.collateral || typeof attestation.collateral !== 'object') {
    checks.push(fail('dcap', 'ATTEST_COLLATERAL_MISSING', 'no collateral in the certificate: it cannot be verified offline'));
  } else {
    try {
      const verified = qvl.verify(Buffer.from(quote), attestation.collateral as never, Math.floor(at));
      checks.push(pass('dcap', `Intel signature chain and collateral valid at ${atText}`));
      const allowed = verified.status === 'UpToDate' || policy.allowedTcbStatuses.includes(verified.status);
      checks.push(allowed ? pass('tcb_status', verified.status) : fail('tcb_status', 'ATTEST_TCB_OUT_OF_DATE', `TCB status ${verified.status}${verified.advisory_ids.length ? ` (${verified.advisory_ids.join(', ')})` : ''} is not accepted by this verifier's policy`));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      checks.push(fail('dcap', dcapErrorCode(message), `${message} at ${atText}`));
    }
  }

  const log = Array.isArray(attestation.event_log) ? (attestation.event_log as EventLogEntry[]) : [];
  let replay;
  try {
    replay = replayRtmr3(log);
  } catch {
    checks.push(fail('rtmr3', 'ATTEST_RTMR3_MISMATCH', 'the event log is malformed'));
    return checks;
  }
  if (replay.badDigestAt !== null) checks.push(fail('rtmr3', 'ATTEST_RTMR3_MISMATCH', `event_log[${replay.badDigestAt}]: its digest is not what its fields give`));
  else if (bytesToHex(replay.rtmr3) !== bytesToHex(fields.rtmr3)) checks.push(fail('rtmr3', 'ATTEST_RTMR3_MISMATCH', 'the event log does not replay to the quote\'s RTMR3'));
  else checks.push(pass('rtmr3', `${log.filter((e) => e.imr === 3).length} events replayed`));

  const trusted = policy.trustedComposeHashes.map((h) => h.toLowerCase());
  if (!replay.composeHash) checks.push(fail('compose_hash', 'ATTEST_COMPOSE_HASH_UNTRUSTED', 'the event log names no compose hash'));
  else if (!trusted.includes(replay.composeHash)) checks.push(fail('compose_hash', 'ATTEST_COMPOSE_HASH_UNTRUSTED', `compose hash ${replay.composeHash} is not among the ${trusted.length} trusted build(s)`));
  else checks.push(pass('compose_hash', replay.composeHash));
  return checks;
}

/** The verifier plug-in for `verifyCertificate({ attestationVerifiers: { tdx } })`. */
export function tdxVerifier(policy: TdxPolicy) {
  return (attestation: Record<string, unknown>, reportData: Uint8Array) => verifyTdxAttestation(attestation, reportData, policy);
}
