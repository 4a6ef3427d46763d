/**
 * The verdict, check by check: which check fails and which are skipped, the first
 * failure's code, member and message, trust and its reasons, version 1's notice, the
 * attestation plug-ins' sub-checks, and the limits on the way in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIMULATED_NOTICE } from '../attest/index.js';
import { EphemeraError } from '../errors.js';
import { CertificateVerifier, verifyCertificate, verifyCertificateChunks, verifyCertificateText, type AttestationVerifier, type Verdict } from './index.js';
import { richEvents } from './testing/conformance.js';
import { VECTOR_PUBLIC_KEY, ev, rederive, rehash, reseal, sealEvents, type Doc } from './testing/forge.js';

const CASES = join(import.meta.dirname, '../../test-vectors/certificates/cases');
const caseDoc = (name: string) => JSON.parse(readFileSync(join(CASES, `${name}.json`), 'utf8')) as Doc;
const valid = () => sealEvents(richEvents()) as unknown as Doc;
const rows = (verdict: Verdict) => verdict.checks.map((c) => `${c.name}:${c.status}`);
const SEAL = 'events[15]';
const passes: AttestationVerifier = () => [{ name: 'dcap', status: 'pass' }];

/** A version-1 certificate whose attestation is replaced (re-hashed; its summary re-derived). */
const v1With = (attestation: Record<string, unknown>) => {
  const doc = caseDoc('v1-valid');
  ev(doc, -1).data.attestation = attestation;
  rehash(ev(doc, -1));
  rederive(doc);
  return doc;
};

describe('the verdict', () => {
  describe('when the certificate is valid', () => {
    it('says so in every member', async () => {
      const verdict = await verifyCertificate(valid(), { trustedKeys: [VECTOR_PUBLIC_KEY] });
      expect(verdict).toMatchObject({
        valid: true,
        trusted: true,
        status: 'trusted',
        certificate_id: 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY',
        format_version: 2,
        tee: 'simulated',
        hardware_backed: false,
        failure: null,
        notice: SIMULATED_NOTICE,
        uncommitted: [],
        input: { mode: 'plain' },
        sealed_result: null,
      });
      expect(verdict.checks).toEqual(['document', 'events', 'merkle', 'report_data', 'attestation', 'fields'].map((name) => ({ name, status: 'pass' })));
    });
  });

  describe('when the document fails', () => {
    it('fails document alone and skips every later check', async () => {
      const doc = valid();
      delete doc.status;
      const verdict = await verifyCertificate(doc);
      expect(verdict).toMatchObject({
        valid: false,
        trusted: false,
        status: 'invalid',
        key: null,
        tee: null,
        notice: null,
        trust: { basis: null, reason: 'the certificate is not valid' },
        failure: { code: 'VERIFY_MISSING_MEMBER', field: 'status', message: 'status: missing member' },
      });
      expect(verdict.checks[0]).toEqual({ name: 'document', status: 'fail', code: 'VERIFY_MISSING_MEMBER', field: 'status', detail: 'status: missing member' });
      expect(rows(verdict)).toEqual(['document:fail', 'events:skipped', 'merkle:skipped', 'report_data:skipped', 'attestation:skipped', 'fields:skipped']);
    });

    it.each([
      ['not cert_<ULID>', 'cert_01jd7zx3q4m5n6p7r8s9t0vwxy', 'cert_01jd7zx3q4m5n6p7r8s9t0vwxy'],
      ['a bare ULID', '01JD7ZX3Q4M5N6P7R8S9T0VWXY', '01JD7ZX3Q4M5N6P7R8S9T0VWXY'],
      ['a ULID with text after it', 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXYZ', 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXYZ'],
      ['a ULID with text before it', 'xcert_01JD7ZX3Q4M5N6P7R8S9T0VWXY', 'xcert_01JD7ZX3Q4M5N6P7R8S9T0VWXY'],
      ['a number', 7, null],
    ])('refuses a certificate_id that is %s', async (_what, id, shown) => {
      const verdict = await verifyCertificate({ ...valid(), certificate_id: id });
      expect(verdict.failure).toEqual({ code: 'VERIFY_MALFORMED', field: 'certificate_id', message: 'certificate_id must be cert_<ULID>' });
      expect(verdict.certificate_id).toBe(shown);
    });

    it.each([
      ['as an object', (doc: Doc) => verifyCertificate({ ...doc, extra: 1 })],
      ['as text', (doc: Doc) => verifyCertificateText(JSON.stringify({ extra: 1, ...doc }))],
    ])('refuses a member no certificate has, %s', async (_how, verify) => {
      expect((await verify(valid())).failure).toEqual({ code: 'VERIFY_UNKNOWN_MEMBER', field: 'extra', message: 'extra: not a member of a certificate' });
    });

    it.each([
      ['a string', 'x'],
      ['an object', {}],
    ])('refuses events as %s', async (_what, events) => {
      expect((await verifyCertificate({ ...valid(), events })).failure).toEqual({
        code: 'VERIFY_MALFORMED',
        field: 'events',
        message: 'events: expected an array',
      });
    });

    it('refuses a document that is not an object, naming the document', async () => {
      expect((await verifyCertificate([1])).failure).toEqual({ code: 'VERIFY_MALFORMED', field: '(document)', message: 'a certificate must be a JSON object' });
    });

    it('refuses events handed over as an ordinary member', () => {
      const verifier = new CertificateVerifier();
      expect(verifier.read(() => verifier.member('events', []))).toBe(false);
      expect(verifier.failure?.error).toMatchObject({ code: 'VERIFY_MALFORMED', message: 'events: expected an array', fields: { field: 'events' } });
      expect(verifier.read(() => undefined)).toBe(false);
    });
  });

  describe('when reading stops at an event', () => {
    it('fails events, passes document if every member arrived, and skips the rest', async () => {
      const doc = valid();
      ev(doc, 3).data.tool = 'other';
      const verdict = await verifyCertificate(doc);
      expect(verdict.failure).toEqual({ code: 'EVENTS_HASH_MISMATCH', field: 'events[3].hash', message: 'events[3].hash: hash does not match the content' });
      expect(rows(verdict)).toEqual(['document:pass', 'events:fail', 'merkle:skipped', 'report_data:skipped', 'attestation:skipped', 'fields:skipped']);
    });

    it('skips document when a member is missing, since it cannot be completed', async () => {
      const doc = valid();
      delete doc.status;
      ev(doc, 3).data.tool = 'other';
      const verdict = await verifyCertificate(doc);
      expect(verdict.failure?.code).toBe('EVENTS_HASH_MISMATCH');
      expect(rows(verdict)).toEqual(['document:skipped', 'events:fail', 'merkle:skipped', 'report_data:skipped', 'attestation:skipped', 'fields:skipped']);
    });

    it('in a text whose events come first, skips document as well', async () => {
      const { events, ...members } = valid();
      events[3].data.tool = 'other';
      const verdict = await verifyCertificateText(JSON.stringify({ events, ...members }));
      expect(rows(verdict)).toEqual(['document:skipped', 'events:fail', 'merkle:skipped', 'report_data:skipped', 'attestation:skipped', 'fields:skipped']);
    });
  });

  describe('when the stream is incomplete', () => {
    it('fails an empty stream', async () => {
      const verdict = await verifyCertificate({ ...valid(), events: [] });
      expect(verdict.failure).toEqual({ code: 'EVENTS_EMPTY_STREAM', field: 'events', message: 'events: the stream has no events' });
      expect(rows(verdict)).toEqual(['document:pass', 'events:fail', 'merkle:skipped', 'report_data:skipped', 'attestation:skipped', 'fields:skipped']);
      expect(verdict.format_version).toBeNull();
    });

    it('fails a stream of another execution than certificate_id names', async () => {
      expect((await verifyCertificate({ ...valid(), certificate_id: 'cert_01JD7ZX3Q4M5N6P7R8S9T0VWXZ' })).failure).toEqual({
        code: 'EVENTS_WRONG_EXECUTION',
        field: 'events[0].execution_id',
        message: 'the events belong to another execution than certificate_id names',
      });
    });

    it('fails a stream without a seal, naming its last event', async () => {
      const doc = valid();
      doc.events.pop();
      expect((await verifyCertificate(doc)).failure).toEqual({
        code: 'VERIFY_NOT_SEALED',
        field: 'events[14].type',
        message: 'the stream is not sealed: no certificate.sealed event ends it',
      });
    });
  });

  describe('when the Merkle tree or the report data do not hold', () => {
    it('fails merkle on another tree size, saying both sizes', async () => {
      const doc = valid();
      ev(doc, -1).data.tree_size = 14;
      rehash(ev(doc, -1));
      const verdict = await verifyCertificate(doc);
      expect(verdict.failure).toEqual({
        code: 'VERIFY_TREE_SIZE_MISMATCH',
        field: `${SEAL}.data.tree_size`,
        message: 'tree_size 14 but 15 events precede the seal',
      });
      expect(rows(verdict)).toEqual(['document:pass', 'events:pass', 'merkle:fail', 'report_data:skipped', 'attestation:skipped', 'fields:skipped']);
    });

    it('fails merkle on another root', async () => {
      const doc = valid();
      ev(doc, -1).data.merkle_root = `sha256:${'00'.repeat(32)}`;
      rehash(ev(doc, -1));
      expect((await verifyCertificate(doc)).failure).toEqual({
        code: 'VERIFY_MERKLE_ROOT_MISMATCH',
        field: `${SEAL}.data.merkle_root`,
        message: 'the events do not reproduce the Merkle root',
      });
    });

    it('fails report_data, in version 2 naming the sealing time', async () => {
      const doc = valid();
      ev(doc, -1).data.report_data = '00'.repeat(64);
      rehash(ev(doc, -1));
      const verdict = await verifyCertificate(doc);
      expect(verdict.failure).toEqual({
        code: 'ATTEST_REPORT_DATA_MISMATCH',
        field: `${SEAL}.data.report_data`,
        message: 'report_data is not the one these events and the sealing time imply',
      });
      expect(rows(verdict)).toEqual(['document:pass', 'events:pass', 'merkle:pass', 'report_data:fail', 'attestation:skipped', 'fields:skipped']);
    });

    it('fails report_data in version 1 without naming a sealing time', async () => {
      const doc = caseDoc('v1-valid');
      ev(doc, -1).data.report_data = '00'.repeat(64);
      rehash(ev(doc, -1));
      expect((await verifyCertificate(doc)).failure).toEqual({
        code: 'ATTEST_REPORT_DATA_MISMATCH',
        field: `${SEAL}.data.report_data`,
        message: 'report_data is not the one these events imply',
      });
    });
  });

  describe('when the simulated attestation does not verify', () => {
    it("fails attestation, naming the attestation's member", async () => {
      const doc = valid();
      const signature = ev(doc, -1).data.attestation.signature as string;
      ev(doc, -1).data.attestation.signature =
        `${signature.slice(0, 64)}${(parseInt(signature.slice(64, 66), 16) ^ 1).toString(16).padStart(2, '0')}${signature.slice(66)}`;
      rehash(ev(doc, -1));
      rederive(doc);
      const verdict = await verifyCertificate(doc);
      expect(verdict.failure).toEqual({ code: 'ATTEST_SIGNATURE_INVALID', field: 'proof.attestation.signature', message: expect.any(String) });
      expect(rows(verdict)).toEqual(['document:pass', 'events:pass', 'merkle:pass', 'report_data:pass', 'attestation:fail', 'fields:skipped']);
      expect(verdict).toMatchObject({ tee: 'simulated', key: null });
    });
  });

  describe('when the summary members do not say what the events say', () => {
    it.each([
      ['as an object', (doc: Doc) => verifyCertificate(doc)],
      ['as text', (doc: Doc) => verifyCertificateText(JSON.stringify(doc))],
    ])("fails fields with the member's path, %s", async (_how, verify) => {
      const edited = valid();
      edited.execution_trace.tool_uses[1].failures = 0;
      const verdict = await verify(edited);
      expect(verdict.failure).toEqual({
        code: 'VERIFY_FIELD_MISMATCH',
        field: 'execution_trace.tool_uses[1].failures',
        message: 'execution_trace.tool_uses[1].failures: not what the events say',
      });
      expect(rows(verdict)).toEqual(['document:pass', 'events:pass', 'merkle:pass', 'report_data:pass', 'attestation:pass', 'fields:fail']);
      const extra = valid();
      extra.result.note = 'x';
      expect((await verify(extra)).failure).toEqual({
        code: 'VERIFY_UNKNOWN_MEMBER',
        field: 'result.note',
        message: 'result.note: not a member the events imply',
      });
    });
  });

  describe('when the attestation is checked by a plug-in', () => {
    const tdxDoc = () => caseDoc('tdx-simulated-quote');

    it('lists its sub-checks under attestation, and trusts a hardware attestation that passes them all', async () => {
      const tdx: AttestationVerifier = () => [
        { name: 'dcap', status: 'pass', detail: 'ok' },
        { name: 'tcb_status', status: 'pass' },
      ];
      const verdict = await verifyCertificate(tdxDoc(), { attestationVerifiers: { tdx } });
      expect(verdict.checks.slice(4, 7)).toEqual([
        { name: 'attestation.dcap', status: 'pass', detail: 'ok' },
        { name: 'attestation.tcb_status', status: 'pass' },
        { name: 'attestation', status: 'pass' },
      ]);
      expect(verdict).toMatchObject({
        valid: true,
        trusted: true,
        status: 'trusted',
        tee: 'tdx',
        hardware_backed: true,
        notice: null,
        key: null,
        trust: { basis: 'hardware-policy', reason: 'a hardware attestation that verifies under your policy (trusted builds, TCB statuses)' },
      });
    });

    it('takes the first failing sub-check as the failure', async () => {
      const tdx: AttestationVerifier = () => [
        { name: 'dcap', status: 'pass' },
        { name: 'tcb_status', status: 'fail', code: 'ATTEST_TCB_OUT_OF_DATE', field: 'proof.attestation', detail: 'TCB status OutOfDate' },
        { name: 'rtmr3', status: 'fail', code: 'ATTEST_RTMR3_MISMATCH', detail: 'later' },
      ];
      const verdict = await verifyCertificate(tdxDoc(), { attestationVerifiers: { tdx } });
      expect(verdict).toMatchObject({
        valid: false,
        trusted: false,
        hardware_backed: false,
        failure: { code: 'ATTEST_TCB_OUT_OF_DATE', field: 'proof.attestation', message: 'TCB status OutOfDate' },
      });
      expect(verdict.checks.slice(4).map((c) => `${c.name}:${c.status}`)).toEqual([
        'attestation.dcap:pass',
        'attestation.tcb_status:fail',
        'attestation.rtmr3:fail',
        'attestation:fail',
        'fields:skipped',
      ]);
      expect(verdict.checks[7]).toEqual({
        name: 'attestation',
        status: 'fail',
        code: 'ATTEST_TCB_OUT_OF_DATE',
        field: 'proof.attestation',
        detail: 'TCB status OutOfDate',
      });
    });

    it('names a failing sub-check that says nothing by its name and the attestation', async () => {
      const tdx: AttestationVerifier = () => [{ name: 'quote', status: 'fail' }];
      expect((await verifyCertificate(tdxDoc(), { attestationVerifiers: { tdx } })).failure).toEqual({
        code: 'ATTEST_FAILED',
        field: `${SEAL}.data.attestation`,
        message: 'attestation.quote failed',
      });
    });

    it('does not trust a plug-in that reports no checks at all', async () => {
      const tdx: AttestationVerifier = () => [];
      const verdict = await verifyCertificate(tdxDoc(), { attestationVerifiers: { tdx } });
      expect(verdict).toMatchObject({
        valid: true,
        trusted: false,
        status: 'untrusted',
        hardware_backed: false,
        trust: { basis: null, reason: 'the hardware attestation does not verify under your policy' },
      });
    });

    it('fails a type no plug-in handles, naming it', async () => {
      expect((await verifyCertificate(tdxDoc(), { attestationVerifiers: { other: passes } })).failure).toEqual({
        code: 'ATTEST_UNKNOWN_TYPE',
        field: `${SEAL}.data.attestation.type`,
        message: 'no verifier for attestation type "tdx" here',
      });
    });

    it('reports a plug-in that throws a bug without its message and without a member', async () => {
      const tdx: AttestationVerifier = () => {
        throw new TypeError('x');
      };
      expect((await verifyCertificate(tdxDoc(), { attestationVerifiers: { tdx } })).failure).toEqual({
        code: 'VERIFY_INTERNAL',
        field: null,
        message: 'the verifier failed on this input; please report it',
      });
    });

    it("reports a plug-in's own error as it is", async () => {
      const tdx: AttestationVerifier = () => {
        throw new EphemeraError('ATTEST_DCAP_FAILED', 'what went wrong', { fields: { field: 'proof.attestation.quote' } });
      };
      expect((await verifyCertificate(tdxDoc(), { attestationVerifiers: { tdx } })).failure).toEqual({
        code: 'ATTEST_DCAP_FAILED',
        field: 'proof.attestation.quote',
        message: 'what went wrong',
      });
    });
  });

  describe('when the certificate is of version 1', () => {
    it('lists in the notice what nothing commits', async () => {
      const verdict = await verifyCertificate(caseDoc('v1-valid'));
      expect(verdict.notice).toBe(
        `${SIMULATED_NOTICE} Format version 1: ${SEAL}.at (lifecycle.sealed), ${SEAL}.data.attestation.notice are not covered by the Merkle root or the attestation; anyone could have edited them.`,
      );
    });

    it("counts a tdx attestation's quote, event log and collateral as covered, and anything else as not", async () => {
      const verdict = await verifyCertificate(
        v1With({ type: 'tdx', quote: 'ab', event_log: [], collateral: {}, collateral_fetched_at: 'yesterday', extra: 1 }),
        { attestationVerifiers: { tdx: passes } },
      );
      expect(verdict.uncommitted).toEqual([
        `${SEAL}.at (lifecycle.sealed)`,
        `${SEAL}.data.attestation.collateral_fetched_at`,
        `${SEAL}.data.attestation.extra`,
      ]);
      expect(verdict.notice).toBe(
        `Format version 1: ${verdict.uncommitted.join(', ')} are not covered by the Merkle root or the attestation; anyone could have edited them.`,
      );
    });

    it('counts every member of an attestation of an unknown type as not covered', async () => {
      const verdict = await verifyCertificate(v1With({ type: 'other', a: 1 }), { attestationVerifiers: { other: passes } });
      expect(verdict.uncommitted).toEqual([`${SEAL}.at (lifecycle.sealed)`, `${SEAL}.data.attestation.type`, `${SEAL}.data.attestation.a`]);
    });
  });

  describe('when a version-1 tdx attestation is checked at its collateral fetch time', () => {
    const events = caseDoc('v1-valid').events as Doc[];
    const [first, last] = [Date.parse(events[0]!.at), Date.parse(events.at(-2)!.at)];
    const verify = async (fetched: unknown) => {
      const seen: number[] = [];
      const tdx: AttestationVerifier = (_a, _r, context) => {
        seen.push(context.defaultAtSeconds);
        expect(context.version).toBe(1);
        return [{ name: 'dcap', status: 'pass' }];
      };
      const verdict = await verifyCertificate(v1With({ type: 'tdx', ...(fetched === undefined ? {} : { collateral_fetched_at: fetched }) }), {
        attestationVerifiers: { tdx },
      });
      return { verdict, seen };
    };
    const iso = (ms: number) => new Date(ms).toISOString();
    const SKEW = 15 * 60 * 1000;

    it.each([
      ['15 minutes before the first event', first - SKEW],
      ['15 minutes after the last committed event', last + SKEW],
    ])('accepts a time %s, and verifies at it', async (_when, ms) => {
      const { verdict, seen } = await verify(iso(ms));
      expect(verdict.valid).toBe(true);
      expect(seen).toEqual([ms / 1000]);
    });

    it.each([
      ['a millisecond earlier', first - SKEW - 1],
      ['a millisecond later', last + SKEW + 1],
    ])('refuses a time %s', async (_when, ms) => {
      const { verdict, seen } = await verify(iso(ms));
      expect(verdict.failure).toEqual({
        code: 'ATTEST_COLLATERAL_TIME_MISMATCH',
        field: `${SEAL}.data.attestation.collateral_fetched_at`,
        message: `collateral fetched at ${iso(ms)}, not during the run (${events[0]!.at} to ${events.at(-2)!.at}, give or take 15 minutes)`,
      });
      expect(seen).toEqual([]);
    });

    it.each([
      ['absent', undefined],
      ['not a time', 'yesterday'],
      ['a number', 1],
      ['a time outside the profile', '2026-02-01T13:15:00Z'],
    ])('verifies at the last committed event when the fetch time is %s', async (_what, fetched) => {
      const { verdict, seen } = await verify(fetched);
      expect(verdict.valid).toBe(true);
      expect(seen).toEqual([last / 1000]);
    });
  });

  describe('when the input is over a limit', () => {
    it('refuses more events than the limit in an object, saying how many', async () => {
      expect((await verifyCertificate(valid(), { limits: { maxEvents: 16 } })).valid).toBe(true);
      expect((await verifyCertificate(valid(), { limits: { maxEvents: 15 } })).failure).toEqual({
        code: 'VERIFY_TOO_MANY_EVENTS',
        field: 'events',
        message: 'events: 16 events (at most 15)',
      });
    });

    it('refuses more events than the limit in a text', async () => {
      const text = JSON.stringify(valid());
      expect((await verifyCertificateText(text, { limits: { maxEvents: 16 } })).valid).toBe(true);
      expect((await verifyCertificateText(text, { limits: { maxEvents: 15 } })).failure).toEqual({
        code: 'VERIFY_TOO_MANY_EVENTS',
        field: 'events',
        message: 'events: more than 15 events (the limit)',
      });
    });

    it('refuses a declared size over the limit without reading a chunk', async () => {
      let pulled = 0;
      function* chunks() {
        pulled += 1;
        yield JSON.stringify(valid());
      }
      const verdict = await verifyCertificateChunks(chunks(), { limits: { maxBytes: 100 } }, { declaredBytes: 101 });
      expect(verdict.failure).toEqual({ code: 'VERIFY_TOO_LARGE', field: '(document)', message: 'the certificate is 101 bytes, more than 100 (the limit)' });
      expect(rows(verdict)).toEqual(['document:fail', 'events:skipped', 'merkle:skipped', 'report_data:skipped', 'attestation:skipped', 'fields:skipped']);
      expect(pulled).toBe(0);
    });

    it('reads a declared size at the limit', async () => {
      const text = JSON.stringify(valid());
      const bytes = Buffer.byteLength(text);
      expect((await verifyCertificateChunks([text], { limits: { maxBytes: bytes } }, { declaredBytes: bytes })).valid).toBe(true);
    });

    it.each([
      ['a string', (text: string) => [text]],
      ['bytes', (text: string) => [new TextEncoder().encode(text)]],
      ['strings cut inside surrogate pairs', (text: string) => Array.from({ length: Math.ceil(text.length / 7) }, (_, i) => text.slice(i * 7, i * 7 + 7))],
    ])('counts UTF-8 bytes of %s exactly: at the limit valid, one byte over refused', async (_what, split) => {
      const doc = valid();
      ev(doc, 12).data.result.output = 'ascii é € 😀 \u07ff \u0800 \uffff';
      reseal(doc);
      const text = JSON.stringify(doc);
      const bytes = Buffer.byteLength(text);
      expect((await verifyCertificateChunks(split(text), { limits: { maxBytes: bytes } })).valid).toBe(true);
      expect((await verifyCertificateChunks(split(text), { limits: { maxBytes: bytes - 1 } })).failure).toEqual({
        code: 'VERIFY_TOO_LARGE',
        field: '(document)',
        message: `the certificate is larger than ${bytes - 1} bytes (the limit)`,
      });
    });

    it('never admits nesting deeper than JCS can hash', () => {
      expect(new CertificateVerifier({ limits: { maxDepth: 1000 } }).limits.maxDepth).toBe(256);
      expect(new CertificateVerifier({ limits: { maxDepth: 10 } }).limits).toMatchObject({ maxDepth: 10, maxEvents: 2_000_000 });
    });
  });

  describe('when the bytes are not UTF-8', () => {
    it('refuses them, in the middle or cut at the end', async () => {
      const text = new TextEncoder().encode(JSON.stringify(valid()));
      expect((await verifyCertificateChunks([text.subarray(0, 10), new Uint8Array([0xff]), text.subarray(10)])).failure?.code).toBe('JSON_INVALID_UTF8');
      expect((await verifyCertificateChunks([text, new Uint8Array([0xe2, 0x82])])).failure).toMatchObject({ code: 'JSON_INVALID_UTF8', field: '(document)' });
    });
  });
});
