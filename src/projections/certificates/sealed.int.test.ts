/**
 * Sealed certificates on the read side: the events of a sealed-input,
 * sealed-result run (the conformance vector) appended to a real log are
 * served as their certificate byte for byte, projected into ClickHouse (chDB)
 * and found by search, and the verify route answers how the input arrived and
 * whom the result is sealed to (its schema must not drop those members).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { canonicalize, parseEventText, type EventEnvelope } from '../../events/index.js';
import { createServices, type Services } from '../../services.js';
import { certificateJson, deriveCertificate, keyFingerprint } from '../../verify/index.js';
import { VECTOR_PUBLIC_KEY } from '../../verify/testing/forge.js';

const CASE = join(import.meta.dirname, '../../../test-vectors/certificates/cases/valid-sealed-input-and-result.json');

describe('a sealed certificate on the read side', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-sealed-read-'));
  const vector = JSON.parse(readFileSync(CASE, 'utf8'));
  // Each event as stored text, parsed as the log reads it back.
  const events = (vector.events as unknown[]).map((e) => parseEventText(JSON.stringify(e)) as EventEnvelope);
  let services: Services;
  let app: FastifyInstance;

  beforeAll(async () => {
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'data') }));
    app = await buildApp(services);
    await services.log.append(events);
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is served with its events byte for byte, as they derive it, with dataset.submission and result.sealed', async () => {
    const response = await app.inject({ url: `/certificate/${vector.certificate_id}` });
    expect(response.statusCode).toBe(200);
    // Each event as its exact canonical bytes (what was hashed), the summary as its events derive it.
    for (const event of events) expect(response.body.includes(canonicalize(event)), `event ${event.seq}`).toBe(true);
    expect(response.body).toBe(certificateJson(deriveCertificate(await services.log.readStream(vector.execution_id))));
    const served = response.json();
    expect(served).toEqual(vector);
    expect(served.dataset.submission).toEqual(vector.events[0].data.submission);
    expect(served.result.sealed).toEqual(vector.events[12].data.sealed_result);
    expect(served.result.output).toBe('');
  });

  it('is projected and found by search, with nothing of the sealed result in its preview', async () => {
    await services.readModel.refresh();
    const found = await app.inject({ url: `/certificates?fingerprint=${vector.fingerprint}&limit=10` });
    expect(found.statusCode).toBe(200);
    const rows = found.json().items as { certificate_id: string; result_preview?: string }[];
    expect(rows.map((r) => r.certificate_id)).toEqual([vector.certificate_id]);
    expect(JSON.stringify(rows[0])).not.toContain('rows');
  });

  it('is found by how its input arrived and by its sealed result (plain certificates: search.int.test.ts)', async () => {
    await services.readModel.refresh();
    const ids = async (query: string) =>
      ((await app.inject({ url: `/certificates?${query}&limit=10` })).json().items as { certificate_id: string }[]).map((r) => r.certificate_id);
    expect(await ids('input=sealed')).toEqual([vector.certificate_id]);
    expect(await ids('result=sealed')).toEqual([vector.certificate_id]);
    expect(await ids('input=plain')).toEqual([]);
    expect(await ids('result=clear')).toEqual([]);
    const [row] = (await app.inject({ url: `/certificates?fingerprint=${vector.fingerprint}` })).json().items;
    expect(row).toMatchObject({ input: 'sealed', result_sealed: true });
    expect((await app.inject({ url: '/certificates?input=other' })).statusCode).toBe(400);
  });

  it("answers the verify route with the input's key statement and the result's recipient", async () => {
    const response = await app.inject({ url: `/certificate/${vector.certificate_id}/verify?trust_key=${VECTOR_PUBLIC_KEY}` });
    expect(response.statusCode).toBe(200);
    const verdict = response.json();
    expect(verdict.status).toBe('trusted');
    expect(verdict.input).toEqual({ mode: 'sealed', ...vector.dataset.submission });
    const recipient = vector.result.sealed.recipient;
    expect(verdict.sealed_result).toEqual({ recipient, fingerprint: keyFingerprint(recipient) });
  });
});
