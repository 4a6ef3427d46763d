/**
 * verifyCertificateFile with its reader in a worker thread gives the verdicts
 * the in-thread reader gives: on conformance files that fail at the start, in
 * the middle and at the end of their reading, and on a large certificate
 * where the worker runs ahead of the verifier and has to wait for it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventChain, type EventEnvelope } from '../events/index.js';
import { verifyCertificateFile } from './node.js';
import { certificateJson, type Verdict } from './index.js';
import { richEvents } from './testing/conformance.js';
import { VECTOR_PUBLIC_KEY, sealEvents } from './testing/forge.js';

const DIR = join(import.meta.dirname, '../../test-vectors/certificates');
const tmp = mkdtempSync(join(tmpdir(), 'ephemera-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const options = { trustedKeys: [VECTOR_PUBLIC_KEY] };
const summary = (v: Verdict) => ({
  status: v.status,
  code: v.failure?.code ?? null,
  field: v.failure?.field ?? null,
  checks: v.checks.map((c) => `${c.name}:${c.status}`),
});

describe('verifyCertificateFile', () => {
  describe.each([
    'valid',
    'valid-compact',
    'utf8-byte-ff',
    'truncated',
    'unknown-member-root',
    'event-data-edited',
    'events-reordered-rechained',
    'limit-events',
    'field-status',
    'tdx-quote-uppercase',
  ])('on the conformance case %s', (name) => {
    it('gives the same verdict with the reader in a worker as in this thread', async () => {
      const file = join(DIR, 'cases', `${name}.json`);
      const limits = name === 'limit-events' ? { maxEvents: 10 } : undefined;
      const [inThread, inWorker] = await Promise.all([
        verifyCertificateFile(file, { ...options, limits }, { worker: false }),
        verifyCertificateFile(file, { ...options, limits }, { worker: true }),
      ]);
      expect(summary(inWorker)).toEqual(summary(inThread));
    });
  });

  describe('when the certificate is large (30,000 events, more batches than the worker may have in flight)', () => {
    const events = richEvents();
    const chain = EventChain.resume(events[10]!);
    const middle: EventEnvelope[] = [];
    for (let i = 0; i < 30_000; i++) middle.push(chain.next('file.accessed', { call_id: 'call_2', op: 'read', path: `/work/f${i % 97}`, count: 1 }));
    const tail = events.slice(10).map((e) => chain.next(e.type, e.data as never));
    const file = join(tmp, 'large.json');
    const edited = join(tmp, 'large-edited.json');
    const text = certificateJson(sealEvents([...events.slice(0, 10), ...middle, ...tail]));
    writeFileSync(file, text);
    // In an event's canonical text (members sorted), not in the summary's rows.
    writeFileSync(edited, text.replace('"count":1,"op":"read","path":"/work/f50"}', '"count":2,"op":"read","path":"/work/f50"}'));

    it('is trusted either way, and a single edit deep inside is found at the same event', async () => {
      const [a, b] = await Promise.all([verifyCertificateFile(file, options, { worker: true }), verifyCertificateFile(file, options, { worker: false })]);
      expect(a.status).toBe('trusted');
      expect(summary(a)).toEqual(summary(b));
      const [c, d] = await Promise.all([verifyCertificateFile(edited, options, { worker: true }), verifyCertificateFile(edited, options, { worker: false })]);
      expect(summary(c)).toEqual(summary(d));
      expect(c.failure).toMatchObject({ code: 'EVENTS_HASH_MISMATCH', field: 'events[60].hash' });
    });
  });
});
