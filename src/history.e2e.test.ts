/**
 * "Hiding a run from a fingerprint's history is detected" (issue 20), end to end: a real
 * `ephemera serve` child process (simulated TEE, SQLite log, real sandbox) runs the same job three
 * times; once the log has integrated them (polling GET /tlog/checkpoint), `ephemera history` shows
 * three runs linked and agreeing; through a loopback proxy that drops one leaf from the history
 * answer it exits 1 with TLOG_HISTORY_BROKEN, and a proxy that drops the newest run is caught by
 * the holder of that run's certificate. Needs the log's routes (docs/transparency.md §11).
 */
import { runCli, type CliResult } from './cli/testing/run-cli.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSimulatedPublicKey } from './attest/simulated.js';

const ROOT = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-history-e2e-'));
const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
/** The same computation each time: the same dataset and sandbox, so one fingerprint. */
const JOB = {
  dataset: { data: b64('name,n\nada,1\nbob,2\n'), format: 'csv' },
  sandbox: {
    tools: ['python'],
    scripts: { 'main.py': 'import os\nprint(len(open(os.environ["DATASET_PATH"]).readlines()) - 1)\n' },
    environment: { timeout_seconds: 20, max_memory_mb: 128 },
  },
};

let child: ChildProcess;
let url: string;
const proxies: Server[] = [];

beforeAll(async () => {
  const dataDir = join(dir, 'data');
  child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: { ...process.env, EPHEMERA_LOG: 'sqlite', EPHEMERA_TEE: 'simulated', EPHEMERA_TLOG_INTERVAL_MS: '200', XDG_CONFIG_HOME: join(dir, 'config') },
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      log += chunk;
      if (log.includes('ephemera listening on')) resolve();
    });
    child.on('exit', () => reject(new Error(`serve exited: ${log}`)));
  });
  url = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8')).url;
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => new Promise((resolve) => p.close(resolve))));
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI as a reader with its own (empty) data directory and trust file. */
const ephemera = (...args: string[]) => ephemeraIn(join(dir, 'reader'), ...args);

function ephemeraIn(dataDir: string, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--data-dir', dataDir], { env: { ...process.env, XDG_CONFIG_HOME: join(dir, 'reader-config'), EPHEMERA_TRUSTED_KEYS: '' } });
}

/** A loopback proxy to the server that rewrites history answers with `edit` (a log hiding a run). */
async function proxy(edit: (leaves: unknown[]) => unknown[]): Promise<string> {
  const server = createServer(async (req, res) => {
    const upstream = await fetch(`${url}${req.url}`);
    let body = Buffer.from(await upstream.arrayBuffer());
    if (req.url?.startsWith('/tlog/history/') && upstream.ok) {
      const answer = JSON.parse(body.toString('utf8'));
      body = Buffer.from(JSON.stringify({ ...answer, leaves: edit(answer.leaves) }));
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
    res.end(body);
  });
  proxies.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a computation run three times, in the log', () => {
  it('is shown as three linked runs that agree, and a history hiding one of them is refused', { timeout: 180_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(JOB) });
      expect(run.status).toBe(200);
      ids.push(((await run.json()) as { certificate_id: string }).certificate_id);
    }
    const certificate = (await (await fetch(`${url}/certificate/${ids[2]}`)).json()) as { fingerprint: string; transparency?: unknown };
    const { fingerprint } = certificate;
    // Integrated: the checkpoint covers the three leaves (polling the log, as a witness would).
    await until('the checkpoint to cover three leaves', async () => {
      const response = await fetch(`${url}/tlog/checkpoint`);
      return response.ok && Number((await response.text()).split('\n')[1]) >= 3 ? true : null;
    });
    const key = readSimulatedPublicKey(join(dir, 'data'))!;

    const shown = await ephemera('history', fingerprint, '--server', url, '--trust-key', key, '--json', '--audit');
    expect(shown.code, shown.stderr).toBe(0);
    const verdict = JSON.parse(shown.stdout);
    expect(verdict).toMatchObject({ status: 'trusted', results: { verdict: 'agree', compared: 3 }, audit: { indexes: expect.any(Array) } });
    expect(verdict.runs.map((r: { certificate_id: string }) => r.certificate_id)).toEqual([...ids].reverse());
    // On the server's own machine: found through its data directory, whose key is this machine's own.
    const own = await ephemeraIn(join(dir, 'data'), 'history', fingerprint, '--json');
    expect(own.code, own.stderr).toBe(0);
    expect(JSON.parse(own.stdout).log_key_trust).toMatch(/this machine/);
    const text = await ephemera('history', fingerprint, '--server', url, '--trust-key', key);
    expect(text.stdout).toMatch(/VALID, TRUSTED/);
    expect(text.stdout).toMatch(/all 3 clear results agree/);

    // A log that drops the middle run from its answer: the newest run's prev names it, the chain breaks.
    const dropping = await proxy((leaves) => leaves.filter((_, i) => i !== 1));
    const broken = await ephemera('history', fingerprint, '--server', dropping, '--trust-key', key, '--json');
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout).error).toMatchObject({ code: 'TLOG_HISTORY_BROKEN', fields: { break: 'chain' } });

    // A log that drops the newest run: the rest is a consistent chain, but not to whoever holds that run's certificate.
    const transparency =
      certificate.transparency ??
      (await until('the leaf of the newest run', async () =>
        (await fetch(`${url}/tlog/leaves/${ids[2]}`)).ok ? (await fetch(`${url}/tlog/leaves/${ids[2]}`)).json() : null,
      ));
    const certFile = join(dir, 'newest.json');
    writeFileSync(certFile, JSON.stringify({ ...certificate, transparency }));
    const newest = await proxy((leaves) => leaves.slice(1));
    expect((await ephemera('history', fingerprint, '--server', newest, '--trust-key', key)).code).toBe(0);
    const held = await ephemera('history', certFile, '--server', newest, '--trust-key', key, '--json');
    expect(held.code).toBe(1);
    expect(JSON.parse(held.stdout).error).toMatchObject({ code: 'TLOG_HISTORY_BROKEN', fields: { break: 'omits-held' } });
  });
});
