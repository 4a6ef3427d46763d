import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeEventHash } from '../events/index.js';
import { verifyCertificate } from './verify.js';
import { MUTATIONS } from './testing/mutations.js';
import { certificateVectors, sampleCertificates, type CertificateVector } from './testing/vectors.js';
import type { Certificate } from './certificate.js';

const VECTOR_DIR = join(import.meta.dirname, '../../test-vectors/certificates');

describe('verifyCertificate', () => {
  let valid: Certificate;
  let other: Certificate;
  beforeAll(async () => ({ valid, other } = await sampleCertificates()));

  describe('when the certificate is untouched', () => {
    it('is valid, every check passes, and it says the TEE is simulated', async () => {
      const verdict = await verifyCertificate(valid);
      expect(verdict.failure).toBeNull();
      expect(verdict.valid).toBe(true);
      expect(verdict.checks.map((c) => [c.name, c.status])).toEqual([
        ['document', 'pass'], ['events', 'pass'], ['merkle', 'pass'], ['report_data', 'pass'], ['attestation', 'pass'], ['fields', 'pass'],
      ]);
      expect(verdict.tee).toBe('simulated');
      expect(verdict.hardware_backed).toBe(false);
      expect(verdict.notice).toMatch(/not hardware-backed/);
    });

    it('stays valid with every object key in reverse order and numbers written as 1.0 (THREATS E39)', async () => {
      const reorder = (v: unknown): unknown =>
        Array.isArray(v) ? v.map(reorder) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reorder(x)])) : v;
      const text = JSON.stringify(reorder(valid)).replace(/"bytes":1234/g, '"bytes":1234.0');
      expect(text).toContain('1234.0');
      expect((await verifyCertificate(JSON.parse(text))).valid).toBe(true);
    });
  });

  describe('when the certificate was tampered with', () => {
    it.each(MUTATIONS.map((m) => [m.name, m] as const))('%s fails with its own code', async (_name, mutation) => {
      const doc = structuredClone(valid) as Certificate & Record<string, unknown>;
      mutation.mutate(doc, structuredClone(other) as Certificate & Record<string, unknown>);
      const verdict = await verifyCertificate(doc);
      expect(verdict.valid).toBe(false);
      expect(verdict.failure?.code).toBe(mutation.code);
      expect(verdict.checks.filter((c) => c.status === 'fail')).toHaveLength(1);
    });
  });

  describe('when the verifier pins the simulated key', () => {
    it('accepts the pinned key and rejects any other with VERIFY_UNTRUSTED_KEY', async () => {
      const key = String(valid.proof!.attestation.public_key);
      expect((await verifyCertificate(valid, { trustedSimulatedKeys: [key] })).valid).toBe(true);
      expect((await verifyCertificate(valid, { trustedSimulatedKeys: ['00'.repeat(32)] })).failure?.code).toBe('VERIFY_UNTRUSTED_KEY');
    });
  });

  describe('when the input is not a certificate', () => {
    it.each([null, [], 'cert', { certificate_id: 'cert_x', events: [] }, { certificate_id: valid?.certificate_id }])('%j is VERIFY_MALFORMED or an empty stream', async (input) => {
      const verdict = await verifyCertificate(input);
      expect(verdict.valid).toBe(false);
      expect(['VERIFY_MALFORMED', 'EVENTS_EMPTY_STREAM']).toContain(verdict.failure?.code);
    });

    it('refuses more events than the cap before hashing any (THREATS E40)', async () => {
      const verdict = await verifyCertificate(valid, { maxEvents: 3 });
      expect(verdict.failure?.code).toBe('VERIFY_TOO_LARGE');
    });
  });

  describe('when a hardware attestation\'s collateral fetch time is moved outside the run (it is not in the root)', () => {
    const withFetchTime = (at: string) => {
      const doc = structuredClone(valid);
      const sealed = doc.events.at(-1)!;
      (sealed.data as Record<string, unknown>).attestation = { type: 'tdx', collateral_fetched_at: at };
      sealed.hash = computeEventHash(sealed);
      doc.proof = { ...doc.proof!, tee: 'tdx', attestation: (sealed.data as Record<string, Record<string, unknown>>).attestation! };
      return doc;
    };
    // The window check runs before the type's own verifier; this one stands in for a DCAP that would pass at any time.
    const passes = { tdx: () => [{ name: 'dcap', status: 'pass' as const }] };
    it('fails with ATTEST_COLLATERAL_TIME_MISMATCH before the attestation is checked', async () => {
      const verdict = await verifyCertificate(withFetchTime('2025-06-20T00:00:00.000Z'), { attestationVerifiers: passes });
      expect(verdict.failure).toMatchObject({ code: 'ATTEST_COLLATERAL_TIME_MISMATCH', field: expect.stringMatching(/collateral_fetched_at$/) });
    });
    it('passes when it lies just after the last committed event, where sealing fetches it', async () => {
      const last = Date.parse(valid.events.at(-2)!.at);
      const verdict = await verifyCertificate(withFetchTime(new Date(last + 2000).toISOString()), { attestationVerifiers: passes });
      expect(verdict).toMatchObject({ valid: true, failure: null, hardware_backed: true });
    });
  });

  describe('when a type of attestation has no verifier here', () => {
    it('fails with ATTEST_UNKNOWN_TYPE instead of passing silently', async () => {
      const doc = structuredClone(valid);
      const sealed = doc.events.at(-1)!;
      (sealed.data as Record<string, Record<string, unknown>>).attestation!.type = 'tdx';
      sealed.hash = computeEventHash(sealed);
      const verdict = await verifyCertificate(doc);
      expect(verdict.failure?.code).toBe('ATTEST_UNKNOWN_TYPE');
    });
  });
});

describe('test-vectors/certificates', () => {
  const files = readdirSync(VECTOR_DIR).filter((f) => f.endsWith('.json'));
  it('hold one vector per mutation plus the valid one', () => expect(files).toHaveLength(MUTATIONS.length + 1));

  it('are exactly what the mutation suite produces (run `npm run vectors` after a format change)', async () => {
    const produced = await certificateVectors();
    for (const file of files) expect(JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8'))).toEqual(JSON.parse(JSON.stringify(produced[file.slice(0, -5)])));
  });

  it.each(files)('%s gets its expected verdict', async (file) => {
    const vector = JSON.parse(readFileSync(join(VECTOR_DIR, file), 'utf8')) as CertificateVector;
    const verdict = await verifyCertificate(vector.certificate);
    expect({ valid: verdict.valid, code: verdict.failure?.code ?? null }).toEqual(vector.expected);
  });
});
