/**
 * The write path through the real bubblewrap sandbox and the real SQLite log:
 * non-persistence (canary sweep), containment seen from outside, and the
 * timeout killing every descendant.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startServer } from '../../net/testing/local-servers.js';
import { loadConfig } from '../../config.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificate } from '../../verify/index.js';
import { execute } from './handler.js';
import { parseExecuteRequest } from './request.js';
import { filesHolding } from './testing/disk-sweep.js';

const run = promisify(execFile);

const request = (data: string, scripts: Record<string, string>, timeout = 20) =>
  parseExecuteRequest({
    dataset: { data: `base64:${Buffer.from(data).toString('base64')}`, format: 'txt' },
    sandbox: { tools: ['python', 'bash'], scripts, environment: { timeout_seconds: timeout, max_memory_mb: 256 } },
  });

describe('execute (real sandbox, real SQLite log)', () => {
  let dir: string;
  let services: Services;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-exec-'));
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir }));
  });
  afterAll(async () => {
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when the drain stops a run before its sandbox exists', () => {
    it('certifies the failure as EXECUTOR_DRAINING on the sandbox-start-failure path: no sandbox, the dataset deleted', async () => {
      const { certificate } = await execute(request('x', { 'main.sh': 'echo hi' }), { ...services, signal: AbortSignal.abort() });
      expect(await verifyCertificate(certificate, services.verifyOptions)).toMatchObject({ valid: true, trusted: true });
      expect(certificate).toMatchObject({ status: 'failed', result: { error_code: 'EXECUTOR_DRAINING' } });
      expect(certificate.events.map((e) => e.type)).toEqual([
        'execution.requested',
        'execution.failed',
        'dataset.deleted',
        'sandbox.destroyed',
        'certificate.sealed',
      ]);
      expect(certificate.events[3]!.data).toMatchObject({ checks: { sandbox_started: false } });
    });
  });

  describe('when the drain stops a run still fetching its dataset', () => {
    it('refuses it as SERVER_DRAINING with Retry-After, at once, and records nothing', async () => {
      // A dataset source that accepts the request and never answers: only the stop can end the fetch early.
      const hung = await startServer(() => undefined);
      const drain = new AbortController();
      const executionId = ulid();
      try {
        const config = loadConfig({
          EPHEMERA_DATA_DIR: dir,
          EPHEMERA_DATASET_URL_ALLOW: '127.0.0.1',
          EPHEMERA_DATASET_URL_ALLOW_HTTP: 'true',
          EPHEMERA_DRAIN_TIMEOUT_MS: '5000',
          // Fetch clocks far past the test's own timeout: only the stop can end this fetch while the test waits.
          EPHEMERA_DATASET_FETCH_TIMEOUT_MS: '3600000',
          EPHEMERA_DATASET_FETCH_IDLE_TIMEOUT_MS: '3600000',
        });
        const running = execute(
          parseExecuteRequest({
            dataset: { url: `http://127.0.0.1:${hung.port}/data.txt`, format: 'txt' },
            sandbox: { tools: ['bash'], scripts: { 'main.sh': 'echo hi' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
          }),
          { ...services, config, executionId, signal: drain.signal },
        );
        running.catch(() => undefined);
        await vi.waitFor(() => expect(hung.requests).toHaveLength(1));
        drain.abort(new Error('drain deadline'));
        await expect(running).rejects.toMatchObject({ code: 'SERVER_DRAINING', retryAfterSeconds: 5 });
        expect(await services.log.readStream(executionId)).toEqual([]);
      } finally {
        await hung.close();
      }
    });
  });

  describe('when the entry script fails once the drain fired', () => {
    it('certifies EXECUTOR_DRAINING: a script that dies while its sandbox is destroyed failed for the drain, not itself', async () => {
      // The drain fires as the script ends (a stand-in for SIGTERM past the deadline, without the destruction).
      const drain = new AbortController();
      const createSandbox: typeof services.createSandbox = async (spec) => {
        const sandbox = await services.createSandbox(spec);
        return {
          description: sandbox.description,
          listFiles: (dir) => sandbox.listFiles(dir),
          readFile: (path, max) => sandbox.readFile(path, max),
          destroy: () => sandbox.destroy(),
          run: async (call, options) => {
            const outcome = await sandbox.run(call, options);
            drain.abort();
            return outcome;
          },
        };
      };
      const { certificate } = await execute(request('x', { 'main.sh': 'exit 3' }), { ...services, createSandbox, signal: drain.signal });
      expect(await verifyCertificate(certificate, services.verifyOptions)).toMatchObject({ valid: true, trusted: true });
      expect(certificate.result).toMatchObject({ error_code: 'EXECUTOR_DRAINING', exit_code: null });
    });
  });

  describe('when the attestor signs something other than the report data', () => {
    it("issues no certificate: the stream ends in execution.aborted naming the verifier's code (fail closed)", async () => {
      const attestor = services.attestor;
      const lying = {
        ...services,
        attestor: {
          kind: attestor.kind,
          describe: () => attestor.describe(),
          attest: async (report: Uint8Array) => attestor.attest(report.map((b, i) => (i === 0 ? b ^ 1 : b))),
          tlogKeySeed: () => attestor.tlogKeySeed(),
        },
      };
      const error = await execute(request('x', { 'main.sh': 'echo hi' }), lying).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'CERTIFICATE_REJECTED', fields: { verifier_code: 'ATTEST_SIGNATURE_INVALID' } });
      const stream = await services.log.readStream((error as { fields: { execution_id: string } }).fields.execution_id);
      expect(stream.map((e) => e.type).slice(-3)).toEqual(['dataset.deleted', 'sandbox.destroyed', 'execution.aborted']);
      expect(stream.at(-1)!.data).toEqual({ reason: 'certificate_rejected', last_seq: stream.length - 2, error_code: 'ATTEST_SIGNATURE_INVALID' });
    });
  });

  describe('when a script prints JSON a strict reader would refuse', () => {
    it.each([
      ['an unpaired surrogate', 'print(\'{"a": "\\\\ud800"}\')'],
      ['a number beyond a double', 'print(\'{"a": 1e400}\')'],
      ['nesting 40 deep', "print('{\"a\":' * 40 + '1' + '}' * 40)"],
    ])('with %s, the run is certified with result.json null and the output kept as text', async (_what, code) => {
      const { certificate } = await execute(request('x', { 'main.py': code }), services);
      expect(certificate).toMatchObject({ status: 'completed', result: { json: null } });
      expect((await verifyCertificate(certificate, services.verifyOptions)).valid).toBe(true);
    });
  });

  describe('when the dataset carries a random canary (THREATS C27)', () => {
    it('finds the canary nowhere on disk and in no event after the run', async () => {
      const canary = `CANARY${randomBytes(16).toString('hex')}`;
      const forms = [canary, Buffer.from(canary).toString('base64'), Buffer.from(canary).toString('hex')];
      const started = Date.now();
      const { certificate } = await execute(
        request(`name,secret\nada,${canary}\n`, { 'main.py': 'import os\nprint(len(open(os.environ["DATASET_PATH"]).read()))\n' }),
        services,
      );
      expect(certificate.status).toBe('completed');
      expect((await verifyCertificate(certificate)).valid).toBe(true);
      expect(JSON.stringify(certificate)).not.toContain(canary);
      for (const form of forms) expect(JSON.stringify(await services.log.readStream(certificate.execution_id))).not.toContain(form);
      expect(filesHolding(forms, [dir, tmpdir(), '/var/tmp', '/dev/shm'], started)).toEqual([]);
    });
  });

  describe('when a script tries to reach a server on the host', () => {
    let server: Server;
    let connections = 0;
    let port = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fails inside the sandbox and the server sees no connection; the same probe outside connects', async () => {
      const probe = `import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=2)\n    print("connected")\nexcept OSError as e:\n    print("blocked", type(e).__name__)\n`;
      const { certificate } = await execute(request('x', { 'main.py': probe }), services);
      expect(certificate.result.output).toMatch(/^blocked/);
      expect(connections).toBe(0);
      const outside = (await run('/usr/bin/python3', ['-c', probe])).stdout;
      expect(outside).toBe('connected\n');
      await expect.poll(() => connections).toBe(1);
    });
  });

  describe('when a script reads a host file', () => {
    it('cannot see it; the same read outside works', async () => {
      const secretFile = join(dir, 'host-secret.txt');
      writeFileSync(secretFile, 'HOST-SECRET-MARKER');
      const probe = `try:\n    print(open(${JSON.stringify(secretFile)}).read())\nexcept OSError as e:\n    print("denied", type(e).__name__)\n`;
      const { certificate } = await execute(request('x', { 'main.py': probe }), services);
      expect(certificate.result.output).toMatch(/^denied/);
      expect(execFileSync('python3', ['-c', probe]).toString()).toContain('HOST-SECRET-MARKER');
    });
  });

  describe('when a script forks background children and overruns its timeout (THREATS B23)', () => {
    it('is killed at the deadline with every descendant, and certified as a timeout', async () => {
      const marker = `ephemera-orphan-${randomBytes(6).toString('hex')}`;
      const script = `trap '' TERM\n(setsid bash -c 'exec -a ${marker} sleep 300' &)\n(bash -c 'exec -a ${marker} sleep 300' &) &\nexec -a ${marker} sleep 300\n`;
      const { certificate } = await execute(request('x', { 'main.sh': script }, 2), services);
      expect(certificate).toMatchObject({ status: 'failed', result: { error_code: 'EXECUTION_TIMEOUT' } });
      expect(certificate.execution_trace.resources.killed_by).toBe('timeout');
      const survivors = execFileSync('ps', ['-eo', 'args'])
        .toString()
        .split('\n')
        .filter((line) => line.includes(marker));
      expect(survivors).toEqual([]);
    });
  });
});
