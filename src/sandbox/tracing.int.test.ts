/** File tracing and the network policy, through the real sandbox. */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { createSandbox } from './index.js';
import type { SandboxSpec } from './types.js';
import { hostProcessesOf } from './testing/host-processes.js';

const spec = (networkAllow: string[] = []): SandboxSpec => ({
  executionId: ulid(),
  dataset: new TextEncoder().encode('a\nb\n'),
  datasetFile: 'dataset.txt',
  scripts: [],
  limits: { timeoutMs: 10_000, memoryMb: 128, maxProcesses: 64, cpuSeconds: 10, workBytes: 8 << 20, outBytes: 1 << 20, outputBytes: 1 << 16, maxOpenFiles: 64 },
  networkAllow,
});
const text = (b: Uint8Array) => Buffer.from(b).toString();

describe('file tracing', () => {
  describe('when a call reads, writes, executes and deletes files', () => {
    it('reports each (op, path) with its count, leaving system reads out', async () => {
      const sandbox = await createSandbox(spec());
      const outcome = await sandbox.run({
        kind: 'bash',
        command: 'cat /data/dataset.txt > /work/copy; cat /data/dataset.txt >/dev/null; rm /work/copy; cat /etc/shadow 2>/dev/null; true',
      });
      await sandbox.destroy();
      expect(outcome.files).toEqual(
        expect.arrayContaining([
          { op: 'read', path: '/data/dataset.txt', count: 2 },
          { op: 'write', path: '/work/copy', count: 1 },
          { op: 'delete', path: '/work/copy', count: 1 },
          { op: 'exec', path: '/usr/bin/cat', count: 3 },
          { op: 'read', path: '/etc/shadow', count: 1 },
        ]),
      );
      expect(outcome.files.some((f) => f.path.startsWith('/usr/lib'))).toBe(false);
    });
  });

  describe('when a call runs processes side by side', () => {
    it('counts every one of them (interleaved, unfinished trace lines included)', async () => {
      const sandbox = await createSandbox(spec());
      const outcome = await sandbox.run({ kind: 'bash', command: 'for i in 1 2 3 4 5 6; do cat /data/dataset.txt > /dev/null & done; wait' });
      await sandbox.destroy();
      expect(outcome.files).toEqual(
        expect.arrayContaining([
          { op: 'read', path: '/data/dataset.txt', count: 6 },
          { op: 'exec', path: '/usr/bin/cat', count: 6 },
        ]),
      );
    });
  });

  describe('when one sandbox runs several calls', () => {
    it("gives each call only its own activity, never the supervisor's", async () => {
      const sandbox = await createSandbox(spec());
      const first = await sandbox.run({ kind: 'bash', command: 'echo 1 > /work/first' });
      const second = await sandbox.run({ kind: 'python', code: 'open("/work/second", "w").write("2")' });
      await sandbox.destroy();
      expect(first.files).toContainEqual({ op: 'write', path: '/work/first', count: 1 });
      expect(second.files).toContainEqual({ op: 'write', path: '/work/second', count: 1 });
      expect(second.files.map((f) => f.path)).not.toContain('/work/first');
      // The supervisor writes each call's code under /run/ephemera and lists /proc to kill leftovers.
      expect([...first.files, ...second.files].filter((f) => f.path === '/proc' || f.path.startsWith('/run/ephemera/call-'))).toEqual([]);
    });
  });

  describe('when a call looks for the tracer or its output', () => {
    it('finds neither (the tracer is outside its pid namespace, the trace on the host) and is traced all the same', async () => {
      const sandbox = await createSandbox(spec());
      const look =
        'import os\nstatus = open("/proc/self/status").read()\nprint(status.split("TracerPid:")[1].split()[0])\n' +
        'print(sorted(open("/proc/%s/comm" % p).read().strip() for p in os.listdir("/proc") if p.isdigit()))\n' +
        'print(sorted(f for f in os.listdir("/run/ephemera") if not f.startswith("call-")))\nopen("/data/dataset.txt").read()';
      const outcome = await sandbox.run({ kind: 'python', code: look });
      await sandbox.destroy();
      expect(text(outcome.stdout)).toBe("0\n['python3', 'python3']\n['supervisor.py']\n");
      expect(outcome.files).toContainEqual({ op: 'read', path: '/data/dataset.txt', count: 1 });
    });
  });

  describe('when a call forges markers and trace lines', () => {
    it('cannot end its own trace early or invent activity: markers count only from the supervisor, strace escapes newlines', async () => {
      const sandbox = await createSandbox(spec());
      const forge =
        'import os\nfor p in ["/run/ephemera/mark/end-1", "/run/ephemera/mark/begin-9", "x\\n1 openat(AT_FDCWD, \\"/forged\\", O_RDONLY) = 3"]:\n' +
        '    try: os.open(p, os.O_RDONLY)\n    except OSError: pass\nopen("/data/dataset.txt").read()';
      const outcome = await sandbox.run({ kind: 'python', code: forge });
      const next = await sandbox.run({ kind: 'bash', command: 'cat /data/dataset.txt' });
      await sandbox.destroy();
      expect(outcome.exitCode).toBe(0);
      expect(outcome.files).toContainEqual({ op: 'read', path: '/data/dataset.txt', count: 1 });
      expect(outcome.files.map((f) => f.path)).not.toContain('/forged');
      expect(next.files).toContainEqual({ op: 'read', path: '/data/dataset.txt', count: 1 });
    });
  });

  describe('when the tracer dies', () => {
    it('ends the whole sandbox (fail closed): every later call is sandbox_lost, nothing is left', async () => {
      const s = spec();
      const sandbox = await createSandbox(s);
      const tracer = hostProcessesOf(s.executionId).find((p) => p.comm === 'strace');
      expect(tracer).toBeDefined();
      process.kill(tracer!.pid, 'SIGKILL');
      const after = await sandbox.run({ kind: 'bash', command: 'echo untraced' });
      const report = await sandbox.destroy();
      expect(after).toMatchObject({ killedBy: 'sandbox_lost', exitCode: null });
      expect(text(after.stdout)).toBe('');
      expect(report.processesRemaining).toBe(0);
    });
  });
});

describe('network policy', () => {
  let server: Server;
  let port = 0;
  let received = '';
  beforeAll(async () => {
    server = createServer((s) =>
      s.on('data', (d) => {
        received += d.toString();
        s.end('pong');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const viaProxy = (target: string) => `import os, socket, urllib.parse
proxy = urllib.parse.urlparse(os.environ.get("HTTPS_PROXY", "http://127.0.0.1:3128"))
try:
    s = socket.create_connection((proxy.hostname, proxy.port), timeout=3)
    s.sendall(b"CONNECT ${target} HTTP/1.1\\r\\nHost: ${target}\\r\\n\\r\\n")
    status = s.recv(1024).split(b"\\r\\n")[0].decode()
    print(status)
    if " 200 " in status:
        s.sendall(b"ping")
        print(s.recv(16).decode())
except OSError as e:
    print("no way out", type(e).__name__)
`;

  describe('when the request allows no host (the default)', () => {
    it('has no proxy and no route anywhere', async () => {
      const sandbox = await createSandbox(spec());
      const outcome = await sandbox.run({ kind: 'python', code: viaProxy(`127.0.0.1:${port}`) });
      await sandbox.destroy();
      expect(text(outcome.stdout)).toMatch(/^no way out/);
      expect(outcome.network).toEqual([]);
      expect(received).toBe('');
    });
  });

  describe('when the request allows one host:port', () => {
    it('lets that one through the proxy, denies others, and records both with bytes', async () => {
      const sandbox = await createSandbox(spec([`127.0.0.1:${port}`]));
      const allowed = await sandbox.run({ kind: 'python', code: viaProxy(`127.0.0.1:${port}`) });
      const denied = await sandbox.run({ kind: 'python', code: viaProxy('127.0.0.1:1') });
      const direct = await sandbox.run({
        kind: 'python',
        code: `import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=2); print("direct")\nexcept OSError as e:\n    print("blocked", type(e).__name__)\n`,
      });
      await sandbox.destroy();
      expect(text(allowed.stdout)).toBe('HTTP/1.1 200 Connection Established\npong\n');
      expect(allowed.network).toEqual([{ host: '127.0.0.1', port, allowed: true, bytes_out: 4, bytes_in: 4 }]);
      expect(received).toBe('ping');
      expect(text(denied.stdout)).toBe('HTTP/1.1 403 Forbidden\n');
      expect(denied.network).toEqual([{ host: '127.0.0.1', port: 1, allowed: false, bytes_out: 0, bytes_in: 0 }]);
      expect(text(direct.stdout)).toMatch(/^blocked/);
      expect(direct.network).toEqual([]);
    });
  });
});
