/**
 * verifyTdxAttestation check by check: what each reports (name, code, member, detail), the
 * time it verifies at and says so, what dcap-qvl is shown, and the policy on TCB status and
 * builds. The real quote of test-vectors/tdx is the base; dcap-qvl's verdict is replaced
 * where no real quote can give it (a TCB status other than UpToDate, a thrown non-Error).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import qvl from '@phala/dcap-qvl';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { replayRtmr3, runtimeEvent, type EventLogEntry } from './rtmr.js';
import { parseTdxQuote, trimQuote, withReport } from './tdx-quote.js';
import { TDX_TESTDATA } from './testing/dstack-standins.js';
import { dcapErrorCode, tdxVerifier, verifyTdxAttestation, type TdxPolicy } from './verify-tdx.js';

const read = (f: string) => readFileSync(join(TDX_TESTDATA, f));
const QUOTE = trimQuote(new Uint8Array(read('tdx_quote')));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const COLLATERAL = JSON.parse(read('tdx_quote_collateral.json').toString()) as Record<string, string>;
const REPORT = parseTdxQuote(QUOTE).reportData;
/** The quote's own PEM chain: [PCK certificate, PCK CA, Intel root]. */
const QUOTE_CHAIN = new TextDecoder()
  .decode(parseTdxQuote(QUOTE).pckChain!)
  .replace(/\u0000$/, '')
  .split(/(?<=-----END CERTIFICATE-----\n)/);
const PINNED = 1750400000; // 2025-06-20T06:13:20.000Z, inside the collateral's window
const PINNED_TEXT = '2025-06-20T06:13:20.000Z';
const policy = (over: Partial<TdxPolicy> = {}): TdxPolicy => ({ trustedComposeHashes: [], allowedTcbStatuses: [], atSeconds: PINNED, ...over });
const attestation = (over: Record<string, unknown> = {}) => ({ type: 'tdx', quote: hex(QUOTE), collateral: COLLATERAL, event_log: [], ...over });
const byName = (checks: ReturnType<typeof verifyTdxAttestation>) => Object.fromEntries(checks.map((c) => [c.name, c]));
const run = (over: Record<string, unknown> = {}, p: Partial<TdxPolicy> = {}, report = REPORT, context?: { defaultAtSeconds: number; version: 1 | 2 }) =>
  byName(verifyTdxAttestation(attestation(over), report, policy(p), context));

/** The real quote with RTMR3 set to what `log` replays to (Intel's signature no longer holds). */
const quoteFor = (log: EventLogEntry[]) => hex(withReport(QUOTE, REPORT, replayRtmr3(log).rtmr3));

afterEach(() => {
  vi.restoreAllMocks();
});

describe('dcapErrorCode', () => {
  it.each([
    ['Quote signature is invalid', 'ATTEST_QUOTE_SIGNATURE_INVALID'],
    ['bad SIGNATURE', 'ATTEST_QUOTE_SIGNATURE_INVALID'],
    ['TCBInfo expired', 'ATTEST_COLLATERAL_EXPIRED'],
    ['Certificate is in the future', 'ATTEST_COLLATERAL_EXPIRED'],
    ['certificate not yet valid', 'ATTEST_COLLATERAL_EXPIRED'],
    ['CRL past its NEXTUPDATE', 'ATTEST_COLLATERAL_EXPIRED'],
    ['No matching TCB level found', 'ATTEST_TCB_OUT_OF_DATE'],
    ['Certificate REVOKED', 'ATTEST_REVOKED'],
    ['something else', 'ATTEST_DCAP_FAILED'],
  ])('maps "%s" to %s', (message, code) => {
    expect(dcapErrorCode(message)).toBe(code);
  });
});

describe('verifyTdxAttestation', () => {
  describe('when the real quote is checked at a time its collateral covers', () => {
    it('reports every check with its detail, in order', () => {
      expect(verifyTdxAttestation(attestation(), REPORT, policy())).toEqual([
        { name: 'quote.structure', status: 'pass', detail: 'v4, ECDSA-P256, TDX' },
        { name: 'quote.debug', status: 'pass' },
        { name: 'report_data', status: 'pass', detail: 'all 64 bytes match' },
        {
          name: 'collateral',
          status: 'pass',
          detail: `chains and CRLs signed by Intel and current at ${PINNED_TEXT} (verifier-chosen time); PEM chains exact`,
        },
        { name: 'dcap', status: 'pass', detail: `Intel signature chain and collateral valid at ${PINNED_TEXT} (verifier-chosen time)` },
        { name: 'tcb_status', status: 'pass', detail: 'UpToDate' },
        { name: 'rtmr3', status: 'pass', detail: '0 events replayed' },
        {
          name: 'compose_hash',
          status: 'fail',
          code: 'ATTEST_COMPOSE_HASH_UNTRUSTED',
          field: 'proof.attestation.event_log',
          detail: 'the event log names no compose hash',
        },
      ]);
    });

    it('is what the plug-in for the certificate verifier returns', () => {
      expect(tdxVerifier(policy())(attestation(), REPORT, { defaultAtSeconds: 0, version: 2 })).toEqual(verifyTdxAttestation(attestation(), REPORT, policy()));
    });
  });

  describe('when no time is set by the verifier', () => {
    it('verifies at the sealing time the certificate states (version 2), and says so', () => {
      expect(run({}, { atSeconds: undefined }, REPORT, { defaultAtSeconds: PINNED, version: 2 }).collateral?.detail).toBe(
        `chains and CRLs signed by Intel and current at ${PINNED_TEXT} (sealing time, as the certificate states it); PEM chains exact`,
      );
    });

    it('verifies at the collateral fetch time the certificate states (version 1), and says so', () => {
      expect(run({}, { atSeconds: undefined }, REPORT, { defaultAtSeconds: PINNED, version: 1 }).dcap?.detail).toBe(
        `Intel signature chain and collateral valid at ${PINNED_TEXT} (collateral fetch time, as the certificate states it)`,
      );
    });

    it("without a context, takes the attestation's own collateral_fetched_at", () => {
      const checks = byName(verifyTdxAttestation(attestation({ collateral_fetched_at: `${PINNED_TEXT}` }), REPORT, policy({ atSeconds: undefined })));
      expect(checks.collateral).toMatchObject({
        status: 'pass',
        detail: expect.stringContaining(`${PINNED_TEXT} (sealing time, as the certificate states it)`),
      });
      expect(checks.dcap?.status).toBe('pass');
    });

    it('without a context or a fetch time, verifies now (and the archived collateral has expired)', () => {
      for (const fetched of [undefined, 1750400000000, 'not a time']) {
        const checks = byName(verifyTdxAttestation(attestation({ collateral_fetched_at: fetched }), REPORT, policy({ atSeconds: undefined })));
        expect(checks.collateral, String(fetched)).toMatchObject({ status: 'fail', code: 'ATTEST_COLLATERAL_EXPIRED', field: 'proof.attestation.collateral' });
      }
    });

    it("a time the verifier sets wins over the certificate's", () => {
      expect(run({}, { atSeconds: PINNED }, REPORT, { defaultAtSeconds: 0, version: 2 }).collateral?.status).toBe('pass');
    });
  });

  describe('when the quote is not a TDX quote', () => {
    it.each([
      ['missing', undefined],
      ['not hex', 'zz'],
      ['too short', hex(QUOTE.subarray(0, 600))],
    ])('fails quote.structure alone when it is %s', (_what, quote) => {
      expect(verifyTdxAttestation(attestation({ quote }), REPORT, policy())).toEqual([
        {
          name: 'quote.structure',
          status: 'fail',
          code: 'ATTEST_QUOTE_MALFORMED',
          field: 'proof.attestation.quote',
          detail: 'the quote is not a TDX DCAP quote (version 4/5, ECDSA P-256, TEE type 0x81, lengths as declared)',
        },
      ]);
    });

    it('fails a version-2 certificate that keeps the padding, saying how many bytes', () => {
      const padded = hex(new Uint8Array(read('tdx_quote')));
      expect(verifyTdxAttestation(attestation({ quote: padded }), REPORT, policy())).toEqual([
        {
          name: 'quote.structure',
          status: 'fail',
          code: 'ATTEST_QUOTE_MALFORMED',
          field: 'proof.attestation.quote',
          detail: `${read('tdx_quote').length - QUOTE.length} bytes after the quote's structure (a version-2 certificate carries the quote without padding)`,
        },
      ]);
    });

    it("accepts a version-1 certificate's quote without padding too", () => {
      expect(run({}, {}, REPORT, { defaultAtSeconds: PINNED, version: 1 })['quote.structure']?.status).toBe('pass');
    });
  });

  describe('when the TD is a debug TD', () => {
    it('fails quote.debug, naming the quote', () => {
      const q = QUOTE.slice();
      q[48 + 120]! |= 1;
      expect(run({ quote: hex(q) })['quote.debug']).toEqual({
        name: 'quote.debug',
        status: 'fail',
        code: 'ATTEST_DEBUG_TD',
        field: 'proof.attestation.quote',
        detail: 'the TD runs in debug mode: the host can read its memory',
      });
    });
  });

  describe('when the report data differ', () => {
    it('says whether the first half (the Merkle root) matches', () => {
      const secondHalf = REPORT.slice();
      secondHalf[40]! ^= 1;
      const firstHalf = REPORT.slice();
      firstHalf[0]! ^= 1;
      expect(run({}, {}, secondHalf).report_data).toEqual({
        name: 'report_data',
        status: 'fail',
        code: 'ATTEST_REPORT_DATA_MISMATCH',
        field: 'proof.attestation.quote',
        detail: 'only the first 32 bytes match',
      });
      expect(run({}, {}, firstHalf).report_data).toMatchObject({ code: 'ATTEST_REPORT_DATA_MISMATCH', detail: 'the quote commits to other report data' });
    });
  });

  describe("when the collateral is missing or not Intel's", () => {
    it.each([
      ['absent', undefined],
      ['null', null],
      ['a string', 'collateral'],
      ['a number', 5],
    ])('fails with ATTEST_COLLATERAL_MISSING when it is %s, and dcap-qvl is not called', (_what, collateral) => {
      const checks = run({ collateral });
      expect(checks.collateral).toEqual({
        name: 'collateral',
        status: 'fail',
        code: 'ATTEST_COLLATERAL_MISSING',
        field: 'proof.attestation.collateral',
        detail: 'no collateral in the certificate: it cannot be verified offline',
      });
      expect(checks.dcap).toBeUndefined();
    });

    const chain = (key: string) => COLLATERAL[key]!;
    const certs = (key: string) => chain(key).split(/(?<=-----END CERTIFICATE-----\n)/);
    it.each([
      [
        'the PCK CRL issuer chain without the root',
        'pck_crl_issuer_chain',
        () => certs('pck_crl_issuer_chain')[0]!,
        'collateral.pck_crl_issuer_chain: not [a certificate, the Intel SGX root CA]',
      ],
      [
        'the PCK CRL issuer chain with a third certificate',
        'pck_crl_issuer_chain',
        () => chain('pck_crl_issuer_chain') + certs('pck_crl_issuer_chain')[1]!,
        'collateral.pck_crl_issuer_chain: not [a certificate, the Intel SGX root CA]',
      ],
      [
        'the PCK CRL issuer chain ending in another certificate than the root',
        'pck_crl_issuer_chain',
        () => certs('pck_crl_issuer_chain')[0]! + certs('tcb_info_issuer_chain')[0]!,
        'collateral.pck_crl_issuer_chain: not [a certificate, the Intel SGX root CA]',
      ],
      [
        'a TCB info chain whose certificate the root did not sign',
        'tcb_info_issuer_chain',
        () => QUOTE_CHAIN[0]! + certs('tcb_info_issuer_chain')[1]!,
        "collateral.tcb_info_issuer_chain: its signature does not verify under its issuer's key",
      ],
      [
        'the QE identity chain without its root',
        'qe_identity_issuer_chain',
        () => certs('qe_identity_issuer_chain')[0]!,
        'collateral.qe_identity_issuer_chain: not [a certificate, the Intel SGX root CA]',
      ],
      [
        "a PCK CRL issuer that did not issue this quote's PCK certificate",
        'pck_crl_issuer_chain',
        () => chain('tcb_info_issuer_chain'),
        "the quote's PCK chain is not [PCK certificate, the PCK CRL's issuer, the Intel root CA]",
      ],
      ['a PCK CRL that is not hex', 'pck_crl', () => 'zz', null],
      [
        'a root CA CRL signed by the PCK CA',
        'root_ca_crl',
        () => chain('pck_crl'),
        "collateral.root_ca_crl: its signature does not verify under its issuer's key",
      ],
    ])('fails with %s, and dcap-qvl is not called', (_what, key, edit, detail) => {
      const checks = run({ collateral: { ...COLLATERAL, [key]: edit() } });
      expect(checks.collateral).toMatchObject({ name: 'collateral', status: 'fail', code: 'ATTEST_COLLATERAL_INVALID', field: 'proof.attestation.collateral' });
      if (detail) expect(checks.collateral?.detail).toBe(detail);
      expect(checks.dcap).toBeUndefined();
    });

    it('fails when the quote carries no PCK chain', () => {
      const q = QUOTE.slice();
      new DataView(q.buffer).setUint16(48 + 584 + 4 + 128, 5, true);
      expect(run({ quote: hex(q) }).collateral).toMatchObject({
        code: 'ATTEST_COLLATERAL_INVALID',
        detail: "the quote's PCK chain is not [PCK certificate, the PCK CRL's issuer, the Intel root CA]",
      });
    });

    it("fails when the quote's PCK chain is not UTF-8, without passing on the decoder's message", () => {
      const q = QUOTE.slice();
      const at = Buffer.from(q).indexOf('-----BEGIN CERTIFICATE-----') + 40;
      q[at] = 0xff;
      expect(run({ quote: hex(q) }).collateral).toEqual({
        name: 'collateral',
        status: 'fail',
        code: 'ATTEST_COLLATERAL_INVALID',
        field: 'proof.attestation.collateral',
        detail: 'the collateral is not valid',
      });
    });

    it('says a chain that is authentic but expired is expired', () => {
      expect(run({}, { atSeconds: PINNED + 20 * 365 * 86400 }).collateral).toMatchObject({
        code: 'ATTEST_COLLATERAL_EXPIRED',
        detail: expect.stringMatching(/not (valid|current) at the time of verification/),
      });
    });
  });

  describe('when dcap-qvl gives its verdict', () => {
    const verdict = (status: string, advisory_ids: string[] = []) => vi.spyOn(qvl, 'verify').mockReturnValue({ status, advisory_ids } as never);

    it('is shown the quote, the collateral and the time in whole seconds', () => {
      const spy = verdict('UpToDate');
      run({}, { atSeconds: PINNED + 0.75 });
      expect(spy).toHaveBeenCalledTimes(1);
      const [quote, collateral, at] = spy.mock.calls[0]!;
      expect([hex(quote as Uint8Array), collateral, at]).toEqual([hex(QUOTE), COLLATERAL, PINNED]);
    });

    it('fails a TCB status other than UpToDate, naming its advisories', () => {
      verdict('OutOfDate', ['INTEL-SA-00837', 'INTEL-SA-00960']);
      expect(run().tcb_status).toEqual({
        name: 'tcb_status',
        status: 'fail',
        code: 'ATTEST_TCB_OUT_OF_DATE',
        field: 'proof.attestation',
        detail: "TCB status OutOfDate (INTEL-SA-00837, INTEL-SA-00960) is not accepted by this verifier's policy",
      });
      verdict('ConfigurationNeeded');
      expect(run().tcb_status?.detail).toBe("TCB status ConfigurationNeeded is not accepted by this verifier's policy");
    });

    it('passes a status the policy allows', () => {
      verdict('SWHardeningNeeded', ['INTEL-SA-00615']);
      expect(run({}, { allowedTcbStatuses: ['SWHardeningNeeded'] }).tcb_status).toEqual({ name: 'tcb_status', status: 'pass', detail: 'SWHardeningNeeded' });
    });

    it('reports what it throws, with the time', () => {
      vi.spyOn(qvl, 'verify').mockImplementation(() => {
        throw 'certificate revoked';
      });
      expect(run().dcap).toEqual({
        name: 'dcap',
        status: 'fail',
        code: 'ATTEST_REVOKED',
        field: 'proof.attestation.quote',
        detail: `certificate revoked at ${PINNED_TEXT} (verifier-chosen time)`,
      });
    });
  });

  describe('when the event log is replayed', () => {
    const composed = [runtimeEvent('app-id', 'ab'.repeat(20)), runtimeEvent('compose-hash', 'c0'.repeat(32)), runtimeEvent('instance-id', 'cd'.repeat(20))];

    it('passes RTMR3 counting only imr-3 events, and a compose hash the policy trusts, in any case', () => {
      const boot: EventLogEntry = { imr: 0, event_type: 1, digest: '00'.repeat(48), event: 'boot', event_payload: '' };
      const checks = run({ quote: quoteFor(composed), event_log: [boot, ...composed] }, { trustedComposeHashes: ['C0'.repeat(32)] });
      expect(checks.rtmr3).toEqual({ name: 'rtmr3', status: 'pass', detail: '3 events replayed' });
      expect(checks.compose_hash).toEqual({ name: 'compose_hash', status: 'pass', detail: 'c0'.repeat(32) });
    });

    it('fails a compose hash the policy does not trust, saying how many it trusts', () => {
      expect(run({ quote: quoteFor(composed), event_log: composed }, { trustedComposeHashes: ['aa'.repeat(32), 'bb'.repeat(32)] }).compose_hash).toEqual({
        name: 'compose_hash',
        status: 'fail',
        code: 'ATTEST_COMPOSE_HASH_UNTRUSTED',
        field: 'proof.attestation.event_log',
        detail: `compose hash ${'c0'.repeat(32)} is not among the 2 trusted build(s)`,
      });
    });

    it('fails an identity event named twice, whatever the policy trusts', () => {
      const twice = [...composed, runtimeEvent('app-id', 'ee'.repeat(20))];
      expect(run({ quote: quoteFor(twice), event_log: twice }, { trustedComposeHashes: ['c0'.repeat(32)] }).compose_hash).toEqual({
        name: 'compose_hash',
        status: 'fail',
        code: 'ATTEST_EVENT_LOG_INVALID',
        field: 'proof.attestation.event_log',
        detail: 'the event log names app-id 2 times: dstack measures it once, at boot; any other was emitted by the app',
      });
    });

    it("fails a log that does not replay to the quote's RTMR3", () => {
      expect(run({ event_log: composed }, { trustedComposeHashes: ['c0'.repeat(32)] }).rtmr3).toEqual({
        name: 'rtmr3',
        status: 'fail',
        code: 'ATTEST_RTMR3_MISMATCH',
        field: 'proof.attestation.event_log',
        detail: "the event log does not replay to the quote's RTMR3",
      });
    });

    it("fails a recorded digest that is not its fields', naming the entry", () => {
      const lying = [composed[0]!, { ...composed[1]!, digest: '00'.repeat(48) }];
      expect(run({ event_log: lying }).rtmr3).toEqual({
        name: 'rtmr3',
        status: 'fail',
        code: 'ATTEST_RTMR3_MISMATCH',
        field: 'proof.attestation.event_log[1]',
        detail: 'event_log[1]: its digest is not what its fields give',
      });
    });

    it('fails a malformed log and stops there', () => {
      const checks = run({ event_log: [{ imr: 3, event_type: 1, digest: 'zz', event: 'x', event_payload: '' }] });
      expect(checks.rtmr3).toEqual({
        name: 'rtmr3',
        status: 'fail',
        code: 'ATTEST_RTMR3_MISMATCH',
        field: 'proof.attestation.event_log',
        detail: 'the event log is malformed',
      });
      expect(checks.compose_hash).toBeUndefined();
    });

    it('reads an event log that is not an array as empty', () => {
      expect(run({ event_log: { 0: composed[0] } }).rtmr3).toEqual({ name: 'rtmr3', status: 'pass', detail: '0 events replayed' });
    });
  });
});
