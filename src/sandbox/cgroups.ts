/**
 * Per-execution cgroups (v1, which is what this kernel exposes: memory and
 * pids controllers). Memory and process caps apply to the whole sandbox
 * process tree; an OOM kill is read back from memory.oom_control.
 * LIMITATION: cgroup v2 delegation is not implemented yet; without the v1
 * controllers the sandbox refuses to start (fail closed), never runs uncapped.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EphemeraError } from '../errors.js';

const ROOT = '/sys/fs/cgroup';

export interface CgroupSet {
  readonly memoryDir: string;
  readonly pidsDir: string;
  /** Shell line that moves the current shell into both cgroups (used before exec of bwrap, so no fork escapes). */
  joinCommand(): string;
  oomKills(): number;
  pidsRejected(): number;
  procs(): number[];
  killAll(): Promise<number>;
  remove(): void;
}

function ownPath(controller: string): string | null {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers?.split(',').includes(controller)) return path ?? '/';
  }
  return null;
}

export function cgroupV1Available(): boolean {
  return ['memory', 'pids'].every((c) => existsSync(join(ROOT, c, 'cgroup.procs')) && ownPath(c) !== null);
}

export function createCgroups(name: string, memoryBytes: number, maxPids: number): CgroupSet {
  if (!cgroupV1Available())
    throw new EphemeraError('SANDBOX_LIMIT_UNAVAILABLE', 'memory and pids cgroups are not available: refusing to run without enforced limits');
  const memoryDir = join(ROOT, 'memory', ownPath('memory')!, name);
  const pidsDir = join(ROOT, 'pids', ownPath('pids')!, name);
  try {
    mkdirSync(memoryDir);
    mkdirSync(pidsDir);
    writeFileSync(join(memoryDir, 'memory.limit_in_bytes'), String(memoryBytes));
    // No swap: memory+swap capped at the same figure where swap accounting exists.
    if (existsSync(join(memoryDir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(memoryDir, 'memory.memsw.limit_in_bytes'), String(memoryBytes));
    writeFileSync(join(pidsDir, 'pids.max'), String(maxPids));
  } catch (cause) {
    for (const dir of [memoryDir, pidsDir]) if (existsSync(dir)) rmdirSync(dir);
    throw new EphemeraError('SANDBOX_LIMIT_UNAVAILABLE', 'cannot create the sandbox cgroups', { cause });
  }
  const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
  const procs = () => [...new Set([...read(memoryDir, 'cgroup.procs').split('\n'), ...read(pidsDir, 'cgroup.procs').split('\n')])].filter(Boolean).map(Number);
  return {
    memoryDir,
    pidsDir,
    joinCommand: () => `echo $$ > '${join(memoryDir, 'cgroup.procs')}' && echo $$ > '${join(pidsDir, 'cgroup.procs')}'`,
    oomKills: () => Number(/oom_kill (\d+)/.exec(read(memoryDir, 'memory.oom_control'))?.[1] ?? 0),
    pidsRejected: () => (existsSync(join(pidsDir, 'pids.events')) ? Number(/max (\d+)/.exec(read(pidsDir, 'pids.events'))?.[1] ?? 0) : 0),
    procs,
    async killAll() {
      for (let round = 0; round < 100; round++) {
        const pids = procs();
        if (pids.length === 0) return 0;
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return procs().length;
    },
    remove() {
      for (const dir of [memoryDir, pidsDir]) {
        try {
          rmdirSync(dir);
        } catch {
          // busy or gone: destroy() reports what remains
        }
      }
    },
  };
}
