/**
 * The verifier beyond the conformance vectors: trust and its sources, the
 * object path, limits refused before any hashing, version 1's uncommitted
 * members, hostile names, attestation plug-ins, and errors that never escape.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StrictObjectStream, nobleSha256, computeEventHash, type Sha256 } from '../events/index.js';
import {
  CHECK_ORDER,
  certificateJson,
  keyFingerprint,
  verifyCertificate,
  verifyCertificateChunks,
  verifyCertificateText,
  type AttestationVerifier,
} from './index.js';
import { conformanceCases, richEvents } from './testing/conformance.js';
import { VECTOR_PUBLIC_KEY, ev, rederive, rehash, reseal, sealEvents, type Doc } from './testing/forge.js';

const valid = () => sealEvents(richEvents()) as unknown as Doc;
const caseBytes = (name: string) => conformanceCases().find((c) => c.name === name)!.bytes;
const countingSha = () => {
  const counter = {
    calls: 0,
    sha256: ((data: Uint8Array) => {
      counter.calls += 1;
      return nobleSha256(data);
    }) as Sha256,
  };
  return counter;
};

describe('verifyCertificate', () => {
  describe('when the certificate is untouched', () => {
    it('is valid, every check passes, and it names the simulated key by fingerprint', async () => {
      const verdict = await verifyCertificate(valid(), { trustedKeys: [VECTOR_PUBLIC_KEY] });
      expect(verdict).toMatchObject({
        valid: true,
        trusted: true,
        status: 'trusted',
        format_version: 2,
        tee: 'simulated',
        hardware_backed: false,
        failure: null,
        uncommitted: [],
      });
      expect(verdict.checks.map((c) => [c.name, c.status])).toEqual(CHECK_ORDER.map((name) => [name, 'pass']));
      expect(verdict.key).toEqual({ algorithm: 'ed25519', public_key: VECTOR_PUBLIC_KEY, fingerprint: keyFingerprint(VECTOR_PUBLIC_KEY) });
      expect(verdict.trust).toEqual({ basis: 'pinned-key', reason: expect.stringContaining(keyFingerprint(VECTOR_PUBLIC_KEY)) });
      expect(verdict.notice).toMatch(/not hardware-backed/);
    });

    it('is written by certificateJson with every event in canonical form, compact or indented, and verifies either way', async () => {
      const doc = valid();
      for (const indent of [0, 2]) {
        const text = certificateJson(doc as never, indent);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(doc)));
        const canonical: (string | null)[] = [];
        const reader = new StrictObjectStream('events', {
          name: () => undefined,
          member: () => undefined,
          arrayOpened: () => undefined,
          elementStarting: () => undefined,
          element: (_i, t, isCanonical) => void canonical.push(isCanonical ? t : null),
        });
        reader.push(text);
        reader.end();
        expect(canonical.every((t) => t !== null)).toBe(true);
        expect((await verifyCertificateText(text, { trustedKeys: [VECTOR_PUBLIC_KEY] })).status).toBe('trusted');
      }
    });

    it('gives the same verdict for the object and for its text', async () => {
      const doc = valid();
      const [fromObject, fromText] = await Promise.all([verifyCertificate(doc), verifyCertificateText(JSON.stringify(doc))]);
      expect(fromText).toEqual(fromObject);
    });
  });

  describe('when nobody pinned the key', () => {
    it('is valid but untrusted, and says whose key it is', async () => {
      const verdict = await verifyCertificate(valid());
      expect(verdict).toMatchObject({ valid: true, trusted: false, status: 'untrusted', trust: { basis: null } });
      expect(verdict.trust.reason).toContain(keyFingerprint(VECTOR_PUBLIC_KEY));
    });

    it("is trusted as this machine's own key when the caller says the key is local, and says so", async () => {
      const verdict = await verifyCertificate(valid(), { localKeys: [VECTOR_PUBLIC_KEY] });
      expect(verdict).toMatchObject({ trusted: true, trust: { basis: 'local-key', reason: expect.stringMatching(/this machine's own/) } });
    });

    it('accepts a pin in any case and with spaces around it', async () => {
      expect(
        (await verifyCertificate(valid(), { trustedKeys: [` ${keyFingerprint(VECTOR_PUBLIC_KEY).toUpperCase().replace('SHA256:', 'sha256:')} `] })).trusted,
      ).toBe(true);
    });
  });

  describe("when names in the events are JavaScript's own", () => {
    it('verifies "__proto__", "constructor" and "toString" as models, tools and hosts without touching Object.prototype', async () => {
      for (const name of ['valid-hostile-names', 'v1-hostile-names']) {
        const text = new TextDecoder().decode(caseBytes(name));
        const verdict = await verifyCertificate(JSON.parse(text), { trustedKeys: [VECTOR_PUBLIC_KEY] });
        expect({ name, valid: verdict.valid }).toEqual({ name, valid: true });
      }
      const probe = {} as Record<string, unknown>;
      expect([probe.calls, probe.input_tokens, probe.count, Object.hasOwn(Object.prototype, 'calls')]).toEqual([undefined, undefined, undefined, false]);
    });
  });

  describe('when the input is over a limit', () => {
    it('refuses too many events before hashing any (THREATS E40)', async () => {
      const counter = countingSha();
      const verdict = await verifyCertificate(valid(), { limits: { maxEvents: 5 }, sha256: counter.sha256 });
      expect(verdict.failure?.code).toBe('VERIFY_TOO_MANY_EVENTS');
      expect(counter.calls).toBe(0);
    });

    it('refuses a text over the byte limit before reading any of it', async () => {
      const counter = countingSha();
      const verdict = await verifyCertificateText(JSON.stringify(valid()), { limits: { maxBytes: 1000 }, sha256: counter.sha256 });
      expect(verdict.failure?.code).toBe('VERIFY_TOO_LARGE');
      expect(counter.calls).toBe(0);
    });

    it('stops reading a stream at the first failure', async () => {
      const doc = valid();
      ev(doc, 12).data.result.output = 'x'.repeat(300_000);
      reseal(doc);
      const text = JSON.stringify(doc).replace('"seq":1,', '"seq":1.0,');
      let pulled = 0;
      function* chunks() {
        for (let i = 0; i < text.length; i += 64) {
          pulled += 1;
          yield text.slice(i, i + 64);
        }
      }
      const verdict = await verifyCertificateChunks(chunks());
      expect(verdict.failure?.code).toBe('JSON_NUMBER_NOT_CANONICAL');
      expect(pulled).toBeLessThan(Math.ceil(text.length / 64));
    });
  });

  describe('when the input is not a certificate', () => {
    it.each([
      ['null', null, 'VERIFY_MALFORMED'],
      ['an array', [], 'VERIFY_MALFORMED'],
      ['a string', 'cert', 'VERIFY_MALFORMED'],
      ['an empty object', {}, 'VERIFY_MISSING_MEMBER'],
      ['events as a string', { events: 'x' }, 'VERIFY_MALFORMED'],
      ['a Map', new Map(), 'VERIFY_MALFORMED'],
      ['a function inside', { a: () => 1 }, 'JSON_SYNTAX'],
      ['a bigint inside', { a: 1n }, 'JSON_SYNTAX'],
    ])('%s is %s', async (_what, input, code) => {
      expect((await verifyCertificate(input)).failure?.code).toBe(code);
    });

    it('finds an unpaired surrogate in an object that never was text', async () => {
      const doc = valid();
      doc.result.output = 'x\ud800';
      expect((await verifyCertificate(doc)).failure).toMatchObject({ code: 'JSON_UNPAIRED_SURROGATE', field: 'result.output' });
    });
  });

  describe('when the certificate is of version 1', () => {
    it('is accepted, and the verdict names each member nothing commits', async () => {
      const verdict = await verifyCertificateText(caseBytes('v1-valid'), { trustedKeys: [VECTOR_PUBLIC_KEY] });
      expect(verdict).toMatchObject({ valid: true, format_version: 1 });
      expect(verdict.uncommitted).toEqual(['events[15].at (lifecycle.sealed)', 'events[15].data.attestation.notice']);
      expect(verdict.notice).toMatch(/Format version 1: .*not covered by the Merkle root or the attestation/);
    });
  });

  describe('when the attestation is a hardware one', () => {
    const tdxBytes = () => caseBytes('tdx-simulated-quote');

    it('fails with ATTEST_UNKNOWN_TYPE where no verifier for it is given, instead of passing', async () => {
      expect((await verifyCertificateText(tdxBytes())).failure?.code).toBe('ATTEST_UNKNOWN_TYPE');
    });

    it("passes the committed sealing time to the type's verifier as the default time of verification", async () => {
      const seen: number[] = [];
      const tdx: AttestationVerifier = (_attestation, _report, context) => {
        seen.push(context.defaultAtSeconds);
        return [{ name: 'dcap', status: 'pass' }];
      };
      const verdict = await verifyCertificateText(tdxBytes(), { attestationVerifiers: { tdx } });
      const sealedAt = JSON.parse(new TextDecoder().decode(tdxBytes())).lifecycle.sealed as string;
      expect(seen).toEqual([Date.parse(sealedAt) / 1000]);
      expect(verdict).toMatchObject({ valid: true, trusted: true, hardware_backed: true, trust: { basis: 'hardware-policy' } });
    });

    it('reports a verifier that throws as VERIFY_INTERNAL, without its message', async () => {
      const tdx: AttestationVerifier = () => {
        throw new TypeError('secret detail from the input');
      };
      const verdict = await verifyCertificateText(tdxBytes(), { attestationVerifiers: { tdx } });
      expect(verdict.failure).toMatchObject({ code: 'VERIFY_INTERNAL' });
      expect(JSON.stringify(verdict)).not.toContain('secret detail');
    });
  });

  describe("when a version-1 tdx attestation's collateral fetch time is moved (it is not committed)", () => {
    const withFetchTime = (at: string) => {
      const doc = JSON.parse(new TextDecoder().decode(caseBytes('v1-valid'))) as Doc;
      ev(doc, -1).data.attestation = { type: 'tdx', collateral_fetched_at: at };
      rehash(ev(doc, -1));
      rederive(doc);
      return doc;
    };
    const passes = { tdx: () => [{ name: 'dcap', status: 'pass' as const }] };
    it('fails with ATTEST_COLLATERAL_TIME_MISMATCH outside the run', async () => {
      expect((await verifyCertificate(withFetchTime('2025-06-20T00:00:00.000Z'), { attestationVerifiers: passes })).failure?.code).toBe(
        'ATTEST_COLLATERAL_TIME_MISMATCH',
      );
    });
    it('passes just after the last committed event, and lists it as uncommitted', async () => {
      const doc = withFetchTime(new Date(Date.parse(richEvents().at(-1)!.at) + 2000).toISOString());
      const verdict = await verifyCertificate(doc, { attestationVerifiers: passes });
      expect(verdict).toMatchObject({ valid: true, hardware_backed: true });
      expect(verdict.uncommitted).toContain('events[15].data.attestation.collateral_fetched_at');
    });
  });

  describe('when an event hash is recomputed with another SHA-256 implementation', () => {
    it('node:crypto and @noble/hashes agree on every event', async () => {
      const { nodeSha256 } = await import('../events/node.js');
      for (const e of valid().events) expect(computeEventHash(e, nodeSha256)).toBe(computeEventHash(e));
    });
  });
});

describe('test-vectors/ed25519 and test-vectors/certificates', () => {
  it('are both present in the repository', () => {
    for (const f of ['ed25519/cases.json', 'certificates/manifest.json', 'certificates/README.md'])
      expect(readFileSync(join(import.meta.dirname, '../../test-vectors', f)).length).toBeGreaterThan(100);
  });
});
