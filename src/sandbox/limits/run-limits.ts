/**
 * One run's limits, enforced by the mechanisms its plan chose: the run's
 * cgroups (v2: memory.max + memory.swap.max 0, pids.max, cpu.max, cgroup.kill,
 * memory.events / pids.events; v1: memory.limit_in_bytes + memsw, pids.max,
 * cpu.cfs_quota_us, a kill loop over cgroup.procs) and the rlimits the
 * supervisor sets on every tool process where no cgroup serves. It lists and
 * kills every process of the run, reads back breaches, and removes its cgroups.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EphemeraError } from '../../errors.js';
import { counter, killMembers, members, removeDir, write } from './cgroup-files.js';
import type { CgroupHost, V1Controller } from './host.js';
import type { LimitPlan } from './plan.js';

export interface LimitValues {
  memoryBytes: number;
  maxProcesses: number;
  cpuSeconds: number;
  wallMs: number;
}

/** What the supervisor enforces itself on each tool process (the rlimit mechanisms); protocol member `limits` of `run`. */
export interface SupervisorLimits {
  address_space_bytes?: number;
  memory_watch_bytes?: number;
  max_processes?: number;
}

export interface RunLimits {
  /** Per limit, what enforces it in this run, as sandbox.created records it. */
  readonly mechanisms: { memory: string; processes: string; cpu: string; kill: string };
  readonly supervisorLimits: SupervisorLimits;
  /** The run's cgroup directories (none with rlimits only). */
  readonly dirs: readonly string[];
  /** Shell line that moves the current shell into every cgroup of the run (before it execs the sandbox, so no fork escapes). */
  joinCommand(): string;
  /** The process the sandbox was spawned as: with no cgroup, its process tree is the run. */
  track(pid: number): void;
  oomKills(): number;
  pidsRejected(): number;
  procs(): number[];
  killAll(): Promise<number>;
  /** Removes the run's cgroups (retrying while the kernel finishes tearing down killed processes); false if one is left. */
  remove(): Promise<boolean>;
}

const PERIOD_US = 100_000;

/** cpu.max / cfs quota: cpu_seconds spread over the wall limit, so the whole sandbox can never use more CPU time than that. */
export const cpuQuotaUs = (v: LimitValues) => Math.max(1000, Math.round((PERIOD_US * v.cpuSeconds * 1000) / v.wallMs));

export function createRunLimits(name: string, plan: LimitPlan, host: CgroupHost, values: LimitValues): RunLimits {
  const quota = cpuQuotaUs(values);
  const created: string[] = [];
  const make = (parent: string) => {
    const dir = join(parent, name);
    mkdirSync(dir);
    created.push(dir);
    return dir;
  };
  let v2: string | null = null;
  const v1: Partial<Record<V1Controller, string>> = {};
  let swapCapped = false;
  try {
    if (Object.values(plan).includes('cgroup2')) {
      v2 = make(host.v2!.dir);
      if (plan.memory === 'cgroup2') {
        write(v2, 'memory.max', values.memoryBytes);
        swapCapped = tryWrite(v2, 'memory.swap.max', 0); // absent without swap accounting
      }
      if (plan.processes === 'cgroup2') write(v2, 'pids.max', values.maxProcesses);
      if (plan.cpu === 'cgroup2') write(v2, 'cpu.max', `${quota} ${PERIOD_US}`);
    }
    if (plan.memory === 'cgroup1') {
      const dir = (v1.memory = make(host.v1.memory!.dir));
      write(dir, 'memory.limit_in_bytes', values.memoryBytes);
      // No swap: memory+swap capped at the same figure where swap accounting exists.
      swapCapped = tryWrite(dir, 'memory.memsw.limit_in_bytes', values.memoryBytes);
    }
    if (plan.processes === 'cgroup1') write((v1.pids = make(host.v1.pids!.dir)), 'pids.max', values.maxProcesses);
    if (plan.cpu === 'cgroup1') {
      const dir = (v1.cpu = make(host.v1.cpu!.dir));
      write(dir, 'cpu.cfs_period_us', PERIOD_US);
      write(dir, 'cpu.cfs_quota_us', quota);
    }
    if (plan.membership === 'cgroup1' && created.length === 0) throw new Error('no cgroup v1 controller to hold the run');
  } catch (cause) {
    for (const dir of created.reverse()) void removeDir(dir, 0);
    throw new EphemeraError('SANDBOX_LIMIT_UNAVAILABLE', 'cannot create the sandbox cgroups', { cause });
  }

  let root: { pid: number; start: string } | null = null;
  const cgroupKill = v2 !== null && plan.membership === 'cgroup2' && existsSync(join(v2, 'cgroup.kill'));
  const procs = () => [...new Set([...created.flatMap(members), ...(plan.membership === 'rlimit' && root ? processTree(root) : [])])];
  const mechanisms = describeMechanisms(plan, { quota, swapCapped, cgroupKill });
  return {
    mechanisms,
    dirs: created,
    supervisorLimits: {
      ...(plan.memory === 'rlimit' ? { address_space_bytes: values.memoryBytes, memory_watch_bytes: values.memoryBytes } : {}),
      ...(plan.processes === 'rlimit' ? { max_processes: values.maxProcesses } : {}),
    },
    joinCommand: () => (created.length === 0 ? 'true' : created.map((dir) => `echo $$ > '${join(dir, 'cgroup.procs')}'`).join(' && ')),
    track(pid) {
      root = { pid, start: startTime(pid) ?? '' };
    },
    oomKills: () =>
      v2 && plan.memory === 'cgroup2' ? counter(v2, 'memory.events', 'oom_kill') : v1.memory ? counter(v1.memory, 'memory.oom_control', 'oom_kill') : 0,
    pidsRejected: () => {
      const dir = plan.processes === 'cgroup2' ? v2 : (v1.pids ?? null);
      return dir ? counter(dir, 'pids.events', 'max') : 0;
    },
    procs,
    async killAll() {
      // cgroup.kill kills every process of the cgroup at once, forks in flight included; the loop then waits them out.
      if (cgroupKill && procs().length > 0) write(v2!, 'cgroup.kill', 1);
      return killMembers(procs);
    },
    async remove() {
      const gone = await Promise.all(created.map((dir) => removeDir(dir)));
      return gone.every(Boolean);
    },
  };
}

function describeMechanisms(plan: LimitPlan, facts: { quota: number; swapCapped: boolean; cgroupKill: boolean }): RunLimits['mechanisms'] {
  const memory = {
    cgroup2: `cgroup v2 memory.max${facts.swapCapped ? ', memory.swap.max 0' : ' (no swap accounting)'}, dataset tmpfs included`,
    cgroup1: `cgroup v1 memory.limit_in_bytes${facts.swapCapped ? ' and memory.memsw.limit_in_bytes' : ' (no swap accounting)'}, dataset tmpfs included`,
    rlimit:
      'RLIMIT_AS per process; the supervisor kills a call whose processes together hold more (proportional set size, sampled); dataset and sized tmpfs not included, memfd and SysV shm refused',
  };
  const processes = {
    cgroup2: 'cgroup v2 pids.max',
    cgroup1: 'cgroup v1 pids.max',
    rlimit: "RLIMIT_NPROC on every tool process (counted per uid within the sandbox's own user namespace, Linux 5.14 and later)",
  };
  const cpu = {
    cgroup2: `RLIMIT_CPU per call; cgroup v2 cpu.max ${facts.quota} ${PERIOD_US} (cpu_seconds over the wall limit)`,
    cgroup1: `RLIMIT_CPU per call; cgroup v1 cpu.cfs_quota_us ${facts.quota} per cpu.cfs_period_us ${PERIOD_US} (cpu_seconds over the wall limit)`,
    rlimit: 'RLIMIT_CPU per call (per process)',
  };
  const kill = {
    cgroup2: facts.cgroupKill ? 'cgroup v2 cgroup.kill' : 'SIGKILL to every process of the cgroup v2 cgroup.procs until empty',
    cgroup1: 'SIGKILL to every process of the cgroup v1 cgroup.procs until empty',
    rlimit: "SIGKILL to the sandbox's process tree; the kernel kills the rest of its pid namespace with its init",
  };
  return { memory: memory[plan.memory], processes: processes[plan.processes], cpu: cpu[plan.cpu], kill: kill[plan.membership] };
}

function tryWrite(dir: string, file: string, value: number): boolean {
  try {
    write(dir, file, value);
    return true;
  } catch {
    return false;
  }
}

/** Field 22 of /proc/PID/stat: with it a reused pid is never taken for the sandbox's. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** The root and every descendant, from the ppid links in /proc (an orphan re-parents to the sandbox's init, inside the tree). */
function processTree(root: { pid: number; start: string }): number[] {
  if (startTime(root.pid) !== root.start) return [];
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const tree = [root.pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}
