/**
 * The escape battery (THREATS A–C): each attack runs for real inside a fresh
 * sandbox and checks that its side effect did not happen; where it is safe,
 * the same probe runs on the host too, to show the probe itself works (the
 * differential). Shared by the tests and `npm run security-report`.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ulid } from 'ulid';
import { createSandbox } from '../../src/sandbox/bwrap-sandbox.js';
import { assertSandboxSupported } from '../../src/sandbox/runtime.js';
import type { Sandbox, SandboxLimits } from '../../src/sandbox/types.js';
import { PROBES, type ProbeContext } from './probes.js';
import { sqlEngineTampering, sqlLoadsExtension, sqlReadsHostFiles, sqlWritesFiles, type SqlAttack } from './sql-attacks.js';

const run = promisify(execFile);

export interface Attack {
  threat: string;
  name: string;
  how: string;
  /** A probe program run inside (and outside when `outside` is true), or a custom check that returns a detail when contained. */
  probe?: keyof typeof PROBES;
  outside?: true | string;
  limits?: Partial<SandboxLimits>;
  custom?: (ctx: BatteryContext) => Promise<string>;
}

export interface AttackResult {
  threat: string;
  name: string;
  contained: boolean;
  how: string;
  differential: string;
  detail: string;
}

export interface BatteryContext extends ProbeContext {
  connections: { tcp: number; udp: number; tcp6: number; abstract: number; run: number };
  sandbox(limits?: Partial<SandboxLimits>): Promise<Sandbox>;
  sqlSandbox(): Promise<Sandbox>;
}

export const LIMITS: SandboxLimits = {
  timeoutMs: 10_000,
  memoryMb: 96,
  maxProcesses: 64,
  cpuSeconds: 10,
  workBytes: 16 << 20,
  outBytes: 1 << 20,
  outputBytes: 1 << 16,
  maxOpenFiles: 64,
};
const text = (b: Uint8Array) => Buffer.from(b).toString().trim();

export const ATTACKS: readonly Attack[] = [
  {
    threat: 'A1',
    name: 'open the controlling terminal',
    how: '--new-session, stdin /dev/null, no pty',
    probe: 'tty',
    outside: 'the test runner has no terminal either',
  },
  { threat: 'A1', name: 'TIOCSTI keystroke injection', how: '--new-session, stdin is /dev/null', probe: 'tiocsti', outside: 'needs a terminal on the host' },
  {
    threat: 'A2',
    name: 'use a file descriptor inherited from the executor',
    how: 'only 0, 1, 2 are passed; the supervisor closes the rest',
    probe: 'fds',
    outside: true,
  },
  { threat: 'A3', name: 'see a host process in /proc', how: 'pid namespace with its own /proc', probe: 'hostPid', outside: true },
  { threat: 'A3', name: "enumerate the host's processes", how: 'pid namespace', probe: 'processCount', outside: true },
  { threat: 'A3', name: 'read /sys', how: '/sys is not mounted', probe: 'sys', outside: true },
  { threat: 'A3', name: 'write /proc/sys', how: 'unprivileged user namespace: /proc/sys read-only to it', probe: 'procSys', outside: true },
  { threat: 'A4', name: 'read credentials from the environment', how: '--clearenv and an allow-listed environment', probe: 'secretsInEnv', outside: true },
  { threat: 'A5', name: 'follow a symlink to a host file', how: 'the host file system is not in the mount namespace', probe: 'symlink', outside: true },
  {
    threat: 'A5',
    name: 'hard-link a host binary into the writable tmpfs',
    how: 'tmpfs and the read-only /usr bind are different mounts',
    probe: 'hardlink',
    outside: true,
  },
  { threat: 'A5', name: 'reach the host root through /proc/1/root', how: "pid 1 is the sandbox's own supervisor", probe: 'procRoot', outside: true },
  { threat: 'A7', name: 'TCP to a service on the host', how: 'empty network namespace: loopback only', probe: 'tcp', outside: true },
  { threat: 'A7', name: 'UDP to a service on the host', how: 'empty network namespace', probe: 'udp', outside: true },
  { threat: 'A7', name: 'TCP over IPv6 to the host', how: 'empty network namespace', probe: 'tcp6', outside: true },
  {
    threat: 'A7',
    name: 'reach the cloud metadata address',
    how: 'no route out of the namespace',
    probe: 'metadata',
    outside: 'never sent from the host: that address is off limits',
  },
  { threat: 'A7', name: 'open a raw ICMP socket', how: 'no capabilities', probe: 'rawIcmp', outside: true },
  { threat: 'A8', name: 'find a DNS resolver', how: 'no /etc/resolv.conf (/etc holds only the loader cache), no network', probe: 'dns', outside: true },
  {
    threat: 'A9',
    name: 'connect to an abstract unix socket on the host',
    how: 'network namespace has its own abstract socket space',
    probe: 'abstractSocket',
    outside: true,
  },
  {
    threat: 'A9',
    name: "connect to a unix socket under the host's /run (dstack, docker, systemd)",
    how: '/run inside is a fresh tmpfs',
    probe: 'hostRunSocket',
    outside: true,
  },
  { threat: 'A10', name: 'reach the event log, the TEE key or the projections on disk', how: 'the data dir is not mounted', probe: 'dataDir', outside: true },
  { threat: 'A12', name: 'gain privileges through setuid binaries', how: 'PR_SET_NO_NEW_PRIVS', probe: 'newPrivs', outside: true },
  { threat: 'A12', name: 'hold any capability', how: '--cap-drop ALL, unprivileged uid', probe: 'capabilities', outside: true },
  { threat: 'A12', name: 'become root with setuid(0)', how: 'uid 65534 in a user namespace, no capabilities', probe: 'setuid', outside: true },
  { threat: 'A12', name: 'create a nested user namespace', how: '--disable-userns', probe: 'userns', outside: true },
  { threat: 'A12', name: 'load a BPF map', how: 'no capabilities; seccomp: bpf is EPERM', probe: 'bpf', outside: true },
  {
    threat: 'A12',
    name: 'ptrace another process of the sandbox',
    how: 'seccomp: ptrace is EPERM for every tool process',
    probe: 'ptraceSibling',
    outside: true,
  },
  {
    threat: 'A12',
    name: "read another process's memory (process_vm_readv)",
    how: 'seccomp: process_vm_readv/writev are EPERM',
    probe: 'processVmRead',
    outside: true,
  },
  { threat: 'A12', name: "copy another process's file descriptor (pidfd_getfd)", how: 'seccomp: pidfd_getfd is EPERM', probe: 'pidfdGetfd', outside: true },
  {
    threat: 'A10',
    name: "forge a call's outcome on the executor's channel (pidfd_getfd, /proc/1/fd)",
    how: 'the supervisor is pid 1 and not dumpable; seccomp',
    custom: forgedOutcome,
  },
  {
    threat: 'A12',
    name: 'do file I/O through io_uring, unseen by the tracer',
    how: 'seccomp: io_uring_setup/enter/register are EPERM',
    probe: 'ioUring',
    outside: true,
  },
  {
    threat: 'A12',
    name: 'ptrace a host process',
    how: 'pid namespace: the host process does not exist inside',
    probe: 'ptraceHost',
    outside: 'would stop the test runner',
  },
  { threat: 'A13', name: 'overwrite the interpreter', how: '/usr bound read-only', probe: 'interpreterWritable', outside: true },
  { threat: 'A13', name: 'hijack the loader or interpreter path', how: 'fixed PATH; LD_*, PYTHONPATH never set', probe: 'loaderHijack', outside: true },
  { threat: 'B21', name: 'exhaust file descriptors', how: 'RLIMIT_NOFILE per call', probe: 'fdExhaustion', outside: true },
  { threat: 'C25', name: 'leave a core dump', how: 'RLIMIT_CORE 0', probe: 'coreDumps', outside: "the host limit is the host's business" },
  { threat: 'B18', name: 'fork bomb', how: 'cgroup pids.max', probe: 'forkBomb', outside: 'unsafe on the host' },
  { threat: 'B20', name: 'fill the writable tmpfs', how: 'tmpfs size cap: ENOSPC', probe: 'tmpfsFill', outside: 'unsafe on the host' },
  { threat: 'A6', name: 'return a symlink, FIFO or device as output', how: 'reads are no-follow, regular files only', custom: hostileOutputs },
  { threat: 'A6', name: 'return a sparse giant file', how: 'reads are byte-capped', custom: sparseGiant },
  { threat: 'A11', name: "see another run's files or processes", how: 'one set of namespaces and tmpfs per run', custom: crossRun },
  { threat: 'A13', name: 'leave a background process for the next call', how: 'every process of a call dies when it ends', custom: leftovers },
  { threat: 'A16', name: 'weaken the sandbox through request fields', how: 'strict request schema: unknown fields rejected', custom: weakeningFields },
  { threat: 'A17', name: 'run without bubblewrap', how: 'refuses to start: never unsandboxed', custom: noBwrap },
  { threat: 'B19', name: 'memory bomb', how: 'cgroup memory limit, OOM kill recorded', limits: { memoryMb: 48 }, custom: memoryBomb },
  { threat: 'B22', name: 'flood stdout', how: 'per-stream capture cap, call killed past 16x', custom: outputFlood },
  {
    threat: 'B23',
    name: 'outlive the deadline (setsid, double fork, SIGTERM trap)',
    how: 'every process of the call is killed at the deadline',
    custom: escapingDescendants,
  },
  { threat: 'B24', name: 'survive the executor being killed (SIGKILL)', how: '--die-with-parent and the pid namespace', custom: executorKilled },
  {
    threat: 'K68',
    name: 'read a host or dataset file through SQL (readfile, ATTACH, a file: URI)',
    how: 'the sql engine: an allow-list authorizer, no attached databases, no file functions',
    custom: withSql(sqlReadsHostFiles),
  },
  {
    threat: 'K69',
    name: 'write a file through SQL, in the working space and outside it (VACUUM INTO, ATTACH, writefile)',
    how: 'the sql engine: first-word check, authorizer, query_only, temp_store memory',
    custom: withSql(sqlWritesFiles),
  },
  { threat: 'K70', name: 'load an SQLite extension', how: 'no extension loading in the build; load_extension() refused', custom: withSql(sqlLoadsExtension) },
  {
    threat: 'K71',
    name: "replace the sql command, take the engine's socket, or read the engine's memory",
    how: 'files on the read-only root, an abstract socket bound first, a non-dumpable engine',
    custom: withSql(sqlEngineTampering),
  },
];

/** An attack on the sql tool, in a sandbox that offers it. */
function withSql(attack: SqlAttack): (ctx: BatteryContext) => Promise<string> {
  return async (ctx) => {
    const sandbox = await ctx.sqlSandbox();
    try {
      return await attack(sandbox);
    } finally {
      await sandbox.destroy();
    }
  };
}

async function inside(ctx: BatteryContext, code: string, limits?: Partial<SandboxLimits>) {
  const sandbox = await ctx.sandbox(limits);
  try {
    return await sandbox.run({ kind: 'python', code });
  } finally {
    await sandbox.destroy();
  }
}

/** A call that outlives its deadline tries to report, on the supervisor's channel, that it exited 0 at once. */
async function forgedOutcome(ctx: BatteryContext): Promise<string> {
  const sandbox = await ctx.sandbox();
  try {
    const forge = `import os, json, base64, ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
lie = (json.dumps({"id": 2, "ok": True, "exit_code": 0, "killed_by": None, "stdout": base64.b64encode(b"FORGED").decode(), "stderr": "", "stdout_bytes": 6, "stderr_bytes": 0, "truncated": False, "duration_ms": 1, "cpu_ms": 0, "max_rss_kb": 0}) + "\\n").encode()
for pid in [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    for n in (0, 1, 2):
        fd = -1
        try:
            fd = os.open("/proc/%d/fd/%d" % (pid, n), os.O_WRONLY)
        except OSError:
            try:
                fd = libc.syscall(438, os.pidfd_open(pid), n, 0)
            except OSError:
                pass
        if fd >= 0:
            try:
                os.write(fd, lie)
            except OSError:
                pass
time.sleep(3)`;
    const outcome = await sandbox.run({ kind: 'python', code: forge }, { timeoutMs: 1000 });
    if (text(outcome.stdout).includes('FORGED') || outcome.killedBy !== 'timeout')
      throw new Error(`the executor took a forged outcome (${outcome.killedBy}, ${outcome.exitCode})`);
    return 'killed_by timeout recorded; no fd of the channel reachable';
  } finally {
    await sandbox.destroy();
  }
}

async function hostileOutputs(ctx: BatteryContext): Promise<string> {
  const sandbox = await ctx.sandbox();
  try {
    await sandbox.run({ kind: 'bash', command: `ln -s ${ctx.secretFile} /work/link; mkfifo /work/fifo; ln -s /dev/zero /work/zero` });
    const refused: string[] = [];
    for (const path of ['/work/link', '/work/fifo', '/work/zero', '/dev/zero']) {
      await sandbox.readFile(path, 1024).then(
        () => undefined,
        () => refused.push(path),
      );
    }
    if (refused.length !== 4) throw new Error(`read ${4 - refused.length} hostile outputs`);
    return 'symlink, FIFO and devices refused';
  } finally {
    await sandbox.destroy();
  }
}

async function sparseGiant(ctx: BatteryContext): Promise<string> {
  const sandbox = await ctx.sandbox();
  try {
    await sandbox.run({ kind: 'bash', command: 'truncate -s 10G /work/giant' });
    const { content, truncated } = await sandbox.readFile('/work/giant', 4096);
    if (content.length !== 4096 || !truncated) throw new Error('read past the cap');
    return '10 GiB sparse file read as 4 KiB, marked truncated';
  } finally {
    await sandbox.destroy();
  }
}

async function crossRun(ctx: BatteryContext): Promise<string> {
  const [a, b] = await Promise.all([ctx.sandbox(), ctx.sandbox()]);
  try {
    const marker = `other-run-${randomBytes(4).toString('hex')}`;
    await a.run({ kind: 'bash', command: `echo ${marker} > /work/${marker}; (exec -a ${marker} sleep 5 &) ; true` });
    const seen = text((await b.run({ kind: 'bash', command: 'ls /work /tmp; ps -eo args' })).stdout);
    if (seen.includes(marker)) throw new Error('saw the other run');
    return 'neither files nor processes visible';
  } finally {
    await Promise.all([a.destroy(), b.destroy()]);
  }
}

async function leftovers(ctx: BatteryContext): Promise<string> {
  const sandbox = await ctx.sandbox();
  try {
    await sandbox.run({ kind: 'bash', command: 'nohup setsid sleep 60 >/dev/null 2>&1 & disown; true' });
    const count = text((await sandbox.run({ kind: 'bash', command: 'ps -eo comm= | grep -c "^sleep$" || true' })).stdout);
    if (count !== '0') throw new Error(`${count} left over`);
    return 'next call saw no process of the previous one';
  } finally {
    await sandbox.destroy();
  }
}

async function weakeningFields(): Promise<string> {
  const { parseExecuteRequest } = await import('../../src/commands/execute/request.js');
  const base = {
    dataset: { data: 'base64:', format: 'txt' },
    sandbox: { tools: ['bash'], scripts: { 'a.sh': 'true' }, environment: { timeout_seconds: 1, max_memory_mb: 16 } },
  };
  const tries = [{ privileged: true }, { binds: ['/:/host'] }, { env: { LD_PRELOAD: '/x.so' } }, { seccomp: false }, { network: 'host' }];
  for (const extra of tries) {
    try {
      parseExecuteRequest({ ...base, sandbox: { ...base.sandbox, ...extra } });
      throw new Error(`accepted ${Object.keys(extra)[0]}`);
    } catch (error) {
      if ((error as { code?: string }).code !== 'REQUEST_INVALID') throw error;
    }
  }
  return `${tries.length} fields rejected with REQUEST_INVALID`;
}

async function noBwrap(): Promise<string> {
  try {
    assertSandboxSupported('/nonexistent/bwrap');
  } catch (error) {
    if ((error as { code?: string }).code === 'SANDBOX_BWRAP_MISSING') return 'SANDBOX_BWRAP_MISSING';
    throw error;
  }
  throw new Error('ran without bubblewrap');
}

async function memoryBomb(ctx: BatteryContext): Promise<string> {
  const outcome = await inside(ctx, 'x = bytearray(1 << 30)\nprint(len(x))', { memoryMb: 48 });
  if (outcome.killedBy !== 'memory') throw new Error(`not killed for memory (${outcome.killedBy})`);
  return 'killed_by memory';
}

async function outputFlood(ctx: BatteryContext): Promise<string> {
  const sandbox = await ctx.sandbox();
  try {
    const outcome = await sandbox.run({ kind: 'bash', command: 'yes "$(head -c 4096 /dev/zero | tr "\\0" x)"' });
    if (outcome.killedBy !== 'output_limit' || outcome.stdout.length > LIMITS.outputBytes) throw new Error('flood not capped');
    return `killed_by output_limit, ${outcome.stdout.length} bytes kept of ${outcome.stdoutBytes}`;
  } finally {
    await sandbox.destroy();
  }
}

async function escapingDescendants(ctx: BatteryContext): Promise<string> {
  const marker = `ephemera-escapee-${randomBytes(4).toString('hex')}`;
  const sandbox = await ctx.sandbox();
  try {
    const outcome = await sandbox.run(
      {
        kind: 'bash',
        command: `trap "" TERM; (setsid bash -c 'exec -a ${marker} sleep 300' &); (bash -c '(exec -a ${marker} sleep 300 &)' &); exec -a ${marker} sleep 300`,
      },
      { timeoutMs: 1000 },
    );
    if (outcome.killedBy !== 'timeout') throw new Error('not killed at the deadline');
  } finally {
    await sandbox.destroy();
  }
  const { stdout } = await run('ps', ['-eo', 'args']);
  if (stdout.includes(marker)) throw new Error('a descendant survived');
  return 'killed_by timeout; no descendant left on the host';
}

async function executorKilled(): Promise<string> {
  const marker = `ephemera-orphan-${randomBytes(4).toString('hex')}`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'orphan-child.ts'), marker], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', () => reject(new Error('the child exited early')));
  });
  if (!(await run('ps', ['-eo', 'args'])).stdout.includes(marker)) throw new Error('the probe did not start');
  child.kill('SIGKILL');
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!(await run('ps', ['-eo', 'args'])).stdout.includes(marker)) return 'the sandbox died with its executor';
  }
  throw new Error('the sandbox outlived its executor');
}

/** Starts the host-side targets, runs every attack, and tears everything down. */
export async function runBattery(attacks: readonly Attack[] = ATTACKS): Promise<AttackResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-battery-'));
  const secretFile = join(dir, 'host-secret.txt');
  writeFileSync(secretFile, 'HOST SECRET');
  const connections = { tcp: 0, udp: 0, tcp6: 0, abstract: 0, run: 0 };
  const listen = async (server: Server, ...args: unknown[]) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      (server.listen as (...a: unknown[]) => void)(...args, resolve);
    });
  const tcp = createServer((s) => {
    connections.tcp += 1;
    s.destroy();
  });
  await listen(tcp, 0, '127.0.0.1');
  let tcp6: Server | null = createServer((s) => {
    connections.tcp6 += 1;
    s.destroy();
  });
  await listen(tcp6, 0, '::1').catch(() => (tcp6 = null));
  const udp = createSocket('udp4');
  udp.on('message', (msg, from) => {
    connections.udp += 1;
    udp.send(msg, from.port, from.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const abstractName = `ephemera-battery-${randomBytes(4).toString('hex')}`;
  // Node cannot bind an abstract socket by name (libuv stops at the NUL), so a tiny Python listener does.
  const abstract = spawn(
    '/usr/bin/python3',
    [
      '-c',
      `import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.bind("\\0${abstractName}")\ns.listen(8)\nprint("ready", flush=True)\nwhile True:\n    c, _ = s.accept(); print("conn", flush=True); c.close()\n`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) =>
    abstract.stdout!.on('data', (d: Buffer) => {
      connections.abstract += (d.toString().match(/conn/g) ?? []).length;
      if (d.toString().includes('ready')) resolve();
    }),
  );
  const runSocket = `/run/ephemera-battery-${randomBytes(4).toString('hex')}.sock`;
  const runServer = createServer((s) => {
    connections.run += 1;
    s.destroy();
  });
  await listen(runServer, runSocket);
  const ctx: BatteryContext = {
    hostPid: process.pid,
    tcpPort: (tcp.address() as { port: number }).port,
    udpPort: udp.address().port,
    tcp6Port: tcp6 ? ((tcp6 as Server).address() as { port: number }).port : null,
    abstractName,
    secretFile,
    secretDir: dir,
    runSocket,
    dataDir: dir,
    maxOpenFiles: LIMITS.maxOpenFiles,
    connections,
    sandbox: (limits) =>
      createSandbox({
        executionId: ulid(),
        dataset: new TextEncoder().encode('x'),
        datasetFile: 'dataset.txt',
        scripts: [],
        limits: { ...LIMITS, ...limits },
        networkAllow: [],
      }),
    sqlSandbox: () =>
      createSandbox({
        executionId: ulid(),
        dataset: new TextEncoder().encode('a,b\n1,x\n2,y\n'),
        datasetFile: 'dataset.csv',
        scripts: [],
        limits: LIMITS,
        networkAllow: [],
        sql: { format: 'csv', maxSeconds: 10 },
      }),
  };
  const results: AttackResult[] = [];
  try {
    for (const attack of attacks) results.push(await runOne(attack, ctx));
  } finally {
    for (const server of [tcp, tcp6, runServer]) (server as Server | null)?.close();
    abstract.kill();
    udp.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(runSocket, { force: true });
  }
  return results;
}

/** The host listener each connecting probe aims at. */
const TARGET_OF: Partial<Record<keyof typeof PROBES, keyof BatteryContext['connections']>> = {
  tcp: 'tcp',
  udp: 'udp',
  tcp6: 'tcp6',
  abstractSocket: 'abstract',
  hostRunSocket: 'run',
};

async function until(condition: () => boolean, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !condition() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 10));
}

async function runOne(attack: Attack, ctx: BatteryContext): Promise<AttackResult> {
  const result = { threat: attack.threat, name: attack.name, how: attack.how };
  if (attack.custom) {
    try {
      return { ...result, contained: true, differential: 'n/a (checked from outside)', detail: await attack.custom(ctx) };
    } catch (error) {
      return { ...result, contained: false, differential: 'n/a', detail: (error as Error).message };
    }
  }
  const code = PROBES[attack.probe!](ctx);
  if (attack.probe === 'tcp6' && ctx.tcp6Port === null)
    return { ...result, contained: true, differential: 'n/a (no IPv6 on this host)', detail: 'no IPv6 loopback here' };
  const before = { ...ctx.connections };
  const outcome = await inside(ctx, code, attack.limits);
  const said = text(outcome.stdout);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const reached = Object.entries(ctx.connections)
    .filter(([k, v]) => v !== before[k as keyof typeof before])
    .map(([k]) => k);
  const contained = said.startsWith('CONTAINED') && reached.length === 0;
  let differential = typeof attack.outside === 'string' ? `n/a (${attack.outside})` : 'not run';
  if (attack.outside === true) {
    const target = TARGET_OF[attack.probe!];
    const seen = target ? ctx.connections[target] : 0;
    const host = await outsideRun(code);
    // The host's listeners learn of the outside connection asynchronously (the abstract one through a pipe): wait for it here, so it is never counted against the next attack.
    if (target) await until(() => ctx.connections[target] > seen, 2000);
    differential = host.startsWith('ESCAPED') ? 'probe works outside' : `PROBE DID NOT WORK OUTSIDE: ${host}`;
  }
  return { ...result, contained, differential, detail: reached.length ? `${said}; host saw ${reached.join(', ')}` : said };
}

function outsideRun(code: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/python3', ['-c', code], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: { ...process.env, ANTHROPIC_API_KEY: 'sk-ant-probe', KAFKA_BROKERS: '127.0.0.1:1', PYTHONPATH: '/nonexistent', TMPDIR: tmpdir() },
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => resolve(out.trim()));
  });
}
