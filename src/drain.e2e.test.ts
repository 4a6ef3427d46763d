/**
 * Graceful drain of a real `ephemera serve` child process (real bubblewrap,
 * SQLite log): on SIGTERM it admits nothing more (503 SERVER_DRAINING with
 * Retry-After, /ready 503), lets a run in flight finish within
 * EPHEMERA_DRAIN_TIMEOUT_MS, and stops one that does not as a certified
 * EXECUTOR_DRAINING failure whose certificate verifies and proves the dataset
 * deleted and the sandbox destroyed; then exits 0, leaving no bubblewrap
 * process and nothing of the run in its temporary directory. With
 * EPHEMERA_DRAIN_GRACE_MS it keeps listening that long, each answer closing
 * its connection, so a load balancer sees /ready fail before connections are
 * refused.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { createServices } from './services.js';
import { verifyCertificate } from './verify/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const b64 = (text: string) => `base64:${Buffer.from(text).toString('base64')}`;
const sleeping = (seconds: number) => ({
  dataset: { data: b64('a,b\n1,2\n'), format: 'csv' },
  sandbox: {
    tools: ['python'],
    scripts: { 'main.py': `import time\ntime.sleep(${seconds})\nprint("slept")\n` },
    environment: { timeout_seconds: 60, max_memory_mb: 128 },
  },
});

/** Every live process below `root` (from /proc: the parent of each). */
function descendants(root: number): { pid: number; comm: string }[] {
  const parentOf = new Map<number, { ppid: number; comm: string }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const [state, ppid] = stat.slice(close + 2).split(' ');
      if (state !== 'Z') parentOf.set(Number(entry), { ppid: Number(ppid), comm: stat.slice(stat.indexOf('(') + 1, close) });
    } catch {
      // gone
    }
  }
  const below = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid }] of parentOf) if (below.has(ppid) && !below.has(pid)) grew = below.add(pid) !== undefined;
  }
  below.delete(root);
  return [...below].map((pid) => ({ pid, comm: parentOf.get(pid)!.comm }));
}

const alive = (pid: number) => {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Served {
  child: ChildProcess;
  url: string;
  dataDir: string;
  tmp: string;
  exited: Promise<number | null>;
  log: () => string;
}

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

async function serve(drainTimeoutMs: number, env: Record<string, string> = {}): Promise<Served> {
  const root = mkdtempSync(join(tmpdir(), 'ephemera-drain-'));
  roots.push(root);
  const dataDir = join(root, 'data');
  // The child's own temporary directory: whatever a run leaves there is seen.
  // World-writable and sticky like /tmp: the sandbox's tracer runs as nobody and makes its FIFO there.
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  chmodSync(root, 0o755);
  chmodSync(tmp, 0o1777);
  const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TMPDIR: tmp,
      EPHEMERA_DRAIN_TIMEOUT_MS: String(drainTimeoutMs),
      EPHEMERA_LOG: 'sqlite',
      XDG_CONFIG_HOME: join(root, 'config'),
      ...env,
    },
  });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      log += chunk;
      if (log.includes('ephemera listening on')) resolve();
    });
    child.on('exit', () => reject(new Error(`serve exited: ${log}`)));
  });
  const { url } = JSON.parse(readFileSync(join(dataDir, 'serve.json'), 'utf8'));
  return { child, url, dataDir, tmp, exited, log: () => log };
}

/** bubblewrap and a python under the server: the run's script (a python before bwrap is the runtime probe). */
const sandboxRunning = (pid: number) => {
  const names = descendants(pid).map((p) => p.comm);
  return names.includes('bwrap') && names.some((name) => /python/.test(name));
};

const post = (url: string, body: unknown) =>
  fetch(`${url}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The run's files in the child's temporary directory (the tracer's FIFO, the network proxy's socket). */
const runLeftovers = (tmp: string) => (existsSync(tmp) ? readdirSync(tmp).filter((name) => name.startsWith('ephemera-')) : []);

describe('ephemera serve on SIGTERM', () => {
  it('stops a run still going at the drain deadline: the caller gets a certified EXECUTOR_DRAINING failure, and nothing of the run remains', async () => {
    const server = await serve(1000);
    try {
      const answer = post(server.url, sleeping(30));
      answer.catch(() => undefined); // awaited below; a failure before that must not also surface as an unhandled rejection
      await until('the script to run in its sandbox', () => sandboxRunning(server.child.pid!));
      const sandboxProcesses = descendants(server.child.pid!);
      expect(sandboxProcesses.map((p) => p.comm)).toContain('bwrap');
      // The run has files in the child's temporary directory (so their absence afterwards means something).
      expect(runLeftovers(server.tmp).length).toBeGreaterThan(0);

      server.child.kill('SIGTERM');
      const response = await answer;
      expect(response.status).toBe(200);
      const summary = await response.json();
      expect(summary).toMatchObject({
        status: 'failed',
        result: { error_code: 'EXECUTOR_DRAINING', exit_code: null },
        lifecycle: { dataset_deleted: true, sandbox_destroyed: true },
      });

      // Stopped, not slept out: the certificate says EXECUTOR_DRAINING (above) and the script's call was cut (below).
      expect(await server.exited).toBe(0);
      expect(server.log()).toContain('stopped 1 run(s) at the drain deadline');
      expect(sandboxProcesses.filter((p) => alive(p.pid))).toEqual([]);
      expect(runLeftovers(server.tmp)).toEqual([]);

      // The certificate, read from the stopped server's log, verifies and says the run was stopped, deleted and destroyed.
      const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: server.dataDir }));
      try {
        const certificate = await services.certificates.get(summary.certificate_id);
        expect(certificate).not.toBeNull();
        expect(await verifyCertificate(certificate!, services.verifyOptions)).toMatchObject({ valid: true, trusted: true });
        expect(certificate!.result.error_code).toBe('EXECUTOR_DRAINING');
        const types = certificate!.events.map((e) => e.type);
        expect(types.slice(-4)).toEqual(['execution.failed', 'dataset.deleted', 'sandbox.destroyed', 'certificate.sealed']);
        // The script was running: its call is closed, killed with the sandbox.
        expect(certificate!.events.find((e) => e.type === 'tool.completed')?.data).toMatchObject({ killed_by: 'sandbox_lost' });
      } finally {
        await services.close();
      }
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });

  it('lets a short run in flight finish, and refuses a request arriving during the drain with 503 SERVER_DRAINING and Retry-After', async () => {
    const server = await serve(30_000);
    try {
      const answer = post(server.url, sleeping(3));
      answer.catch(() => undefined); // awaited below; a failure before that must not also surface as an unhandled rejection
      await until('the script to run in its sandbox', () => sandboxRunning(server.child.pid!));
      server.child.kill('SIGTERM');
      // The drain began: new requests are refused, /ready tells the proxy.
      await until('the drain to begin', async () => (await fetch(`${server.url}/ready`)).status === 503);
      const ready = await (await fetch(`${server.url}/ready`)).json();
      expect(ready).toMatchObject({ status: 'draining', capacity: { draining: true, runs_in_flight: 1 } });
      const refused = await post(server.url, sleeping(0));
      expect(refused.status).toBe(503);
      expect((await refused.json()).error.code).toBe('SERVER_DRAINING');
      expect(refused.headers.get('retry-after')).toBe('30');

      const response = await answer;
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'completed', result: { output: 'slept\n', error_code: null } });
      expect(await server.exited).toBe(0);
      expect(server.log()).not.toContain('stopped');
      expect(runLeftovers(server.tmp)).toEqual([]);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });

  it('keeps listening for EPHEMERA_DRAIN_GRACE_MS with nothing in flight, closing the connection after each answer, then exits 0', async () => {
    const server = await serve(30_000, { EPHEMERA_DRAIN_GRACE_MS: '4000' });
    try {
      server.child.kill('SIGTERM');
      await until('the drain to begin', async () => (await fetch(`${server.url}/ready`)).status === 503);
      // Well inside the grace: without it, a server with no run in flight closes its listener at once.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(server.child.exitCode).toBeNull();
      const ready = await fetch(`${server.url}/ready`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('connection')).toBe('close');
      const refused = await post(server.url, sleeping(0));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('connection')).toBe('close');
      expect((await refused.json()).error.code).toBe('SERVER_DRAINING');
      expect(await server.exited).toBe(0);
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    }
  });
});
