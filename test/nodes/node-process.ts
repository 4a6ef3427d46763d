/**
 * `ephemera serve` as a child process, the way an operator runs a node: its own process group (so a kill -9
 * reaches the whole of it, and nothing is left behind when a test fails), its own data directory, port 0 (the
 * URL is read off its "listening" line). Used by the multi-node tests and by bench/throughput.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
/** What a failure message quotes of a node's output: its last lines. */
const TAIL_BYTES = 16 * 1024;

export interface NodeProcess {
  readonly name: string;
  readonly dataDir: string;
  readonly url: string;
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** The end of its stderr: for failure messages. */
  output(): string;
  /** kill -9 the whole process group and wait for the node itself to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call on a node already gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface NodeOptions {
  name: string;
  dataDir: string;
  /** EPHEMERA_* and KAFKA_* settings of this node; PATH and HOME come from this process. */
  env: Record<string, string>;
  startTimeoutMs?: number;
}

export async function startNode(options: NodeOptions): Promise<NodeProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'serve', '--data-dir', options.dataDir, '--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    // A group of its own: kill(-pid) reaches the node and every process it started that stayed in its group.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', EPHEMERA_TEE: 'simulated', ...options.env },
  });
  let tail = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-TAIL_BYTES);
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`node ${options.name} did not start within ${options.startTimeoutMs ?? 30_000} ms:\n${tail}`)),
      options.startTimeoutMs ?? 30_000,
    );
    child.stderr!.on('data', () => {
      const match = /ephemera listening on (http:\/\/\S+)/.exec(tail);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`node ${options.name} exited (${code}) before listening:\n${tail}`));
    });
  }).catch(async (error) => {
    killGroup(child);
    await exited;
    throw error;
  });
  return {
    name: options.name,
    dataDir: options.dataDir,
    url,
    pid: child.pid!,
    exited,
    output: () => tail,
    async kill9() {
      killGroup(child);
      await exited;
    },
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone (ESRCH).
  }
}

/** Every live process below `pid` (children, their children, …), read from /proc: to check none outlives a killed node. */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.state !== 'Z') parents.set(Number(entry), stat.ppid);
  }
  const found: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parents)
      if (ppid === parent) {
        found.push(child);
        frontier.push(child);
      }
  }
  return found;
}

/** The command name of `pid` (/proc/<pid>/comm), or null when it is gone. */
export function commandOf(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** Whether `pid` is still a live process (a zombie is gone: it runs nothing and holds nothing but its entry). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z';
}

function readStat(pid: number): { state: string; ppid: number } | null {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: the fields after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return null;
  }
}
