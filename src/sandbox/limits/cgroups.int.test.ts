/**
 * The cgroup mechanisms on this host's real hierarchies (run as root): cgroup2 as this machine offers it (the
 * unified hierarchy at /sys/fs/cgroup/unified, with no memory/pids/cpu controller but cgroup.kill, cgroup.procs
 * and removal), cgroup v1 for the controllers, and the sweep of what a killed executor leaves behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { sweepStaleCgroups } from './cgroup-files.js';
import { readCgroupHost } from './host.js';
import { createRunLimits } from './run-limits.js';

const host = readCgroupHost();
const values = { memoryBytes: 64 << 20, maxProcesses: 32, cpuSeconds: 5, wallMs: 10_000 };
const waitFor = async (check: () => boolean, withinMs = 10_000) => {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not so within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('on this host (hybrid: cgroup v1 controllers, cgroup2 at /sys/fs/cgroup/unified)', () => {
  it('finds both, and auto would hold runs in a cgroup2 cgroup with the limits from v1', () => {
    expect(host.v2).toMatchObject({ dir: '/sys/fs/cgroup/unified', writable: true, isRoot: true });
    expect(host.v2!.controllers).not.toContain('memory');
    expect(Object.keys(host.v1).sort()).toEqual(['cpu', 'memory', 'pids']);
  });

  it('creates the run cgroup2 cgroup, a shell joins it, cgroup.kill kills it with every child, and it is removed', async () => {
    const name = `ephemera-${ulid()}`;
    const plan = { memory: 'cgroup1', processes: 'cgroup1', cpu: 'cgroup1', membership: 'cgroup2' } as const;
    const run = createRunLimits(name, plan, host, values);
    const v2dir = join(host.v2!.dir, name);
    expect(run.dirs).toEqual([v2dir, join(host.v1.memory!.dir, name), join(host.v1.pids!.dir, name), join(host.v1.cpu!.dir, name)]);
    expect(readFileSync(join(host.v1.cpu!.dir, name, 'cpu.cfs_quota_us'), 'utf8').trim()).toBe('50000'); // 5 s over 10 s: half a CPU
    expect(run.mechanisms.kill).toBe('cgroup v2 cgroup.kill');

    const child = spawn('/bin/sh', ['-c', `${run.joinCommand()} && for i in 1 2 3 4 5; do sleep 60 & done; echo joined; wait`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(run.procs()).toHaveLength(6); // the shell and its five sleepers
    expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toContain(`0::/${name}\n`);
    expect(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8')).toContain(`pids:/${name}\n`);

    expect(await run.killAll()).toBe(0);
    expect(await exited).toBe('SIGKILL');
    expect(readFileSync(join(v2dir, 'cgroup.events'), 'utf8')).toContain('populated 0');
    expect(await run.remove()).toBe(true);
    expect(run.dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });
});

describe('when an executor is killed mid-run (the escape battery does it: THREATS B24)', () => {
  it('its sandbox dies but its cgroups stay; the sweep of stale run cgroups removes them', async () => {
    const marker = `ephemera-swept-${ulid()}`;
    const executor = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '../../../test/escape/orphan-child.ts'), marker], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => executor.stdout.once('data', () => resolve()));
    const sleeper = processWith(marker);
    const name = /ephemera-[0-9A-Z]{26}/.exec(readFileSync(`/proc/${sleeper}/cgroup`, 'utf8'))![0];
    const dirs = [host.v2!.dir, host.v1.memory!.dir, host.v1.pids!.dir, host.v1.cpu!.dir].map((parent) => join(parent, name));
    executor.kill('SIGKILL');
    // The sleeper's cmdline empties as soon as it is a zombie, while the rest of the sandbox may still be dying
    // (a loaded CI machine showed it): wait until no process is left in any of the run's cgroups.
    await waitFor(() => processWith(marker) === null && dirs.every((dir) => procsIn(dir).length === 0), 20_000);
    expect(dirs.filter((dir) => existsSync(dir))).toEqual(dirs); // the leak
    // The executor's ULID is seconds old, not stale by age: pick it by name, as the next start would a minute later.
    expect(sweepStaleCgroups([host.v2!.dir, host.v1.memory!.dir, host.v1.pids!.dir, host.v1.cpu!.dir], (n) => n === name).sort()).toEqual([...dirs].sort());
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });
});

function procsIn(dir: string): string[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return []; // removed
  }
}

function processWith(marker: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').startsWith(`${marker}\0`)) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return null;
}
