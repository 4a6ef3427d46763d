/**
 * Real responses of every API route, each validated against the schema the
 * OpenAPI document gives for its status; the certificate served byte for byte
 * as stored; every time RFC 3339 UTC; "no error" null; execution_time_ms one
 * figure in the answer, the certificate, search and analytics. Real
 * bubblewrap sandbox, SQLite log, chDB, simulated attestor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { abortOwnUnfinished } from './commands/execute/recover.js';
import { loadConfig } from './config.js';
import { data, streamChain } from './events/testing/stream.js';
import { closedPort } from './net/testing/local-servers.js';
import { ReadModel } from './projections/read-model.js';
import { createServices, type Services } from './services.js';
import { certificateJson } from './verify/index.js';
import { KeyRing } from './commands/keys/key-ring.js';

const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const executeBody = (script: string) => ({
  dataset: { data: b64('a,b\n1,2\n'), format: 'csv' },
  sandbox: { tools: ['python'], scripts: { 'main.py': script }, environment: { timeout_seconds: 20, max_memory_mb: 256 } },
});
/** RFC 3339 in UTC: what the API promises for every time. */
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Anything that looks like a time, in any spelling (ClickHouse's "2026-03-01 10:00:00.000" included). */
const TIME_LIKE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/;

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content: Record<string, { schema: object }> }> }>> };

/** Every string member anywhere in a JSON value, with its path. */
function* strings(value: unknown, path = '$'): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${path}[${i}]`);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* strings(v, `${path}.${k}`);
}

describe('every API route answers what its OpenAPI schema says', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;
  let doc: Doc;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', UTC_TIME);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  /** Every JSON body the suite saw, for the checks over all of them. */
  const seen: { route: string; body: unknown }[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: the suite reads whatever JSON the routes answer
  let completed: Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: the suite reads whatever JSON the routes answer
  let failed: Record<string, any>;
  let abortedId: string;

  /** Sends, then validates the JSON body against the document's schema for (route, status). */
  async function call(route: string, options: InjectOptions, target: FastifyInstance = app): Promise<LightMyRequestResponse> {
    const response = await target.inject(options);
    const [method, path] = route.split(' ') as [string, string];
    const declared = doc.paths[path]?.[method]?.responses[String(response.statusCode)];
    expect(declared, `${route} answered ${response.statusCode}, which its OpenAPI entry does not declare`).toBeDefined();
    const body = response.json();
    const validate = ajv.compile(declared!.content['application/json']!.schema);
    expect(validate(body), `${route} ${response.statusCode}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    seen.push({ route, body });
    return response;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-contract-'));
    services = await createServices(
      loadConfig({ EPHEMERA_DATA_DIR: dir, EPHEMERA_BODY_LIMIT_BYTES: String(64 * 1024), EPHEMERA_MAX_DATASET_BYTES: String(32 * 1024) }),
    );
    app = await buildApp(services);
    doc = (await app.inject({ url: '/docs/json' })).json();
    completed = (await call('post /execute', { method: 'POST', url: '/execute', payload: executeBody('print("ok")\n') })).json();
    failed = (
      await call('post /execute', { method: 'POST', url: '/execute', payload: executeBody('import sys\nsys.stderr.write("no")\nsys.exit(3)\n') })
    ).json();
    // A run the executor never finished: recovery marks it aborted (no outcome, no seal).
    const { next } = streamChain('01JD7ZX3Q4M5N6P7R8S9T0ABRT');
    await services.journal.begin('01JD7ZX3Q4M5N6P7R8S9T0ABRT');
    await services.log.append([next('execution.requested', data.requested()), next('dataset.loaded', data.loaded())]);
    await abortOwnUnfinished(services.log, services.journal);
    abortedId = 'cert_01JD7ZX3Q4M5N6P7R8S9T0ABRT';
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('POST /execute', () => {
    it('answers a completed run with the page URL, the JSON URL beside it, a null error and the committed execution time', async () => {
      expect(completed).toMatchObject({ status: 'completed', result: { output: 'ok\n', error_code: null } });
      const id = completed.certificate_id as string;
      expect(completed.certificate_url).toBe(`/c/${id}`);
      expect(completed.certificate_json_url).toBe(`/certificate/${id}`);
      const page = await app.inject({ url: completed.certificate_url });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      // A page link to no certificate, or to no certificate id at all, is a 404 (the page itself then says so).
      for (const url of [`/c/cert_${'0'.repeat(26)}`, '/c/not-an-id']) {
        const missing = await app.inject({ url });
        expect({ url, status: missing.statusCode, type: missing.headers['content-type'] }).toEqual({ url, status: 404, type: 'text/html; charset=utf-8' });
      }
      const certificate = (await app.inject({ url: completed.certificate_json_url })).json();
      expect(certificate.certificate_id).toBe(id);
      const outcome = certificate.events.find((e: { type: string }) => e.type === 'execution.completed');
      expect(completed.lifecycle.execution_time_ms).toBe(outcome.data.duration_ms);
      expect(completed.lifecycle.execution_time_ms).toBe(certificate.lifecycle.execution_time_ms);
    });

    it('answers a failed run with its error code', () => {
      expect(failed).toMatchObject({ status: 'failed', result: { exit_code: 3, error_code: expect.stringMatching(/^[A-Z_]+$/) } });
    });

    it('refuses with the declared error bodies: 400, 401, 413, 415', async () => {
      expect((await call('post /execute', { method: 'POST', url: '/execute', payload: { dataset: {} } })).statusCode).toBe(400);
      expect(
        (await call('post /execute', { method: 'POST', url: '/execute', payload: 'x'.repeat(65 * 1024), headers: { 'content-type': 'application/json' } }))
          .statusCode,
      ).toBe(413);
      const sealed = await call('post /execute', {
        method: 'POST',
        url: '/execute',
        payload: Buffer.from('EPHSEAL1 and nothing sealed'),
        headers: { 'content-type': 'application/vnd.ephemera.sealed-request' },
      });
      expect({ status: sealed.statusCode, code: sealed.json().error.code }).toEqual({ status: 400, code: 'SEALED_REQUEST_MALFORMED' });
      for (const type of ['text/plain', 'application/xml']) {
        const refused = await call('post /execute', { method: 'POST', url: '/execute', payload: 'hello', headers: { 'content-type': type } });
        expect(refused.statusCode, type).toBe(415);
        expect(refused.json().error.code).toBe('REQUEST_UNSUPPORTED_MEDIA_TYPE');
      }
      const guarded = await buildApp({ ...services, config: { ...services.config, executeToken: 'the-token' } });
      try {
        const refused = await call('post /execute', { method: 'POST', url: '/execute', payload: executeBody('print(1)\n') }, guarded);
        expect(refused.statusCode).toBe(401);
        expect(refused.json().error.code).toBe('AUTH_REQUIRED');
      } finally {
        await guarded.close();
      }
    });
  });

  describe('GET /certificate/:id', () => {
    it('serves the stored certificate byte for byte (no re-serialization by the response schema)', async () => {
      const stored = certificateJson((await services.certificates.get(completed.certificate_id))!);
      const response = await call('get /certificate/{id}', { url: completed.certificate_json_url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.body).toBe(stored);
      expect(response.rawPayload.equals(Buffer.from(stored, 'utf8'))).toBe(true);
    });

    it('answers 400 for a malformed id and 404 for an unknown one', async () => {
      expect((await call('get /certificate/{id}', { url: '/certificate/nope' })).statusCode).toBe(400);
      expect((await call('get /certificate/{id}', { url: '/certificate/cert_01JD7ZX3Q4M5N6P7R8S9T0XXXX' })).statusCode).toBe(404);
    });
  });

  describe('the other certificate routes', () => {
    it('answers events with proofs, 404 for an unknown id', async () => {
      expect((await call('get /certificate/{id}/events', { url: `${completed.certificate_json_url}/events` })).statusCode).toBe(200);
      expect((await call('get /certificate/{id}/events', { url: '/certificate/cert_01JD7ZX3Q4M5N6P7R8S9T0XXXX/events' })).statusCode).toBe(404);
    });

    it('answers a verdict, 400 for a malformed pin', async () => {
      const verdict = await call('get /certificate/{id}/verify', { url: `${completed.certificate_json_url}/verify` });
      expect(verdict.json()).toMatchObject({ valid: true, trusted: true });
      expect((await call('get /certificate/{id}/verify', { url: `${completed.certificate_json_url}/verify?trust_key=abc` })).statusCode).toBe(400);
    });

    it('answers the key document', async () => {
      expect((await call('get /.well-known/ephemera-key.json', { url: '/.well-known/ephemera-key.json' })).json()).toMatchObject({ tee: 'simulated' });
    });

    it('answers the sealing key document, and 503 while no key could be attested', async () => {
      const served = await call('get /.well-known/ephemera-seal-key.json', { url: '/.well-known/ephemera-seal-key.json' });
      expect(served.json()).toMatchObject({ statement: { type: 'ephemera.key-statement', node: services.nodeId } });
      const failing = { describe: () => services.attestor.describe(), attest: () => Promise.reject(new Error('no TEE')) };
      const keyRing = new KeyRing({ attestor: failing, node: 'n', suite: 'x25519-aes256gcm', rotateMs: 60_000, graceMs: 0, timer: false });
      const keyless = await buildApp({ ...services, keyRing });
      try {
        const refused = await call('get /.well-known/ephemera-seal-key.json', { url: '/.well-known/ephemera-seal-key.json' }, keyless);
        expect({ status: refused.statusCode, code: refused.json().error.code }).toEqual({ status: 503, code: 'ATTEST_UNAVAILABLE' });
      } finally {
        await keyless.close();
      }
    });
  });

  describe('GET /certificates', () => {
    it('answers rows with RFC 3339 UTC times, null for no error, tee or seal, and execution_time_ms equal to the certificate', async () => {
      const { items } = (await call('get /certificates', { url: '/certificates?limit=100' })).json();
      const row = (id: string) => items.find((r: { certificate_id: string }) => r.certificate_id === id);
      for (const summary of [completed, failed]) {
        const certificate = (await services.certificates.get(summary.certificate_id))!;
        expect(row(summary.certificate_id)).toMatchObject({
          requested_at: certificate.lifecycle.requested,
          sealed_at: certificate.lifecycle.sealed,
          execution_time_ms: summary.lifecycle.execution_time_ms,
          error_code: summary.result.error_code,
          tee: 'simulated',
        });
      }
      expect(row(completed.certificate_id).error_code).toBeNull();
      expect(row(abortedId)).toMatchObject({ status: 'aborted', sealed_at: null, execution_time_ms: null, error_code: null, tee: null });
    });

    it('sorts by execution_time_ms', async () => {
      const { items } = (await call('get /certificates', { url: '/certificates?sort=execution_time_ms&order=desc' })).json();
      const times = items.map((r: { execution_time_ms: number | null }) => r.execution_time_ms ?? 0);
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('answers 400 for a bad query', async () => {
      expect((await call('get /certificates', { url: '/certificates?sort=duration' })).statusCode).toBe(400);
    });
  });

  describe('GET /analytics/*', () => {
    it.each(['executions-per-day', 'tokens-by-model', 'tool-usage', 'durations', 'failures'])('answers %s, and 400 for a bad range', async (name) => {
      expect((await call(`get /analytics/${name}`, { url: `/analytics/${name}` })).statusCode).toBe(200);
      expect((await call(`get /analytics/${name}`, { url: `/analytics/${name}?from=yesterday` })).statusCode).toBe(400);
    });

    it('computes duration percentiles over the same execution_time_ms', async () => {
      const durations = (await call('get /analytics/durations', { url: '/analytics/durations' })).json();
      const times = [completed, failed].map((s) => s.lifecycle.execution_time_ms as number).sort((a, b) => a - b);
      expect(durations).toEqual({ executions: 2, p50_ms: times[0], p95_ms: times[1], p99_ms: times[1] });
    });
  });

  describe('GET /health and GET /ready', () => {
    it('answer as documented', async () => {
      expect((await call('get /health', { url: '/health' })).statusCode).toBe(200);
      expect((await call('get /ready', { url: '/ready' })).statusCode).toBe(200);
    });
  });

  describe('when the projections store does not answer', () => {
    it('answers the read routes and /ready with their declared 503 bodies', async () => {
      const readModel = new ReadModel({ clickhouseUrl: `http://127.0.0.1:${await closedPort()}/`, dataDir: dir }, services.log);
      const down = await buildApp({ ...services, readModel });
      try {
        expect((await call('get /certificates', { url: '/certificates' }, down)).statusCode).toBe(503);
        expect((await call('get /analytics/durations', { url: '/analytics/durations' }, down)).statusCode).toBe(503);
        expect((await call('get /ready', { url: '/ready' }, down)).statusCode).toBe(503);
      } finally {
        await down.close();
      }
    });
  });

  describe('the transparency log (/tlog/*, the log key document)', () => {
    it('answers leaves, history, tiles, the checkpoint and the log key as declared; 400, 404 and 503 with their codes', async () => {
      await services.tlog!.sequencer!.tick();
      const leaf = (await call('get /tlog/leaves/{certificate_id}', { url: `/tlog/leaves/${completed.certificate_id}` })).json();
      expect(leaf.leaf.certificate_id).toBe(completed.certificate_id);
      const notLogged = await call('get /tlog/leaves/{certificate_id}', { url: `/tlog/leaves/${abortedId}` });
      expect([notLogged.statusCode, notLogged.json().error.code]).toEqual([404, 'TLOG_NOT_LOGGED']);
      const history = (await call('get /tlog/history/{fingerprint}', { url: `/tlog/history/${leaf.leaf.fingerprint}?before=1000` })).json();
      expect(history.leaves?.length, JSON.stringify(history)).toBeGreaterThanOrEqual(1);
      expect((await call('get /tlog/history/{fingerprint}', { url: '/tlog/history/nope' })).statusCode).toBe(400);
      expect((await call('get /.well-known/ephemera-log-key.json', { url: '/.well-known/ephemera-log-key.json' })).json()).toEqual(leaf.log_key);
      const checkpoint = await app.inject({ url: '/tlog/checkpoint' });
      expect([checkpoint.statusCode, checkpoint.headers['content-type']]).toEqual([200, 'text/plain; charset=utf-8']);
      const tile = await app.inject({ url: `/tlog/tile/0/000.p/${checkpoint.body.split('\n')[1]}` });
      expect([tile.statusCode, tile.headers['content-type'], tile.rawPayload.length % 32]).toEqual([200, 'application/octet-stream', 0]);
      const bad = await call('get /tlog/tile/{*}', { url: '/tlog/tile/0/000.p/0' });
      expect([bad.statusCode, bad.json().error.code]).toEqual([400, 'TLOG_TILE_PATH_INVALID']);
      const missing = await call('get /tlog/tile/{*}', { url: '/tlog/tile/entries/001' });
      expect([missing.statusCode, missing.json().error.code]).toEqual([404, 'TLOG_TILE_NOT_FOUND']);
      const off = await buildApp({ ...services, tlog: null });
      try {
        for (const [route, url] of [
          ['get /tlog/checkpoint', '/tlog/checkpoint'],
          ['get /tlog/tile/{*}', '/tlog/tile/0/000'],
          ['get /tlog/leaves/{certificate_id}', `/tlog/leaves/${completed.certificate_id}`],
          ['get /tlog/history/{fingerprint}', `/tlog/history/${leaf.leaf.fingerprint}`],
          ['get /.well-known/ephemera-log-key.json', '/.well-known/ephemera-log-key.json'],
        ] as const) {
          const response = await call(route, { url }, off);
          expect([route, response.statusCode, response.json().error.code]).toEqual([route, 503, 'TLOG_UNAVAILABLE']);
        }
      } finally {
        await off.close();
      }
    });
  });

  describe('async runs and GET /executions/:id', () => {
    it("answers 202 with the documented body, then the run's state; 400 and 404; the event stream as text/event-stream", async () => {
      const accepted = await call('post /execute', {
        method: 'POST',
        url: '/execute',
        payload: executeBody('print("later")\n'),
        headers: { prefer: 'respond-async' },
      });
      expect(accepted.statusCode).toBe(202);
      const id = accepted.json().execution_id as string;
      let state = (await call('get /executions/{id}', { url: `/executions/${id}` })).json();
      for (let i = 0; i < 300 && state.state !== 'certified'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        state = (await call('get /executions/{id}', { url: `/executions/${id}` })).json();
      }
      expect(state).toMatchObject({ state: 'certified', certificate_id: `cert_${id}`, error: null });
      expect(state.last_event.at).toMatch(UTC_TIME);
      // Another node's run, or ours after a restart: from the stored stream (the aborted one above).
      expect((await call('get /executions/{id}', { url: `/executions/${abortedId.slice(5)}` })).json()).toMatchObject({
        state: 'aborted',
        node: null,
        error: { code: 'EXECUTION_ABORTED' },
      });
      expect((await call('get /executions/{id}', { url: '/executions/nope' })).statusCode).toBe(400);
      expect((await call('get /executions/{id}', { url: '/executions/01JD7ZX3Q4M5N6P7R8S9T0XXXX' })).statusCode).toBe(404);
      expect((await call('get /executions/{id}/events', { url: '/executions/01JD7ZX3Q4M5N6P7R8S9T0XXXX/events' })).statusCode).toBe(404);
      const events = await app.inject({ url: `/executions/${id}/events` });
      expect(events.statusCode).toBe(200);
      expect(events.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(Object.keys(doc.paths['/executions/{id}/events']!.get!.responses['200']!.content)).toEqual(['text/event-stream']);
      expect(events.body).toMatch(/^id: 0\nevent: execution\.requested\ndata: \{/m);
      expect(events.body).toContain(`event: end\ndata: {"state":"certified","certificate_id":"cert_${id}","error":null}\n\n`);
    });
  });

  describe('over every answer above', () => {
    it('writes every time as RFC 3339 UTC, and never "" for a missing error', () => {
      expect(seen.length).toBeGreaterThan(30);
      for (const { route, body } of seen) {
        for (const [path, value] of strings(body)) {
          if (TIME_LIKE.test(value)) expect(value, `${route} ${path}`).toMatch(UTC_TIME);
          if (/(^|_)error(_code)?$/.test(path.split('.').pop()!)) expect(value, `${route} ${path}`).not.toBe('');
        }
      }
    });
  });
});
