/**
 * Verification of a `tdx` attestation (docs/verification.md §7.2, THREATS
 * F41–F45). Each check is reported by name; all must pass:
 *   quote.structure  version 4/5, ECDSA-256 P-256 key, TEE type TDX, every declared length exact
 *                    (version 2: no byte past the structure; version 1: only zero padding)
 *   quote.debug      the TD is not a debug TD
 *   report_data      all 64 bytes equal what the events imply
 *   collateral       both CRLs signed by their Intel issuers and current, the PCK CRL's issuer
 *                    the CA that issued this quote's PCK certificate, every PEM chain written exactly
 *   dcap             Intel's signature chain, CRLs and collateral validity (@phala/dcap-qvl)
 *   tcb_status       `UpToDate` passes; any other status fails unless the policy allows it
 *   rtmr3            the event log, every digest recomputed, replays to the quote's RTMR3
 *   compose_hash     the compose hash in that log is one of the verifier's trusted builds
 * Verification time: the policy's, else the committed sealing time (version 2;
 * version 1: the collateral's fetch time); the verdict says which.
 * Isomorphic: dcap-qvl is plain JavaScript, and `buffer` is Node's own module
 * here and the npm package of the same API in the browser bundle (web/src/tdx.ts).
 */
import qvl from '@phala/dcap-qvl';
import { Buffer } from 'buffer';
import type { ErrorCode } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { bytesToHex, hexToBytes } from '../events/index.js';
import { isDebugTd, parseTdxQuote, type TdxQuoteFields } from './tdx-quote.js';
import { replayRtmr3, type EventLogEntry } from './rtmr.js';
import { certificateInfo, checkCertificate, checkCrl, pemChain, sameBytes } from './x509.js';

export interface TdxPolicy {
  /** Compose hashes (hex) of the builds this verifier trusts. */
  trustedComposeHashes: readonly string[];
  /** TCB statuses accepted besides UpToDate (e.g. SWHardeningNeeded). */
  allowedTcbStatuses: readonly string[];
  /** Verification time, seconds since the epoch; default: the sealing time the certificate commits to. */
  atSeconds?: number;
}

/** What the certificate verifier passes besides the attestation (verify/AttestationContext). */
export interface TdxContext {
  defaultAtSeconds: number;
  version: 1 | 2;
}

/** One named check; the verifier's AttestationCheck has the same shape. */
export interface Check {
  name: string;
  status: 'pass' | 'fail';
  code?: ErrorCode;
  field?: string;
  detail?: string;
}
const FIELD = 'proof.attestation';
const pass = (name: string, detail?: string): Check => ({ name, status: 'pass', ...(detail ? { detail } : {}) });
const fail = (name: string, code: ErrorCode, detail: string, member = ''): Check => ({
  name,
  status: 'fail',
  code,
  field: member ? `${FIELD}.${member}` : FIELD,
  detail,
});

export function dcapErrorCode(message: string): ErrorCode {
  if (/signature/i.test(message)) return 'ATTEST_QUOTE_SIGNATURE_INVALID';
  if (/expired|future|not yet valid|nextUpdate/i.test(message)) return 'ATTEST_COLLATERAL_EXPIRED';
  if (/TCB level/i.test(message)) return 'ATTEST_TCB_OUT_OF_DATE';
  if (/revoked/i.test(message)) return 'ATTEST_REVOKED';
  return 'ATTEST_DCAP_FAILED';
}

const INTEL_ROOT_CA = new Uint8Array((qvl as unknown as { constants: { TRUSTED_ROOT_CA_DER: Uint8Array } }).constants.TRUSTED_ROOT_CA_DER);

const invalid = (why: string): never => {
  throw new EphemeraError('ATTEST_COLLATERAL_INVALID', why);
};

/** [certificate signed by the Intel root, the Intel root itself], written exactly; returns the first. */
function issuedByRoot(text: string, what: string, rootKey: Uint8Array, atSeconds: number): Uint8Array {
  const [issued, root, ...more] = pemChain(text, what);
  if (!issued || !root || more.length > 0 || !sameBytes(root, INTEL_ROOT_CA)) invalid(`${what}: not [a certificate, the Intel SGX root CA]`);
  checkCertificate(issued!, rootKey, atSeconds, what);
  return issued!;
}

/**
 * Authenticates everything in the collateral and in the quote's certificate
 * chain that dcap-qvl parses, before dcap-qvl sees any of it: its parser
 * converts certificate and CRL serial numbers with a quadratic bignum
 * routine, and it reads revocations from CRLs it never authenticates.
 * Throws ATTEST_COLLATERAL_INVALID.
 */
function checkCollateral(collateral: Record<string, unknown>, quote: TdxQuoteFields, atSeconds: number): void {
  const text = (key: string) => (typeof collateral[key] === 'string' ? (collateral[key] as string) : '');
  const rootKey = certificateInfo(INTEL_ROOT_CA).publicKey;
  const ca = issuedByRoot(text('pck_crl_issuer_chain'), 'collateral.pck_crl_issuer_chain', rootKey, atSeconds);
  issuedByRoot(text('tcb_info_issuer_chain'), 'collateral.tcb_info_issuer_chain', rootKey, atSeconds);
  issuedByRoot(text('qe_identity_issuer_chain'), 'collateral.qe_identity_issuer_chain', rootKey, atSeconds);
  const quoteChain = quote.pckChain ? pemChain(new TextDecoder('utf-8', { fatal: true }).decode(quote.pckChain), "the quote's PCK chain", true) : [];
  if (quoteChain.length !== 3 || !sameBytes(quoteChain[1]!, ca) || !sameBytes(quoteChain[2]!, INTEL_ROOT_CA))
    invalid("the quote's PCK chain is not [PCK certificate, the PCK CRL's issuer, the Intel root CA]");
  checkCertificate(quoteChain[0]!, certificateInfo(ca).publicKey, atSeconds, "the quote's PCK certificate");
  checkCrl(hexToBytes(text('pck_crl')), certificateInfo(ca).publicKey, atSeconds, 'collateral.pck_crl');
  checkCrl(hexToBytes(text('root_ca_crl')), rootKey, atSeconds, 'collateral.root_ca_crl');
}

function dcap(quote: Uint8Array, collateral: object, at: number, atText: string, policy: TdxPolicy): Check[] {
  try {
    const verified = qvl.verify(Buffer.from(quote), collateral as never, Math.floor(at));
    const allowed = verified.status === 'UpToDate' || policy.allowedTcbStatuses.includes(verified.status);
    return [
      pass('dcap', `Intel signature chain and collateral valid at ${atText}`),
      allowed
        ? pass('tcb_status', verified.status)
        : fail(
            'tcb_status',
            'ATTEST_TCB_OUT_OF_DATE',
            `TCB status ${verified.status}${verified.advisory_ids.length ? ` (${verified.advisory_ids.join(', ')})` : ''} is not accepted by this verifier's policy`,
          ),
    ];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return [fail('dcap', dcapErrorCode(message), `${message} at ${atText}`, 'quote')];
  }
}

export function verifyTdxAttestation(attestation: Record<string, unknown>, expectedReportData: Uint8Array, policy: TdxPolicy, context?: TdxContext): Check[] {
  const version = context?.version ?? 2;
  const checks: Check[] = [];
  let quote: Uint8Array;
  let fields: TdxQuoteFields;
  try {
    quote = hexToBytes(typeof attestation.quote === 'string' ? attestation.quote : '');
    fields = parseTdxQuote(quote);
  } catch {
    return [
      fail(
        'quote.structure',
        'ATTEST_QUOTE_MALFORMED',
        'the quote is not a TDX DCAP quote (version 4/5, ECDSA P-256, TEE type 0x81, lengths as declared)',
        'quote',
      ),
    ];
  }
  const padding = quote.subarray(fields.length);
  if (version === 2 ? padding.length > 0 : padding.some((b) => b !== 0)) {
    return [
      fail(
        'quote.structure',
        'ATTEST_QUOTE_MALFORMED',
        `${padding.length} bytes after the quote's structure (a version-2 certificate carries the quote without padding)`,
        'quote',
      ),
    ];
  }
  checks.push(pass('quote.structure', `v${fields.version}, ECDSA-P256, TDX`));
  checks.push(
    isDebugTd(fields) ? fail('quote.debug', 'ATTEST_DEBUG_TD', 'the TD runs in debug mode: the host can read its memory', 'quote') : pass('quote.debug'),
  );
  checks.push(
    bytesToHex(fields.reportData) === bytesToHex(expectedReportData)
      ? pass('report_data', 'all 64 bytes match')
      : fail(
          'report_data',
          'ATTEST_REPORT_DATA_MISMATCH',
          bytesToHex(fields.reportData.slice(0, 32)) === bytesToHex(expectedReportData.slice(0, 32))
            ? 'only the first 32 bytes match'
            : 'the quote commits to other report data',
          'quote',
        ),
  );

  const fetchedAt = Date.parse(typeof attestation.collateral_fetched_at === 'string' ? attestation.collateral_fetched_at : '');
  const at = policy.atSeconds ?? context?.defaultAtSeconds ?? (Number.isNaN(fetchedAt) ? Date.now() / 1000 : fetchedAt / 1000);
  const source =
    policy.atSeconds !== undefined
      ? 'verifier-chosen time'
      : version === 2
        ? 'sealing time, as the certificate states it'
        : 'collateral fetch time, as the certificate states it';
  const atText = `${new Date(at * 1000).toISOString()} (${source})`;
  const collateral = attestation.collateral;
  if (!collateral || typeof collateral !== 'object') {
    checks.push(fail('collateral', 'ATTEST_COLLATERAL_MISSING', 'no collateral in the certificate: it cannot be verified offline', 'collateral'));
  } else {
    let authenticated = false;
    try {
      checkCollateral(collateral as Record<string, unknown>, fields, at);
      checks.push(pass('collateral', `chains and CRLs signed by Intel and current at ${atText}; PEM chains exact`));
      authenticated = true;
    } catch (error) {
      checks.push(
        fail(
          'collateral',
          error instanceof EphemeraError ? error.code : 'ATTEST_COLLATERAL_INVALID',
          error instanceof EphemeraError ? error.message : 'the collateral is not valid',
          'collateral',
        ),
      );
    }
    // dcap-qvl only ever parses authenticated input (checkCollateral says why).
    if (authenticated) checks.push(...dcap(quote, collateral, at, atText, policy));
  }

  const log = Array.isArray(attestation.event_log) ? (attestation.event_log as EventLogEntry[]) : [];
  let replay: ReturnType<typeof replayRtmr3>;
  try {
    replay = replayRtmr3(log);
  } catch {
    checks.push(fail('rtmr3', 'ATTEST_RTMR3_MISMATCH', 'the event log is malformed', 'event_log'));
    return checks;
  }
  if (replay.badDigestAt !== null)
    checks.push(
      fail('rtmr3', 'ATTEST_RTMR3_MISMATCH', `event_log[${replay.badDigestAt}]: its digest is not what its fields give`, `event_log[${replay.badDigestAt}]`),
    );
  else if (bytesToHex(replay.rtmr3) !== bytesToHex(fields.rtmr3))
    checks.push(fail('rtmr3', 'ATTEST_RTMR3_MISMATCH', "the event log does not replay to the quote's RTMR3", 'event_log'));
  else checks.push(pass('rtmr3', `${log.filter((e) => e.imr === 3).length} events replayed`));

  const trusted = policy.trustedComposeHashes.map((h) => h.toLowerCase());
  const repeated = [...replay.identityEvents].find(([, n]) => n > 1);
  if (repeated)
    checks.push(
      fail(
        'compose_hash',
        'ATTEST_EVENT_LOG_INVALID',
        `the event log names ${repeated[0]} ${repeated[1]} times: dstack measures it once, at boot; any other was emitted by the app`,
        'event_log',
      ),
    );
  else if (!replay.composeHash) checks.push(fail('compose_hash', 'ATTEST_COMPOSE_HASH_UNTRUSTED', 'the event log names no compose hash', 'event_log'));
  else if (!trusted.includes(replay.composeHash))
    checks.push(
      fail(
        'compose_hash',
        'ATTEST_COMPOSE_HASH_UNTRUSTED',
        `compose hash ${replay.composeHash} is not among the ${trusted.length} trusted build(s)`,
        'event_log',
      ),
    );
  else checks.push(pass('compose_hash', replay.composeHash));
  return checks;
}

/** The verifier plug-in for `verifyCertificate({ attestationVerifiers: { tdx } })`. */
export function tdxVerifier(policy: TdxPolicy) {
  return (attestation: Record<string, unknown>, reportData: Uint8Array, context?: TdxContext) => verifyTdxAttestation(attestation, reportData, policy, context);
}
