/**
 * Answers a caller can act on, through the real app (fastify inject), the
 * real bubblewrap sandbox and the real SQLite log: a failing script's stderr
 * tail, committed and verified; an LLM run without a key refused before its
 * dataset is fetched; every validation problem listed in plain words; the
 * entry script's interpreter among the tools.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import type { EventLog } from '../../events/index.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificate, verifyCertificateText, type Certificate } from '../../verify/index.js';

const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const ENVIRONMENT = { timeout_seconds: 20, max_memory_mb: 256 };

/** A script that writes 6000 bytes of two-byte characters, then dies with a traceback. */
const FAILING = ['import sys', 'sys.stderr.write("é" * 3000 + "\\n")', 'rows = {"size": 1}', 'print("partial")', 'print(rows["größe"])', ''].join('\n');

describe('answers a caller can act on', () => {
  let dir: string;
  let services: Services;
  let app: FastifyInstance;
  /** Every batch the app appended to its log. */
  let appended = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-answers-'));
    // No ANTHROPIC_API_KEY: the server has no key of its own.
    services = await createServices(
      loadConfig({
        EPHEMERA_DATA_DIR: dir,
        EPHEMERA_BODY_LIMIT_BYTES: String(256 * 1024),
        // The dataset server below is plain http on loopback: allowed here on purpose (src/net refuses both by default).
        EPHEMERA_DATASET_URL_ALLOW: '127.0.0.1',
        EPHEMERA_DATASET_URL_ALLOW_HTTP: 'true',
      }),
    );
    const log: EventLog = {
      kind: services.log.kind,
      append: (events) => {
        appended += 1;
        return services.log.append(events);
      },
      readStream: (id) => services.log.readStream(id),
      close: () => services.log.close(),
    };
    app = await buildApp({ ...services, log });
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when the entry script fails with a traceback', () => {
    let body: { certificate_json_url: string; result: { stderr_tail: { text: string; bytes: number; truncated: boolean } } };
    let certificate: Certificate;
    beforeAll(async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: { dataset: { data: b64('x\n'), format: 'txt' }, sandbox: { tools: ['python'], scripts: { 'main.py': FAILING }, environment: ENVIRONMENT } },
      });
      expect(response.statusCode).toBe(200);
      body = response.json();
      certificate = (await app.inject({ url: body.certificate_json_url })).json();
    });

    it('answers with the last 4 KiB of its stderr, cut on a character boundary, with the byte count and the truncation flag', () => {
      expect(body).toMatchObject({ status: 'failed', result: { error_code: 'EXECUTION_NONZERO_EXIT', exit_code: 1, output: 'partial\n' } });
      const tail = body.result.stderr_tail;
      expect(tail.text).toMatch(/Traceback \(most recent call last\):[\s\S]*KeyError: 'größe'\n$/);
      expect(tail.text.startsWith('é')).toBe(true); // not a dangling half of one (U+FFFD)
      expect(tail.text).not.toContain('\uFFFD');
      expect(Buffer.byteLength(tail.text)).toBeGreaterThan(4000);
      expect(Buffer.byteLength(tail.text)).toBeLessThanOrEqual(4096);
      expect(tail.bytes).toBeGreaterThan(6000);
      expect(tail.truncated).toBe(true);
    });

    it('commits it in execution.failed, shows it in the certificate, and the verifier accepts it', async () => {
      const failed = certificate.events.find((e) => e.type === 'execution.failed')!;
      expect((failed.data as { stderr_tail: unknown }).stderr_tail).toEqual(body.result.stderr_tail);
      expect(certificate.result.stderr_tail).toEqual(body.result.stderr_tail);
      expect((await app.inject({ url: `${body.certificate_json_url}/verify` })).json()).toMatchObject({ valid: true, trusted: true });
    });

    it('a tail edited in the summary, or in its event, is rejected by the verifier', async () => {
      const summary = structuredClone(certificate);
      summary.result.stderr_tail!.text = 'all good\n';
      expect((await verifyCertificate(summary, services.verifyOptions)).failure).toMatchObject({
        code: 'VERIFY_FIELD_MISMATCH',
        field: 'result.stderr_tail.text',
      });
      const event = structuredClone(certificate);
      const failed = event.events.find((e) => e.type === 'execution.failed')!;
      (failed.data as { stderr_tail: { text: string } }).stderr_tail.text = 'all good\n';
      event.result.stderr_tail!.text = 'all good\n';
      expect((await verifyCertificateText(JSON.stringify(event), services.verifyOptions)).failure?.code).toBe('EVENTS_HASH_MISMATCH');
    });
  });

  describe('when the script writes more stderr than the capture keeps, then fails', () => {
    it('still answers with the end of it: the traceback, not the middle of the noise before it', async () => {
      // 2 MiB of noise: past the 1 MiB the capture keeps of each stream's head, under the 16 MiB that kills a call.
      const noisy = ['import sys', 'for i in range(32768):', '    sys.stderr.write("noise %058d\\n" % i)', 'raise ValueError("last words")', ''].join('\n');
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: { dataset: { data: b64('x\n'), format: 'txt' }, sandbox: { tools: ['python'], scripts: { 'main.py': noisy }, environment: ENVIRONMENT } },
      });
      const tail = response.json().result.stderr_tail;
      expect(tail.text).toMatch(/Traceback \(most recent call last\):[\s\S]*ValueError: last words\n$/);
      expect(tail.bytes).toBeGreaterThan(2 * 1024 * 1024);
      expect(tail.truncated).toBe(true);
      const certificate = (await app.inject({ url: response.json().certificate_json_url })).json();
      expect(certificate.result.stderr_tail).toEqual(tail);
    });
  });

  describe('when an LLM run has no API key, neither its own nor the server’s', () => {
    let server: Server;
    let hits = 0;
    let url = '';
    beforeAll(async () => {
      server = createServer((_req, res) => {
        hits += 1;
        res.end('a,b\n1,2\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}/data.csv`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('is refused with 422 LLM_API_KEY_REQUIRED before the dataset is fetched, and nothing is recorded', async () => {
      const before = appended;
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: {
          dataset: { url, format: 'csv' },
          sandbox: { llm: { prompt: 'count the rows', model: 'claude-test' }, tools: ['python'], environment: ENVIRONMENT },
        },
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().error).toMatchObject({ code: 'LLM_API_KEY_REQUIRED', field: 'body.sandbox.llm.api_key' });
      expect(hits).toBe(0);
      expect(appended).toBe(before);
    });

    it('the same dataset URL is fetched by a run that needs no key (the server above does count)', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: { dataset: { url, format: 'csv' }, sandbox: { tools: ['bash'], scripts: { 'main.sh': 'wc -l < "$DATASET_PATH"' }, environment: ENVIRONMENT } },
      });
      expect(response.json()).toMatchObject({ status: 'completed', result: { output: '2\n', stderr_tail: null } });
      expect(hits).toBe(1);
    });
  });

  describe('when a request has several mistakes', () => {
    it('answers REQUEST_INVALID listing every one, with its field path, in plain words', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: {
          dataset: { data: b64('x'), url: 'https://example.org/data.csv', format: 'csv' },
          sandbox: {
            tools: ['python', 'bash', 'ruby'],
            scripts: { 'main.py': 'print(1)' },
            foo: true,
            entrypoint: 'run.py',
            environment: { timeout_seconds: 1.5, max_memory_mb: 256 },
          },
        },
      });
      expect(response.statusCode).toBe(400);
      const { error } = response.json();
      expect(error.code).toBe('REQUEST_INVALID');
      expect(error.problems).toEqual([
        { path: 'dataset', message: 'needs exactly one of data or url', code: 'REQUEST_INVALID' },
        { path: 'sandbox.foo', message: 'is not a known field', code: 'REQUEST_INVALID' },
        { path: 'sandbox.tools[2]', message: 'must be one of bash, python, grep, sql', code: 'REQUEST_INVALID' },
        { path: 'sandbox.environment.timeout_seconds', message: 'must be a whole number from 1 to 3600', code: 'REQUEST_INVALID' },
        { path: 'sandbox.entrypoint', message: 'names no script in sandbox.scripts', code: 'REQUEST_ENTRYPOINT_NOT_A_SCRIPT' },
      ]);
      expect(error.field).toBe('body.dataset');
      expect(error.message).toBe(
        '5 problems: dataset: needs exactly one of data or url; sandbox.foo: is not a known field; sandbox.tools[2]: must be one of bash, python, grep, sql; ' +
          'sandbox.environment.timeout_seconds: must be a whole number from 1 to 3600; sandbox.entrypoint: names no script in sandbox.scripts',
      );
    });

    it('lists at most 20, and a hostile request of 30 000 items costs one fail-fast check, not 30 000 errors', async () => {
      const scripts = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`bad name ${i}.py`, 'x']));
      const many = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: { dataset: { data: b64('x'), format: 'csv' }, sandbox: { tools: ['python'], scripts, environment: ENVIRONMENT } },
      });
      expect(many.json().error.problems).toHaveLength(20);
      expect(many.json().error.problems[0]).toEqual({
        path: 'sandbox.scripts["bad name 0.py"]',
        message: 'is not an accepted name: must be a script name ending in .py or .sh (letters, digits, ".", "_", "-"; starting with a letter or digit)',
        code: 'REQUEST_INVALID',
      });
      const hostile = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: {
          dataset: { data: b64('x'), format: 'csv' },
          sandbox: { tools: Array(30_000).fill('ruby'), scripts: { 'main.py': '' }, environment: ENVIRONMENT },
        },
      });
      expect(hostile.json().error.problems).toEqual([{ path: 'sandbox.tools', message: 'must have at most 8 items', code: 'REQUEST_INVALID' }]);
    });

    it('never echoes a value (it may be dataset text)', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: { dataset: { data: 'SECRET-CANARY', format: 'csv' }, sandbox: { tools: ['python'], scripts: { 'main.py': '' }, environment: ENVIRONMENT } },
      });
      expect(response.json().error.problems).toEqual([
        { path: 'dataset.data', message: 'must be "base64:" followed by standard base64 (line breaks allowed)', code: 'REQUEST_INVALID' },
      ]);
      expect(response.body).not.toContain('SECRET-CANARY');
    });
  });

  describe("when the entry script's interpreter is not among the tools", () => {
    it('a .sh entry script without bash, or a .py one without python, is refused with its own problem code', async () => {
      for (const [scripts, tools, needs, name] of [
        [{ 'main.sh': 'echo hi' }, ['python'], 'bash', 'main.sh'],
        [{ 'scan.py': 'print(1)' }, ['bash', 'grep'], 'python', 'scan.py'],
      ] as const) {
        const response = await app.inject({
          method: 'POST',
          url: '/execute',
          payload: { dataset: { data: b64('x'), format: 'txt' }, sandbox: { tools, scripts, environment: ENVIRONMENT } },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json().error).toMatchObject({
          code: 'REQUEST_INVALID',
          field: 'body.sandbox.tools',
          problems: [
            {
              path: 'sandbox.tools',
              message: `must include "${needs}": the entry script "${name}" runs with ${needs}`,
              code: 'REQUEST_INTERPRETER_NOT_A_TOOL',
            },
          ],
        });
      }
    });

    it('runs once the tool is added', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/execute',
        payload: { dataset: { data: b64('x'), format: 'txt' }, sandbox: { tools: ['bash'], scripts: { 'main.sh': 'echo hi' }, environment: ENVIRONMENT } },
      });
      expect(response.json()).toMatchObject({ status: 'completed', result: { output: 'hi\n' } });
    });
  });
});
