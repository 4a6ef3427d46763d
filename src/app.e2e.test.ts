/**
 * The app end to end through app.inject: real bubblewrap sandbox, real SQLite
 * log, simulated attestor.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { createServices, type Services } from './services.js';

const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const COUNT_LINES = 'import os\nprint(sum(1 for _ in open(os.environ["DATASET_PATH"])))\n';

function executeBody(overrides: { data?: string; scripts?: Record<string, string>; timeout?: number; tools?: string[] } = {}) {
  return {
    dataset: { data: b64(overrides.data ?? 'a,b\n1,2\n3,4\n'), format: 'csv' },
    sandbox: {
      tools: overrides.tools ?? ['python'],
      scripts: overrides.scripts ?? { 'main.py': COUNT_LINES },
      environment: { timeout_seconds: overrides.timeout ?? 20, max_memory_mb: 256 },
    },
  };
}

describe('HTTP API', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-app-'));
    services = await createServices(
      loadConfig({
        EPHEMERA_DATA_DIR: dir,
        EPHEMERA_BODY_LIMIT_BYTES: String(256 * 1024),
        EPHEMERA_MAX_DATASET_BYTES: String(1024 * 1024),
        // The dataset-URL tests below read a plain http server on loopback: allowed here explicitly (src/net/safe-fetch.ts).
        EPHEMERA_DATASET_URL_ALLOW: '127.0.0.1',
        EPHEMERA_DATASET_URL_ALLOW_HTTP: 'true',
      }),
    );
    app = await buildApp(services);
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when a script runs to completion', () => {
    it('answers with a certificate that the server and the verify route call valid', async () => {
      const response = await app.inject({ method: 'POST', url: '/execute', payload: executeBody() });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({
        status: 'completed',
        result: { output: '3\n', exit_code: 0 },
        lifecycle: { dataset_deleted: true, sandbox_destroyed: true },
      });
      expect(body.certificate_id).toMatch(/^cert_[0-9A-Z]{26}$/);
      expect(body.proof.dataset_hash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(body.execution_trace.tool_uses).toEqual([expect.objectContaining({ tool: 'main.py', caller: 'script', count: 1 })]);

      const certificate = (await app.inject({ url: body.certificate_json_url })).json();
      expect(certificate.events.map((e: { type: string }) => e.type)).toEqual([
        'execution.requested',
        'dataset.loaded',
        'sandbox.created',
        'tool.invoked',
        'tool.completed',
        ...certificate.events.slice(5, -4).map(() => 'file.accessed'),
        'execution.completed',
        'dataset.deleted',
        'sandbox.destroyed',
        'certificate.sealed',
      ]);
      // The script's read of the dataset is in the trace (strace inside the sandbox).
      expect(certificate.execution_trace.file_activity).toContainEqual({ op: 'read', path: '/data/dataset.csv', count: 1 });
      const verdict = (await app.inject({ url: `${body.certificate_json_url}/verify` })).json();
      expect(verdict).toMatchObject({
        valid: true,
        trusted: true,
        status: 'trusted',
        tee: 'simulated',
        format_version: 2,
        failure: null,
        trust: { basis: 'local-key' },
      });
    });
  });

  describe("when a reader asks whose key signs this server's certificates", () => {
    it('serves the key and its fingerprint at the well-known URL, and the verify route trusts pins given per request', async () => {
      const key = (await app.inject({ url: '/.well-known/ephemera-key.json' })).json();
      expect(key).toEqual({
        tee: 'simulated',
        algorithm: 'ed25519',
        public_key: expect.stringMatching(/^[0-9a-f]{64}$/),
        fingerprint: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
        hardware_backed: false,
      });
      const id = (await app.inject({ method: 'POST', url: '/execute', payload: executeBody() })).json().certificate_id;
      // A server that does not hold the key: its verdict is untrusted until the request pins it.
      const elsewhere = await buildApp({ ...services, verifyOptions: { ...services.verifyOptions, localKeys: [] } });
      try {
        expect((await elsewhere.inject({ url: `/certificate/${id}/verify` })).json()).toMatchObject({
          valid: true,
          trusted: false,
          status: 'untrusted',
          key: { fingerprint: key.fingerprint },
        });
        expect((await elsewhere.inject({ url: `/certificate/${id}/verify?trust_key=${key.fingerprint}` })).json()).toMatchObject({
          trusted: true,
          trust: { basis: 'pinned-key' },
        });
        expect((await elsewhere.inject({ url: `/certificate/${id}/verify?trust_key=${'ab'.repeat(32)}&trust_key=${key.public_key}` })).json()).toMatchObject({
          trusted: true,
        });
        expect((await elsewhere.inject({ url: `/certificate/${id}/verify?trust_key=not-a-key` })).statusCode).toBe(400);
      } finally {
        await elsewhere.close();
      }
    });
  });

  describe('when the dataset comes by URL', () => {
    let server: Server;
    let base = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/data.csv') return void res.end('a,b\n1,2\n3,4\n5,6\n');
        if (req.url === '/huge') return void res.end('x'.repeat(2 * 1024 * 1024));
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fetches it into memory and records the source', async () => {
      const body = (
        await app.inject({ method: 'POST', url: '/execute', payload: { ...executeBody(), dataset: { url: `${base}/data.csv`, format: 'csv' } } })
      ).json();
      expect(body).toMatchObject({ status: 'completed', result: { output: '4\n' } });
      const certificate = (await app.inject({ url: body.certificate_json_url })).json();
      expect(certificate.dataset).toMatchObject({ source: 'url', bytes: 16 });
    });

    it('refuses one over the size cap with 413 DATASET_TOO_LARGE, and a missing one with 422', async () => {
      const big = await app.inject({ method: 'POST', url: '/execute', payload: { ...executeBody(), dataset: { url: `${base}/huge`, format: 'txt' } } });
      expect([big.statusCode, big.json().error.code]).toEqual([413, 'DATASET_TOO_LARGE']);
      const missing = await app.inject({ method: 'POST', url: '/execute', payload: { ...executeBody(), dataset: { url: `${base}/nope`, format: 'txt' } } });
      expect([missing.statusCode, missing.json().error.code]).toEqual([422, 'DATASET_FETCH_FAILED']);
    });
  });

  describe('when the script exits non-zero', () => {
    it('still certifies the run, as failed', async () => {
      const body = (
        await app.inject({ method: 'POST', url: '/execute', payload: executeBody({ scripts: { 'main.sh': 'echo partial; exit 7\n' }, tools: ['bash'] }) })
      ).json();
      expect(body).toMatchObject({
        status: 'failed',
        result: { exit_code: 7, error_code: 'EXECUTION_NONZERO_EXIT', output: 'partial\n', stderr_tail: { text: '', bytes: 0, truncated: false } },
      });
      expect((await app.inject({ url: `${body.certificate_json_url}/verify` })).json().valid).toBe(true);
    });
  });

  describe('when the request is bad', () => {
    it.each([
      ['an unknown top-level field', { ...executeBody(), extra: 1 }, 'body.extra'],
      ['a sandbox-weakening field', { ...executeBody(), sandbox: { ...executeBody().sandbox, privileged: true } }, 'body.sandbox.privileged'],
      [
        'a string where a number belongs',
        { ...executeBody(), sandbox: { ...executeBody().sandbox, environment: { timeout_seconds: '20', max_memory_mb: 256 } } },
        'body.sandbox.environment.timeout_seconds',
      ],
      [
        'a timeout out of range',
        { ...executeBody(), sandbox: { ...executeBody().sandbox, environment: { timeout_seconds: 0, max_memory_mb: 256 } } },
        'body.sandbox.environment.timeout_seconds',
      ],
      ['a script name with a path', { ...executeBody(), sandbox: { ...executeBody().sandbox, scripts: { '../x.py': '' } } }, 'body.sandbox.scripts'],
      ['no dataset', { sandbox: executeBody().sandbox }, 'body.dataset'],
      ['an unknown format', { ...executeBody(), dataset: { data: b64('x'), format: 'xml' } }, 'body.dataset.format'],
    ])('%s is a 400 naming the field', async (_label, payload, field) => {
      const response = await app.inject({ method: 'POST', url: '/execute', payload });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toMatchObject({ code: 'REQUEST_INVALID', field: expect.stringContaining(field) });
    });

    it('invalid JSON is a 400 that does not echo the body', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        headers: { 'content-type': 'application/json' },
        payload: '{"dataset": SECRET-CANARY',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('REQUEST_MALFORMED_JSON');
      expect(response.body).not.toContain('SECRET-CANARY');
    });

    it('a __proto__ key is a 400', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        headers: { 'content-type': 'application/json' },
        payload: '{"__proto__": {"polluted": true}, "dataset": {}}',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('REQUEST_FORBIDDEN_KEY');
    });

    it('a body nested 10 000 levels deep is a 400 before it is parsed', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        headers: { 'content-type': 'application/json' },
        payload: `{"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('REQUEST_TOO_DEEP');
    });

    it('a body over the limit is a 413 before it is buffered', async () => {
      const response = await app.inject({ method: 'POST', url: '/execute', payload: executeBody({ data: 'x'.repeat(300 * 1024) }) });
      expect(response.statusCode).toBe(413);
      expect(response.json().error.code).toBe('REQUEST_BODY_TOO_LARGE');
    });

    it('no entrypoint is a 400', async () => {
      const response = await app.inject({ method: 'POST', url: '/execute', payload: executeBody({ scripts: { 'a.py': '', 'b.py': '' } }) });
      expect(response.json().error).toMatchObject({ code: 'REQUEST_INVALID', field: 'body.sandbox.scripts' });
    });
  });

  describe('when the API description is asked for', () => {
    it('serves OpenAPI with every route at /docs', async () => {
      const spec = (await app.inject({ url: '/docs/json' })).json();
      expect(Object.keys(spec.paths)).toEqual(
        expect.arrayContaining([
          '/execute',
          '/certificate/{id}',
          '/certificate/{id}/verify',
          '/certificate/{id}/events',
          '/certificates',
          '/analytics/durations',
        ]),
      );
      expect((await app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
    });
  });

  describe('when a certificate does not exist', () => {
    it('is a 404, and a malformed id a 400', async () => {
      expect((await app.inject({ url: '/certificate/cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY' })).statusCode).toBe(404);
      const bad = await app.inject({ url: '/certificate/not-an-id' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('REQUEST_INVALID');
    });
  });

  describe('when POST /execute is protected by EPHEMERA_EXECUTE_TOKEN', () => {
    const token = 'execute-token-canary-8f3a9c';
    let guarded: FastifyInstance;
    let guardedServices: Services;
    beforeAll(async () => {
      guardedServices = await createServices(
        loadConfig({ EPHEMERA_DATA_DIR: join(dir, 'guarded'), EPHEMERA_EXECUTE_TOKEN: token, EPHEMERA_BODY_LIMIT_BYTES: String(256 * 1024) }),
      );
      guarded = await buildApp(guardedServices);
    });
    afterAll(async () => {
      await guarded?.close();
      await guardedServices?.close();
    });

    it('refuses a caller without it, or with another, with 401 AUTH_REQUIRED before reading the body', async () => {
      for (const headers of [{}, { authorization: 'Bearer execute-token-canary-wrong' }, { authorization: token }]) {
        const response = await guarded.inject({ method: 'POST', url: '/execute', headers, payload: executeBody() });
        expect(response.statusCode).toBe(401);
        expect(response.json().error.code).toBe('AUTH_REQUIRED');
        expect(response.body).not.toContain('canary');
      }
      // An oversized body is refused for the missing token, not for its size: it was never read.
      const big = await guarded.inject({ method: 'POST', url: '/execute', payload: executeBody({ data: 'x'.repeat(300 * 1024) }) });
      expect(big.json().error.code).toBe('AUTH_REQUIRED');
    });

    it('runs for the holder of the token, and certificates stay public', async () => {
      const response = await guarded.inject({ method: 'POST', url: '/execute', headers: { authorization: `Bearer ${token}` }, payload: executeBody() });
      expect(response.statusCode).toBe(200);
      const { certificate_id: id } = response.json();
      expect((await guarded.inject({ url: `/certificate/${id}` })).statusCode).toBe(200);
      expect((await guarded.inject({ url: `/certificate/${id}/verify` })).json()).toMatchObject({ valid: true });
    });
  });
});
