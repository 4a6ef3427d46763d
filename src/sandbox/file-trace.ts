/**
 * The host side of file tracing: one strace, started outside the sandbox around
 * bwrap, writes to a FIFO in a private host directory that this reader drains.
 * A call's activity is every line of a process other than the supervisor's
 * between the supervisor's `begin-N` and `end-N` markers: failed opens of
 * `/run/ephemera/mark/...` that strace records like any other open.
 *
 * SECURITY: the tracer is outside the sandbox's pid namespace and its output fd
 * is close-on-exec, so sandboxed code can neither see, signal nor write to it.
 * strace escapes newlines and quotes in strings, so a path cannot forge a line;
 * markers count only from the supervisor's pid, learnt from `ready` before any
 * tool runs. Lines are aggregated as they arrive and never stored (paths can
 * carry dataset content); the FIFO holds no data on disk.
 */
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { PROTOCOL } from './protocol.js';
import { takeTraceFifo, type TraceFifo } from './trace-fifo.js';
import type { FileObservation } from './types.js';

const MARK_DIR = PROTOCOL.mark_dir;
const MAX_TRACED_PATHS = 256;
/**
 * strace output: "<pid> <syscall>(<args>) = <result>", or "<pid> <syscall>(<args> <unfinished ...>" when
 * processes interleave (the "<... resumed>" half carries no path and is skipped).
 */
const TRACE_LINE = /^(\d+)\s+(\w+)\((.*)(?:\)\s+=\s+.*|\s*<unfinished \.\.\.>)$/;
const PATH_ARG = /"((?:[^"\\]|\\.)*)"/g;
/** System reads every process makes, and the supervisor's own directory: not the call's activity. */
const NOISE = ['/usr/', '/lib/', '/lib64/', '/bin/', '/sbin/', '/etc/ld.so', `${PROTOCOL.run_dir}/`, '/dev/null', '/dev/urandom', '/proc/self/'];
const WRITE_FLAGS = ['O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_TRUNC', 'O_APPEND'];

/** A trace on a fresh FIFO handed to the tracer's host uid (`owner`, when it is not ours). */
export async function openFileTrace(owner?: number): Promise<FileTrace> {
  const fifo = await takeTraceFifo(owner);
  try {
    return new FileTrace(fifo);
  } catch (cause) {
    rmSync(fifo.dir, { recursive: true, force: true });
    throw cause;
  }
}

type Waiter = { resolve: (files: FileObservation[]) => void; reject: (e: Error) => void };

export class FileTrace {
  /** Host path strace writes to (`-o`). */
  readonly output: string;
  private readonly dir: string;
  private readonly keepOpen: number;
  private readonly socket: Socket;
  private buffer = '';
  private supervisorPid: number | null = null;
  private call: { mark: number; counts: Map<string, number> } | null = null;
  private readonly finished = new Map<number, FileObservation[]>();
  private readonly waiters = new Map<number, Waiter>();
  private readyWaiter: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private closed: Error | null = null;

  /** `fifo`: a fresh one (trace-fifo.ts), owned by the host uid the tracer runs as. */
  constructor(fifo: TraceFifo) {
    this.dir = fifo.dir;
    this.output = fifo.path;
    // Non-blocking opens: no libuv thread waits on the FIFO. Holding a write end keeps it from reading as
    // ended before strace has opened it, and after strace has exited (then close() ends it).
    const readFd = openSync(this.output, constants.O_RDONLY | constants.O_NONBLOCK);
    this.keepOpen = openSync(this.output, constants.O_WRONLY | constants.O_NONBLOCK);
    this.socket = new Socket({ fd: readFd, readable: true, writable: false });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => this.consume(chunk));
    this.socket.on('error', (e) => this.fail(e));
  }

  /** Resolves once the supervisor has announced itself through the tracer: tracing works. */
  ready(timeoutMs: number): Promise<void> {
    if (this.supervisorPid !== null) return Promise.resolve();
    return this.withTimeout(new Promise<void>((resolve, reject) => (this.readyWaiter = { resolve, reject })), timeoutMs);
  }

  /** The aggregated activity of call `mark`, once its end marker has come through. */
  callFiles(mark: number, timeoutMs: number): Promise<FileObservation[]> {
    const done = this.finished.get(mark);
    if (done) {
      this.finished.delete(mark);
      return Promise.resolve(done);
    }
    if (this.closed) return Promise.reject(this.closed);
    return this.withTimeout(new Promise<FileObservation[]>((resolve, reject) => this.waiters.set(mark, { resolve, reject })), timeoutMs);
  }

  close(): void {
    this.fail(new Error('file trace closed'));
    this.socket.destroy();
    try {
      closeSync(this.keepOpen);
    } catch {
      // already closed
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the tracer did not report in time')), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  private fail(error: Error): void {
    this.closed ??= error;
    this.readyWaiter?.reject(error);
    this.readyWaiter = null;
    for (const w of this.waiters.values()) w.reject(error);
    this.waiters.clear();
  }

  private consume(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      this.line(this.buffer.slice(0, nl));
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf('\n');
    }
  }

  private line(text: string): void {
    const match = TRACE_LINE.exec(text);
    if (!match) return;
    const pid = Number(match[1]);
    const [name, args] = [match[2]!, match[3]!];
    const paths = [...args.matchAll(PATH_ARG)].map((m) => m[1]!);
    if (paths.length === 0) return;
    if (paths[0]!.startsWith(MARK_DIR) && (this.supervisorPid === null || pid === this.supervisorPid)) {
      this.marker(pid, paths[0]!.slice(MARK_DIR.length));
      return;
    }
    if (this.call && pid !== this.supervisorPid) this.activity(this.call.counts, name, args, paths);
  }

  private marker(pid: number, mark: string): void {
    if (this.supervisorPid === null) {
      if (mark !== 'ready') return;
      this.supervisorPid = pid;
      this.readyWaiter?.resolve();
      this.readyWaiter = null;
      return;
    }
    const [kind, number] = mark.split('-');
    const n = Number(number);
    if (kind === 'begin') this.call = { mark: n, counts: new Map() };
    if (kind === 'end' && this.call?.mark === n) {
      const files = summarize(this.call.counts);
      this.call = null;
      const waiter = this.waiters.get(n);
      this.waiters.delete(n);
      if (waiter) waiter.resolve(files);
      else this.finished.set(n, files);
    }
  }

  private activity(counts: Map<string, number>, name: string, args: string, paths: string[]): void {
    const add = (op: FileObservation['op'], raw: string) => {
      const path = raw.startsWith('/') ? raw : `/work/${raw}`;
      if (op !== 'exec' && NOISE.some((prefix) => path.startsWith(prefix))) return;
      const key = `${op}\0${path}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    };
    const [first, last] = [paths[0]!, paths.at(-1)!];
    if (['open', 'openat', 'openat2', 'creat'].includes(name)) add(name === 'creat' || WRITE_FLAGS.some((f) => args.includes(f)) ? 'write' : 'read', first);
    else if (name === 'execve' || name === 'execveat') add('exec', first);
    else if (['unlink', 'unlinkat', 'rmdir'].includes(name)) add('delete', first);
    else if (['rename', 'renameat', 'renameat2'].includes(name)) {
      add('delete', first);
      if (paths.length > 1) add('write', paths[1]!);
    } else if (['mkdir', 'mkdirat', 'symlink', 'symlinkat', 'link', 'linkat', 'truncate'].includes(name)) add('write', last);
  }
}

/** Most frequent first; past MAX_TRACED_PATHS one summary row keeps the total count. */
function summarize(counts: Map<string, number>): FileObservation[] {
  const items = [...counts]
    .map(([key, count]) => {
      const [op, path] = key.split('\0') as [FileObservation['op'], string];
      return { op, path, count };
    })
    .sort((a, b) => b.count - a.count || byCodePoint(a.op, b.op) || byCodePoint(a.path, b.path));
  const files = items.slice(0, MAX_TRACED_PATHS);
  const rest = items.slice(MAX_TRACED_PATHS);
  if (rest.length > 0) files.push({ op: 'read', path: `(${rest.length} more paths)`, count: rest.reduce((s, f) => s + f.count, 0) });
  return files;
}

/** Locale-independent order: the same files list on every host. */
const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
