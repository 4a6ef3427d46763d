/**
 * Dataset URLs through the HTTP API (POST /execute on the real app: real
 * sandbox, real SQLite log, simulated attestor) against real servers on
 * 127.0.0.1: the allowlisted one is fetched; the server's own network in any
 * spelling, a redirect into it and the metadata address are refused with
 * their own codes, before any event is appended, and the inner server is
 * never reached.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import type { TailableEventLog } from '../../events/index.js';
import { type LocalServer, startServer } from '../../net/testing/local-servers.js';
import { createServices, type Services } from '../../services.js';

const sandbox = {
  tools: ['python'],
  scripts: { 'main.py': 'import os\nprint(sum(1 for _ in open(os.environ["DATASET_PATH"])))\n' },
  environment: { timeout_seconds: 20, max_memory_mb: 256 },
};

describe('POST /execute with a dataset URL', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;
  let source: LocalServer;
  let inner: LocalServer;

  beforeAll(async () => {
    inner = await startServer((_req, res) => void res.end('the server API: must never be read\n'));
    source = await startServer((req, res) => {
      if (req.url === '/data.csv') return void res.end('a,b\n1,2\n3,4\n5,6\n');
      if (req.url === '/empty') return void res.end();
      if (req.url === '/to-inner') return void res.writeHead(302, { location: '/to-inner-2' }).end();
      if (req.url === '/to-inner-2') return void res.writeHead(302, { location: `http://2130706433:${inner.port}/secret` }).end();
      res.writeHead(404).end();
    });
    dir = mkdtempSync(join(tmpdir(), 'ephemera-dataset-url-'));
    services = await createServices(
      loadConfig({
        EPHEMERA_DATA_DIR: dir,
        EPHEMERA_TEE: 'simulated',
        EPHEMERA_DATASET_URL_ALLOW: `127.0.0.1:${source.port}`,
        EPHEMERA_DATASET_URL_ALLOW_HTTP: 'true',
      }),
    );
    app = await buildApp(services);
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    await Promise.all([source?.close(), inner?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (dataset: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/execute', payload: { dataset: { format: 'csv', ...dataset }, sandbox } });
  const events = async () => (await (services.log as TailableEventLog).readFrom(0, 10_000)).length;

  it('refuses the server itself, a redirect into it and the metadata address, each with its code, recording nothing', async () => {
    const refusals: [string, number, string, RegExp][] = [
      [`http://2130706433:${inner.port}/secret?token=SECRET`, 422, 'DATASET_URL_LOOPBACK', /loopback/],
      [`http://0x7f000001:${inner.port}/`, 422, 'DATASET_URL_LOOPBACK', /loopback/],
      [`http://[::ffff:127.0.0.1]:${inner.port}/`, 422, 'DATASET_URL_LOOPBACK', /loopback/],
      [`http://localhost:${inner.port}/`, 422, 'DATASET_URL_LOOPBACK', /loopback/],
      [`http://127.0.0.1:${source.port}/to-inner`, 422, 'DATASET_URL_LOOPBACK', /redirect 2/],
      ['http://169.254.169.254/latest/meta-data/', 422, 'DATASET_URL_METADATA_ADDRESS', /metadata/],
      ['http://[fd00:ec2::254]/latest/meta-data/', 422, 'DATASET_URL_METADATA_ADDRESS', /metadata/],
      ['http://10.0.0.1/', 422, 'DATASET_URL_PRIVATE_ADDRESS', /private/],
      ['ftp://127.0.0.1/', 400, 'REQUEST_INVALID', /dataset\.url/],
      [`http://user:SECRET@127.0.0.1:${source.port}/data.csv`, 422, 'DATASET_URL_CREDENTIALS', /credentials/],
    ];
    const before = await events();
    for (const [url, status, code, message] of refusals) {
      const response = await post({ url });
      expect([url, response.statusCode, response.json().error.code]).toEqual([url, status, code]);
      expect(response.json().error.message).toMatch(message);
      expect(response.body).not.toContain('SECRET');
    }
    expect(await events()).toBe(before);
    expect(inner.requests).toEqual([]);
  });

  it('refuses an empty dataset, fetched or inline, with DATASET_EMPTY unless allowed, recording nothing', async () => {
    const before = await events();
    const fetched = await post({ url: `http://127.0.0.1:${source.port}/empty` });
    expect([fetched.statusCode, fetched.json().error.code]).toEqual([422, 'DATASET_EMPTY']);
    const inline = await post({ data: 'base64:' });
    expect([inline.statusCode, inline.json().error.code]).toEqual([422, 'DATASET_EMPTY']);
    expect(await events()).toBe(before);
    const allowed = (await post({ url: `http://127.0.0.1:${source.port}/empty`, allow_empty: true })).json();
    expect(allowed).toMatchObject({ status: 'completed', result: { output: '0\n' } });
  });

  it('fetches from the allowlisted source into memory and certifies the run', async () => {
    const response = await post({ url: `http://127.0.0.1:${source.port}/data.csv` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'completed', result: { output: '4\n' } });
  });

  it('accepts inline base64 with MIME line breaks', async () => {
    const wrapped = Buffer.from('a,b\n1,2\n3,4\n5,6\n7,8\n').toString('base64').replace(/.{8}/g, '$&\r\n');
    expect((await post({ data: `base64:${wrapped}` })).json()).toMatchObject({ status: 'completed', result: { output: '5\n' } });
  });
});
