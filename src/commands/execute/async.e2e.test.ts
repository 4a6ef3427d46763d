/**
 * POST /execute with Prefer: respond-async through a listening server: real
 * bubblewrap sandbox, SQLite log, simulated attestor. The 202, the run in the
 * background, its state, and its events live over SSE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { sseMessages } from '../../cli/sse.js';
import { loadConfig } from '../../config.js';
import { canonicalText } from '../../events/index.js';
import { createServices, type Services } from '../../services.js';

const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const body = (script: string, dataset: object = { data: b64('a,b\n1,2\n'), format: 'csv' }) => ({
  dataset,
  sandbox: { tools: ['python'], scripts: { 'main.py': script }, environment: { timeout_seconds: 20, max_memory_mb: 256 } },
});
const ASYNC = { 'content-type': 'application/json', prefer: 'wait=5, respond-async' };

describe('async runs (Prefer: respond-async)', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-async-'));
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir }));
    app = await buildApp(services, { eventStreams: { keepAliveMs: 200, pollMs: 50 } });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (payload: object, headers: Record<string, string> = ASYNC) =>
    fetch(`${base}/execute`, { method: 'POST', headers, body: JSON.stringify(payload) });
  const state = async (id: string) => (await fetch(`${base}/executions/${id}`)).json() as Promise<Record<string, unknown>>;

  it('answers 202 before the run, streams its events live as they are acknowledged, and ends with the certificate', async () => {
    const accepted = await post(body('import time\ntime.sleep(1)\nprint("done")\n'));
    expect(accepted.status).toBe(202);
    const answer = (await accepted.json()) as { execution_id: string; state: string; status_url: string; events_url: string; row_secret: string };
    const id = answer.execution_id;
    expect(answer).toEqual({
      execution_id: id,
      state: 'queued',
      status_url: `/executions/${id}`,
      events_url: `/executions/${id}/events`,
      row_secret: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(accepted.headers.get('location')).toBe(`/executions/${id}`);
    expect(accepted.headers.get('preference-applied')).toBe('respond-async');

    const events = await fetch(`${base}${answer.events_url}`);
    const seen: { id?: string; event?: string; data: string }[] = [];
    let whileRunning: Record<string, unknown> | null = null;
    for await (const message of sseMessages(events.body!)) {
      seen.push(message);
      // Live: the sandbox exists, the script sleeps; the run is not over.
      if (message.event === 'sandbox.created') whileRunning = await state(id);
    }
    expect(whileRunning).toMatchObject({ state: 'running', node: services.nodeId, certificate_id: null, error: null });
    expect((whileRunning!.last_event as { seq: number }).seq).toBeGreaterThanOrEqual(2);

    const end = seen.at(-1)!;
    expect(end.event).toBe('end');
    expect(JSON.parse(end.data)).toEqual({ state: 'certified', certificate_id: `cert_${id}`, error: null });
    const certificate = (await services.certificates.get(`cert_${id}`))!;
    expect(certificate.status).toBe('completed');
    // Every event, in order, each as its canonical text: exactly what the certificate carries.
    expect(seen.slice(0, -1)).toEqual(certificate.events.map((e) => ({ id: String(e.seq), event: e.type, data: canonicalText(e) })));
    expect(await state(id)).toEqual({
      execution_id: id,
      state: 'certified',
      node: services.nodeId,
      events: certificate.events.length,
      last_event: { seq: certificate.events.length - 1, type: 'certificate.sealed', at: certificate.lifecycle.sealed },
      certificate_id: `cert_${id}`,
      certificate_url: `/c/cert_${id}`,
      certificate_json_url: `/certificate/cert_${id}`,
      error: null,
    });
  });

  it('says refused, with the code, when the dataset is refused after the 202 (nothing recorded)', async () => {
    const accepted = await post(body('print(1)\n', { url: 'http://127.0.0.1:9/data.csv', format: 'csv' }));
    expect(accepted.status).toBe(202);
    const { execution_id: id } = (await accepted.json()) as { execution_id: string };
    const messages = [];
    for await (const m of sseMessages((await fetch(`${base}/executions/${id}/events`)).body!)) messages.push(m);
    expect(messages.map((m) => m.event)).toEqual(['end']);
    expect(JSON.parse(messages[0]!.data)).toMatchObject({ state: 'refused', certificate_id: null, error: { code: 'DATASET_URL_SCHEME_FORBIDDEN' } });
    expect(await state(id)).toMatchObject({ state: 'refused', events: 0, last_event: null, error: { code: 'DATASET_URL_SCHEME_FORBIDDEN' } });
    expect(await services.log.readStream(id)).toEqual([]);
  });

  it('refuses before the 202 what needs no dataset: an invalid request, an LLM step without a key', async () => {
    const invalid = await post({ dataset: {} });
    expect([invalid.status, ((await invalid.json()) as { error: { code: string } }).error.code]).toEqual([400, 'REQUEST_INVALID']);
    const llm = body('print(1)\n');
    const withLlm = { ...llm, sandbox: { ...llm.sandbox, scripts: undefined, tools: [], llm: { model: 'claude-sonnet-4-5', prompt: 'hi' } } };
    const refused = await post(withLlm);
    expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([422, 'LLM_API_KEY_REQUIRED']);
  });

  it('answers synchronously without the preference (or with only preferences it does not know)', async () => {
    const response = await post(body('print(2)\n'), { 'content-type': 'application/json', prefer: 'return=minimal, respond-asynchronously' });
    expect(response.status).toBe(200);
    expect(response.headers.get('preference-applied')).toBeNull();
    expect(((await response.json()) as { result: { output: string } }).result.output).toBe('2\n');
  });
});
