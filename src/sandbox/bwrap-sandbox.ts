/**
 * One bubblewrap sandbox per execution: a long-lived bwrap running the
 * supervisor, inside per-execution cgroups (or, where the host has none to
 * give, under rlimits: limits/). Every tool call of the execution runs in it
 * (same namespaces, same /work).
 *
 * SECURITY: the dataset reaches the sandbox's /data tmpfs through a pipe from
 * this process's memory; it never touches the disk. A breach of any limit
 * kills the call; destroy() kills every process of the run, waits for the
 * namespaces to disappear, and reports what it checked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { EphemeraError } from '../errors.js';
import { buildBwrapArgv, DEV_SHM_BYTES, RUN_BYTES, TRACED_SYSCALLS } from './argv.js';
import { createLimits, type RunLimits } from './limits/index.js';
import { openFileTrace, type FileTrace } from './file-trace.js';
import { PROTOCOL, supervisorSource } from './protocol.js';
import { BWRAP_PATH, HOST_UID, LIBRARY_CACHE, SANDBOX_UID, assertSandboxSupported, runtimeIdentity } from './runtime.js';
import { SupervisorClient } from './supervisor-client.js';
import { startNetworkProxy, type NetworkProxy } from './network-proxy.js';
import { nestedSqlCall, sqlSummary } from './sql/notice.js';
import type { DestructionReport, NestedSqlCall, Sandbox, SandboxDescription, SandboxSpec, ToolCall, ToolOutcome } from './types.js';

const SUPERVISOR_SOURCE = supervisorSource();
/** The sql tool's engine and command (sql/), bound read-only into a sandbox that offers sql. */
const SQL_SOURCES = {
  engine: readFileSync(join(import.meta.dirname, 'sql', 'ephemera_sql.py')),
  client: readFileSync(join(import.meta.dirname, 'sql', 'sql_client.py')),
};
const TMP_BYTES = 64 * 1024 * 1024;
/** Grace the executor gives the supervisor past a call's deadline before killing the whole sandbox. */
const BACKSTOP_MS = 3000;
/** How long a call's end marker may lag its reply (it is written before the reply, so only a dead tracer waits). */
const TRACE_GRACE_MS = 5000;
const SANDBOX_ENV = { PATH: '/usr/bin:/bin', HOME: '/work', LC_CTYPE: 'C.utf8' };
/** What supervisor.py's filter does to every tool process (x86_64 only), from the lists it installs (protocol.ts). */
const SECCOMP = {
  mechanism: 'seccomp-bpf filter installed by the supervisor before each call execs',
  errno_eperm: [
    ...Object.keys(PROTOCOL.seccomp.blocked),
    `${Object.keys(PROTOCOL.seccomp.signalling).join(', ')} aimed at pid 1 (the supervisor)`,
    `${Object.keys(PROTOCOL.seccomp.own_only).join(', ')} aimed at another process`,
    'the x32 ABI',
  ],
  killed: 'any other ABI (i386)',
};

export async function createSandbox(spec: SandboxSpec): Promise<Sandbox> {
  assertSandboxSupported();
  const memoryBytes = spec.limits.memoryMb * 1024 * 1024 + spec.dataset.length;
  const limits = createLimits(spec.limitsMode ?? 'auto', `ephemera-${spec.executionId}`, {
    memoryBytes,
    maxProcesses: spec.limits.maxProcesses,
    cpuSeconds: spec.limits.cpuSeconds,
    wallMs: spec.limits.timeoutMs,
  });
  const env = { ...SANDBOX_ENV, [PROTOCOL.dataset_env]: `/data/${spec.datasetFile}` };
  const proxy =
    spec.networkAllow.length > 0
      ? await startNetworkProxy(spec.networkAllow, HOST_UID).catch(async (cause) => {
          await limits.remove();
          throw cause;
        })
      : null;
  const trace =
    spec.fileTracing === false
      ? null
      : await openFileTrace(HOST_UID).catch(async (cause) => {
          await proxy?.close();
          await limits.remove();
          throw cause;
        });
  const argv = buildBwrapArgv({
    proxySocketPath: proxy?.socketPath,
    traceOutput: trace?.output,
    bwrapPath: BWRAP_PATH,
    libraryCache: LIBRARY_CACHE,
    supervisorFd: 4,
    hostUid: HOST_UID,
    datasetFd: 3,
    datasetFile: spec.datasetFile,
    sqlClientFd: 5,
    sqlEngineFd: spec.sql ? 6 : undefined,
    workBytes: spec.limits.workBytes,
    outBytes: spec.limits.outBytes,
    tmpBytes: TMP_BYTES,
    uid: SANDBOX_UID,
    gid: SANDBOX_UID,
    env,
  });
  // The shell joins the cgroups, then becomes the tracer (or bwrap): no process of the sandbox is ever outside them.
  const child = spawn('/bin/sh', ['-c', `${limits.joinCommand()} && ulimit -c 0 && exec "$@"`, 'sh', ...argv], {
    stdio: ['pipe', 'pipe', 'ignore', 'pipe', 'pipe', 'pipe', ...(spec.sql ? (['pipe'] as const) : [])],
    env: {},
  });
  if (child.pid !== undefined) limits.track(child.pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const client = new SupervisorClient(child.stdin!, child.stdout!);
  child.once('error', (e) => client.fail(e));
  const feed = (fd: number, bytes: Uint8Array) => (child.stdio as unknown as Writable[])[fd]!.on('error', () => undefined).end(bytes);
  feed(3, spec.dataset);
  feed(4, SUPERVISOR_SOURCE);
  feed(5, SQL_SOURCES.client);
  if (spec.sql) feed(6, SQL_SOURCES.engine);

  const sandbox = new BwrapSandbox(spec, child, client, limits, exited, describe(spec, memoryBytes, limits), proxy, trace);
  try {
    const sql = spec.sql ? { format: spec.sql.format, max_seconds: spec.sql.maxSeconds } : null;
    const init = await client.request('init', { scripts: spec.scripts, sql }, 15_000);
    if (!init.ok) throw new EphemeraError('SANDBOX_START_FAILED', `the sandbox could not be prepared (${init.error})`);
    await trace?.ready(TRACE_GRACE_MS).catch(() => {
      throw new EphemeraError('SANDBOX_START_FAILED', 'file tracing did not start');
    });
    // Fail closed where the filter is written for the arch; elsewhere sandbox.created says there is none.
    if (process.arch === 'x64' && init.seccomp !== true) throw new EphemeraError('SANDBOX_START_FAILED', 'the seccomp filter could not be installed');
    sandbox.description.isolation.seccomp = init.seccomp === true ? SECCOMP : false;
    sandbox.rememberNamespaces();
  } catch (cause) {
    await sandbox.destroy();
    throw cause instanceof EphemeraError && cause.code === 'SANDBOX_START_FAILED'
      ? cause
      : new EphemeraError('SANDBOX_START_FAILED', 'the sandbox did not start', { cause });
  }
  return sandbox;
}

function describe(spec: SandboxSpec, memoryBytes: number, limits: RunLimits): SandboxDescription {
  const m = limits.mechanisms;
  const l = spec.limits;
  return {
    isolation: {
      tool: 'bubblewrap',
      namespaces: ['user', 'pid', 'net', 'ipc', 'uts', 'mount', 'cgroup'],
      new_session: true,
      die_with_parent: true,
      init: 'the supervisor (--as-pid-1), not dumpable',
      capabilities: 'none',
      no_new_privileges: true,
      nested_user_namespaces: false,
      uid: SANDBOX_UID,
      host_uid: HOST_UID ?? process.getuid?.() ?? null,
      host_paths: ['/usr (read-only)', ...(LIBRARY_CACHE ? [`${LIBRARY_CACHE} (read-only: the loader's index of the libraries)`] : [])],
      seccomp: false,
      file_tracing: spec.fileTracing === false ? 'off' : `strace -f --seccomp-bpf -e trace=${TRACED_SYSCALLS}, one tracer outside the sandbox around it`,
    },
    limits: {
      wall_ms: { value: l.timeoutMs, mechanism: `supervisor deadline, executor kill as backstop: ${m.kill}` },
      memory_bytes: { value: memoryBytes, mechanism: m.memory },
      processes: { value: l.maxProcesses, mechanism: m.processes },
      cpu_seconds: { value: l.cpuSeconds, mechanism: m.cpu },
      open_files: { value: l.maxOpenFiles, mechanism: 'RLIMIT_NOFILE' },
      core_bytes: { value: 0, mechanism: 'RLIMIT_CORE' },
      work_bytes: { value: l.workBytes, mechanism: 'tmpfs size' },
      out_bytes: { value: l.outBytes, mechanism: 'tmpfs size' },
      tmp_bytes: { value: TMP_BYTES, mechanism: 'tmpfs size' },
      dev_shm_bytes: { value: DEV_SHM_BYTES, mechanism: 'tmpfs size' },
      run_bytes: { value: RUN_BYTES, mechanism: 'tmpfs size (the root and /dev are read-only)' },
      output_bytes: { value: l.outputBytes, mechanism: 'supervisor capture cap per stream; call killed past 16x' },
    },
    network:
      spec.networkAllow.length === 0
        ? { mode: 'none', mechanism: 'empty network namespace (loopback only)', allow: [] }
        : { mode: 'allowlist', mechanism: 'HTTP CONNECT proxy on a unix socket, outside the sandbox', allow: [...spec.networkAllow] },
    runtime: runtimeIdentity(),
  };
}

class BwrapSandbox implements Sandbox {
  private destroyed: Promise<DestructionReport> | null = null;
  private namespaces: string[] = [];
  private busy = Promise.resolve();
  private marks = 0;

  constructor(
    private readonly spec: SandboxSpec,
    private readonly child: ChildProcess,
    private readonly client: SupervisorClient,
    private readonly limits: RunLimits,
    private readonly exited: Promise<void>,
    readonly description: SandboxDescription,
    private readonly proxy: NetworkProxy | null,
    private readonly trace: FileTrace | null,
  ) {}

  /** The sandbox's own mount and pid namespaces, to check after destruction that nothing holds them. */
  rememberNamespaces(): void {
    // The tracer and bwrap's outer process live in the host's namespaces: skip them.
    const host = readlinkSync('/proc/self/ns/mnt');
    for (const pid of this.limits.procs()) {
      try {
        const namespaces = ['mnt', 'pid'].map((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`));
        if (namespaces[0] === host) continue;
        this.namespaces = namespaces;
        return;
      } catch {
        // raced with exit: try the next one
      }
    }
  }

  run(call: ToolCall, options: { timeoutMs?: number; onNestedSql?: (call: NestedSqlCall) => void } = {}): Promise<ToolOutcome> {
    const next = this.busy.then(() => this.runNow(call, options.timeoutMs ?? this.spec.limits.timeoutMs, options.onNestedSql));
    this.busy = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async runNow(call: ToolCall, timeoutMs: number, onNestedSql?: (call: NestedSqlCall) => void): Promise<ToolOutcome> {
    if (this.destroyed) throw new EphemeraError('SANDBOX_DESTROYED', 'the sandbox is destroyed');
    const l = this.spec.limits;
    const oomBefore = this.limits.oomKills();
    const pidsBefore = this.limits.pidsRejected();
    const attemptsBefore = this.proxy?.attempts.length ?? 0;
    const started = Date.now();
    const mark = ++this.marks;
    let reply: Record<string, unknown>;
    let files: ToolOutcome['files'] = [];
    // Nested sql calls are announced while this call runs; each reaches the recorder before the call's reply.
    this.client.onNotice = (notice) => {
      const nested = nestedSqlCall(notice);
      // An engine killed without a word (SIGKILL) died of the cgroup's memory limit when the OOM counter moved.
      if (nested.killedBy === 'sandbox_lost' && this.limits.oomKills() > oomBefore) nested.killedBy = 'memory';
      onNestedSql?.(nested);
    };
    try {
      const r = await this.client.request(
        'run',
        {
          call,
          mark,
          timeout_ms: timeoutMs,
          limits: {
            output_bytes: l.outputBytes,
            output_hard_bytes: l.outputBytes * 16,
            cpu_seconds: l.cpuSeconds,
            max_open_files: l.maxOpenFiles,
            ...this.limits.supervisorLimits,
          },
        },
        timeoutMs + BACKSTOP_MS,
      );
      if (!r.ok) throw new EphemeraError('SANDBOX_BAD_CALL', `the call could not start (${r.error})`);
      reply = r;
      // No trace, no record of the call: a tracer that stopped reporting ends the sandbox like a lost supervisor.
      if (this.trace) files = await this.trace.callFiles(mark, TRACE_GRACE_MS);
    } catch (cause) {
      // A call refused by a sandbox that is dying (a dead tracer fails every traced syscall with ENOSYS) is lost, not bad.
      if (cause instanceof EphemeraError && cause.code === 'SANDBOX_BAD_CALL' && !(await this.exitedWithin(250))) throw cause;
      // The supervisor hung, was OOM-killed, or died with the tracer: the whole sandbox goes, the call is recorded as killed.
      const memory = this.limits.oomKills() > oomBefore;
      const hung = cause instanceof EphemeraError && cause.code === 'SANDBOX_UNRESPONSIVE';
      await this.limits.killAll();
      return emptyOutcome(memory ? 'memory' : hung ? 'timeout' : 'sandbox_lost', Date.now() - started);
    } finally {
      this.client.onNotice = null;
    }
    const memory = this.limits.oomKills() > oomBefore;
    // A fork refused at pids.max is a breach: the call's processes are already gone (they die when it ends).
    const pids = !memory && this.limits.pidsRejected() > pidsBefore;
    await this.proxy?.settled(attemptsBefore);
    const network = this.proxy ? this.proxy.attempts.slice(attemptsBefore).map((a) => ({ ...a })) : [];
    const stdout = Buffer.from(String(reply.stdout), 'base64');
    const stderr = Buffer.from(String(reply.stderr), 'base64');
    const stderrTail = Buffer.from(String(reply.stderr_tail), 'base64');
    return {
      exitCode: memory || pids ? null : (reply.exit_code as number | null),
      killedBy: memory ? 'memory' : pids ? 'pids' : (reply.killed_by as ToolOutcome['killedBy']),
      stdout: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.length),
      stderr: new Uint8Array(stderr.buffer, stderr.byteOffset, stderr.length),
      stderrTail: new Uint8Array(stderrTail.buffer, stderrTail.byteOffset, stderrTail.length),
      truncated: reply.truncated === true,
      stdoutBytes: reply.stdout_bytes as number,
      stderrBytes: reply.stderr_bytes as number,
      durationMs: reply.duration_ms as number,
      cpuMs: reply.cpu_ms as number,
      maxRssKb: reply.max_rss_kb as number,
      files,
      network,
      sql: sqlSummary(reply.sql),
    };
  }

  private exitedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    return Promise.race([this.exited.then(() => true), late]).finally(() => clearTimeout(timer));
  }

  async listFiles(dir: string): Promise<{ path: string; bytes: number; type: 'file' | 'dir' }[]> {
    const r = await this.client.request('list', { dir }, 10_000);
    if (!r.ok) throw new EphemeraError('SANDBOX_FILE_UNREADABLE', `cannot list ${dir}`);
    return r.entries as { path: string; bytes: number; type: 'file' | 'dir' }[];
  }

  async readFile(path: string, maxBytes: number): Promise<{ content: Uint8Array; truncated: boolean }> {
    const r = await this.client.request('read', { path, max_bytes: maxBytes }, 10_000);
    if (!r.ok) throw new EphemeraError('SANDBOX_FILE_UNREADABLE', `cannot read ${path} (regular files only, no symlinks)`);
    return { content: new Uint8Array(Buffer.from(String(r.content), 'base64')), truncated: r.truncated === true };
  }

  destroy(): Promise<DestructionReport> {
    this.destroyed ??= this.destroyNow();
    return this.destroyed;
  }

  private async destroyNow(): Promise<DestructionReport> {
    await this.client.request('exit', {}, 2000).catch(() => undefined);
    this.child.stdin?.destroy();
    await this.limits.killAll();
    // Bounded, and the timer cleared: a pending one would hold a CLI process open 5 s after its run.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    const processesRemaining = this.limits.procs().length;
    await this.limits.remove();
    // A killed process leaves its namespaces a moment after it is reaped: give the kernel up to 2 s.
    let holders = this.namespaceHolders();
    for (let i = 0; holders > 0 && i < 40; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      holders = this.namespaceHolders();
    }
    this.spec.dataset.fill(0);
    this.trace?.close();
    await this.proxy?.close();
    return {
      processesRemaining: processesRemaining + holders,
      workspaceReleased: holders === 0,
      tmpfsReleased: holders === 0,
      datasetBytesZeroed: this.spec.dataset.length,
      checks: { cgroup_processes_remaining: processesRemaining, namespace_holders: holders, namespaces_checked: this.namespaces.length > 0 },
    };
  }

  /**
   * Live processes on the host still in the sandbox's mount or pid namespace: while any exists its tmpfs lives.
   * Zombies are not counted: an exited process has already released its namespaces and memory, and one
   * reparented to the host's init waits there only to be reaped.
   */
  private namespaceHolders(): number {
    if (this.namespaces.length === 0) return 0;
    let holders = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || isZombie(entry)) continue;
      for (const ns of ['mnt', 'pid']) {
        try {
          if (this.namespaces.includes(readlinkSync(`/proc/${entry}/ns/${ns}`))) {
            holders += 1;
            break;
          }
        } catch {
          // process gone
        }
      }
    }
    return holders;
  }
}

function isZombie(pid: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return true;
  }
}

function emptyOutcome(killedBy: ToolOutcome['killedBy'], durationMs: number): ToolOutcome {
  return {
    exitCode: null,
    killedBy,
    stdout: new Uint8Array(0),
    stderr: new Uint8Array(0),
    stderrTail: new Uint8Array(0),
    truncated: false,
    stdoutBytes: 0,
    stderrBytes: 0,
    durationMs,
    cpuMs: 0,
    maxRssKb: 0,
    files: [],
    network: [],
    sql: null,
  };
}
