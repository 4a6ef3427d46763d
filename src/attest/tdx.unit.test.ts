/** TDX quote verification on real quotes (test-vectors/tdx, from Phala-Network/dcap-qvl). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from '../events/index.js';
import { verifyTdxAttestation, type TdxPolicy } from './verify-tdx.js';
import { parseTdxQuote, trimQuote } from './tdx-quote.js';
import { runtimeEvent, replayRtmr3 } from './rtmr.js';
import { TDX_TESTDATA } from './testing/dstack-standins.js';

const read = (f: string) => readFileSync(join(TDX_TESTDATA, f));
/** The real quote as a version-2 certificate carries it: without the zero padding the hardware adds. */
const VALID = Buffer.from(trimQuote(read('tdx_quote'))).toString('hex');
const VALID_COLLATERAL = JSON.parse(read('tdx_quote_collateral.json').toString());
const REPORT = hexToBytes('9a9d48e7f6799642d3d1b34e1e5e1742d4bb02dd6ddd551862c1211d35c304f9eca3efdbb481601c163cf52493d6e44aed55d51ec39b7e518fadb92c2b523f20');
const PINNED = 1750400000; // inside the collateral's window, 2025-06-19 .. 2025-07-19
const policy = (over: Partial<TdxPolicy> = {}): TdxPolicy => ({ trustedComposeHashes: [], allowedTcbStatuses: [], atSeconds: PINNED, ...over });
const byName = (checks: ReturnType<typeof verifyTdxAttestation>) => Object.fromEntries(checks.map((c) => [c.name, c]));
const attestation = (over: Record<string, unknown> = {}) => ({ type: 'tdx', quote: VALID, collateral: VALID_COLLATERAL, event_log: [], ...over });

describe('verifyTdxAttestation', () => {
  describe('when the real quote is checked at its pinned time with its collateral', () => {
    it('passes structure, debug, report data, DCAP and TCB (UpToDate); RTMR3 replays from an empty log', () => {
      const checks = byName(verifyTdxAttestation(attestation(), REPORT, policy()));
      for (const name of ['quote.structure', 'quote.debug', 'report_data', 'dcap', 'tcb_status', 'rtmr3']) expect(checks[name]?.status, name).toBe('pass');
      expect(checks.tcb_status!.detail).toBe('UpToDate');
      expect(checks.compose_hash).toMatchObject({ status: 'fail', code: 'ATTEST_COMPOSE_HASH_UNTRUSTED' });
    });
  });

  describe('when something is wrong', () => {
    it('expired collateral (checked today) fails with ATTEST_COLLATERAL_EXPIRED, before dcap-qvl parses any of it', () => {
      const checks = byName(verifyTdxAttestation(attestation(), REPORT, policy({ atSeconds: Date.now() / 1000 })));
      expect(checks.collateral).toMatchObject({ status: 'fail', code: 'ATTEST_COLLATERAL_EXPIRED' });
      expect(checks.dcap).toBeUndefined();
    });

    it('a tampered TD report fails with ATTEST_QUOTE_SIGNATURE_INVALID', () => {
      const q = Buffer.from(VALID, 'hex');
      q[300] ^= 1;
      expect(byName(verifyTdxAttestation(attestation({ quote: q.toString('hex') }), REPORT, policy())).dcap).toMatchObject({
        status: 'fail',
        code: 'ATTEST_QUOTE_SIGNATURE_INVALID',
      });
    });

    it('the outdated platform fails on TCB with ATTEST_TCB_OUT_OF_DATE', () => {
      const checks = byName(
        verifyTdxAttestation(
          attestation({
            quote: Buffer.from(trimQuote(read('tdx_quote_outdated'))).toString('hex'),
            collateral: JSON.parse(read('tdx_quote_outdated_collateral.json').toString()),
          }),
          REPORT,
          policy({ atSeconds: 1771498731 }),
        ),
      );
      expect(checks.dcap).toMatchObject({ status: 'fail', code: 'ATTEST_TCB_OUT_OF_DATE' });
    });

    it('no collateral fails with ATTEST_COLLATERAL_MISSING', () => {
      expect(byName(verifyTdxAttestation(attestation({ collateral: undefined }), REPORT, policy())).collateral).toMatchObject({
        code: 'ATTEST_COLLATERAL_MISSING',
      });
    });

    it('report data matching only the first 32 bytes fails with ATTEST_REPORT_DATA_MISMATCH (THREATS F43)', () => {
      const half = REPORT.slice();
      half[63] ^= 1;
      expect(byName(verifyTdxAttestation(attestation(), half, policy())).report_data).toMatchObject({
        status: 'fail',
        code: 'ATTEST_REPORT_DATA_MISMATCH',
        detail: 'only the first 32 bytes match',
      });
    });

    it('a debug TD fails with ATTEST_DEBUG_TD', () => {
      const q = Buffer.from(VALID, 'hex');
      q[parseTdxQuote(q).reportOffset + 120] |= 1;
      expect(byName(verifyTdxAttestation(attestation({ quote: q.toString('hex') }), REPORT, policy()))['quote.debug']).toMatchObject({
        status: 'fail',
        code: 'ATTEST_DEBUG_TD',
      });
    });

    it.each([
      ['version', 0, 3],
      ['attestation key type', 2, 3],
      ['TEE type', 4, 0x00],
    ])('a quote with another %s fails with ATTEST_QUOTE_MALFORMED (THREATS F45)', (_what, offset, value) => {
      const q = Buffer.from(VALID, 'hex');
      q[offset] = value;
      expect(verifyTdxAttestation(attestation({ quote: q.toString('hex') }), REPORT, policy())).toEqual([
        expect.objectContaining({ name: 'quote.structure', code: 'ATTEST_QUOTE_MALFORMED' }),
      ]);
    });

    it('an event log that does not replay to RTMR3, or lies about a digest, fails with ATTEST_RTMR3_MISMATCH (THREATS F44)', () => {
      const log = [runtimeEvent('compose-hash', 'aa'.repeat(32))];
      expect(byName(verifyTdxAttestation(attestation({ event_log: log }), REPORT, policy())).rtmr3).toMatchObject({
        code: 'ATTEST_RTMR3_MISMATCH',
        detail: expect.stringContaining('replay'),
      });
      const lying = [{ ...log[0]!, event_payload: 'bb'.repeat(32) }];
      expect(byName(verifyTdxAttestation(attestation({ event_log: lying }), REPORT, policy())).rtmr3).toMatchObject({
        code: 'ATTEST_RTMR3_MISMATCH',
        detail: expect.stringContaining('event_log[0]'),
      });
    });
  });

  describe('when the quote carries bytes past its structure', () => {
    const padded = read('tdx_quote').toString('hex');
    it('a version-2 certificate is refused with ATTEST_QUOTE_MALFORMED (no byte of an attestation goes unverified)', () => {
      expect(verifyTdxAttestation(attestation({ quote: padded }), REPORT, policy(), { defaultAtSeconds: PINNED, version: 2 })).toEqual([
        expect.objectContaining({ name: 'quote.structure', code: 'ATTEST_QUOTE_MALFORMED' }),
      ]);
    });
    it("version 1 accepts the hardware's zero padding, and nothing else", () => {
      expect(byName(verifyTdxAttestation(attestation({ quote: padded }), REPORT, policy(), { defaultAtSeconds: PINNED, version: 1 })).dcap?.status).toBe(
        'pass',
      );
      const junk = Buffer.from(padded, 'hex');
      junk[junk.length - 1] = 1;
      expect(verifyTdxAttestation(attestation({ quote: junk.toString('hex') }), REPORT, policy(), { defaultAtSeconds: PINNED, version: 1 })[0]).toMatchObject({
        code: 'ATTEST_QUOTE_MALFORMED',
      });
    });
  });

  describe('when the collateral dcap-qvl does not authenticate is edited', () => {
    const edited = (key: string, edit: (value: string) => string) => attestation({ collateral: { ...VALID_COLLATERAL, [key]: edit(VALID_COLLATERAL[key]) } });
    const flipHexByte = (hex: string, at: number) =>
      hex.slice(0, at * 2) + (parseInt(hex.slice(at * 2, at * 2 + 2), 16) ^ 1).toString(16).padStart(2, '0') + hex.slice(at * 2 + 2);
    it.each([
      ['a byte of the PCK CRL flipped', edited('pck_crl', (v) => flipHexByte(v, 200))],
      ['a byte of the root CA CRL flipped', edited('root_ca_crl', (v) => flipHexByte(v, 100))],
      ['bytes appended to the PCK CRL', edited('pck_crl', (v) => `${v}00`)],
      ['the PCK CRL replaced by the root CA CRL', edited('pck_crl', () => VALID_COLLATERAL.root_ca_crl)],
      [
        'text between the certificates of a chain',
        edited('pck_crl_issuer_chain', (v) => v.replace('-----END CERTIFICATE-----\n', '-----END CERTIFICATE-----\naudited by X\n')),
      ],
      ['text after the TCB info chain', edited('tcb_info_issuer_chain', (v) => `${v}hello\n`)],
      ['CRLF line ends in the QE identity chain', edited('qe_identity_issuer_chain', (v) => v.replaceAll('\n', '\r\n'))],
    ])('%s fails with ATTEST_COLLATERAL_INVALID', (_what, doc) => {
      expect(byName(verifyTdxAttestation(doc, REPORT, policy())).collateral).toMatchObject({ status: 'fail', code: 'ATTEST_COLLATERAL_INVALID' });
    });
    it('passes at the pinned time, and fails once the CRLs are no longer current', () => {
      expect(byName(verifyTdxAttestation(attestation(), REPORT, policy())).collateral?.status).toBe('pass');
      expect(byName(verifyTdxAttestation(attestation(), REPORT, policy({ atSeconds: Date.now() / 1000 }))).collateral).toMatchObject({
        code: 'ATTEST_COLLATERAL_EXPIRED',
        detail: expect.stringMatching(/not (current|valid)/),
      });
    });
  });

  describe("when the collateral is not Intel's", () => {
    const chainOf = (key: string) => VALID_COLLATERAL[key] as string;
    it.each([
      ['the TCB info chain without its signing certificate', 'tcb_info_issuer_chain', (c: string) => c.slice(c.indexOf('-----BEGIN', 10))],
      [
        'the QE identity chain with the PCK CA in place of the root',
        'qe_identity_issuer_chain',
        () =>
          `${chainOf('pck_crl_issuer_chain').split('-----END CERTIFICATE-----\n')[0]}-----END CERTIFICATE-----\n${chainOf('pck_crl_issuer_chain').split('-----END CERTIFICATE-----\n')[0]}-----END CERTIFICATE-----\n`,
      ],
      ["a PCK CRL that is any DER but Intel's", 'pck_crl', () => `30820100${'02'.repeat(0)}${'00'.repeat(256)}`],
    ])('%s fails with ATTEST_COLLATERAL_INVALID, and dcap-qvl never parses it', (_what, key, edit) => {
      const checks = byName(verifyTdxAttestation(attestation({ collateral: { ...VALID_COLLATERAL, [key]: edit(chainOf(key)) } }), REPORT, policy()));
      expect(checks.collateral).toMatchObject({ status: 'fail', code: 'ATTEST_COLLATERAL_INVALID' });
      expect(checks.dcap).toBeUndefined();
    });
  });

  describe('when the event log names an identity twice', () => {
    it('fails with ATTEST_EVENT_LOG_INVALID: an app can emit any event after boot, so only one compose hash may stand', () => {
      const log = [runtimeEvent('compose-hash', 'bad0'.repeat(16)), runtimeEvent('compose-hash', 'aa'.repeat(32))];
      const checks = byName(verifyTdxAttestation(attestation({ event_log: log }), REPORT, policy({ trustedComposeHashes: ['aa'.repeat(32)] })));
      expect(checks.compose_hash).toMatchObject({ status: 'fail', code: 'ATTEST_EVENT_LOG_INVALID' });
      expect(replayRtmr3(log).composeHash).toBe('bad0'.repeat(16));
    });
  });

  describe('when the compose hash is replayed from the log', () => {
    it('passes only if the verifier trusts it', () => {
      const log = [runtimeEvent('compose-hash', 'aa'.repeat(32))];
      expect(replayRtmr3(log).composeHash).toBe('aa'.repeat(32));
    });
  });
});
