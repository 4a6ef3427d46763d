/**
 * Small operations on cgroup directories shared by v1 and v2: read, write,
 * list members, kill by looping over members, remove with retries, and the
 * sweep of stale run cgroups a killed executor left behind.
 */
import { readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTime } from 'ulid';

export const read = (dir: string, file: string) => readFileSync(join(dir, file), 'utf8');
export const write = (dir: string, file: string, value: string | number) => writeFileSync(join(dir, file), String(value));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function members(dir: string): number[] {
  try {
    return read(dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // removed
  }
}

/** A counter line ("oom_kill 3", "max 1") of a flat-keyed file such as memory.events or pids.events; 0 when absent. */
export function counter(dir: string, file: string, key: string): number {
  try {
    return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(read(dir, file))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * SIGKILL every member until none is left (a fork racing the loop is caught by the next round); returns how many
 * remain. The first looks come soon: killed processes are usually gone within a millisecond or two, and a fixed
 * 10 ms wait was most of a sandbox's destruction (docs/performance.md).
 */
export async function killMembers(list: () => number[], rounds = 100): Promise<number> {
  for (let round = 0; round < rounds; round++) {
    const pids = list();
    if (pids.length === 0) return 0;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(Math.min(10, 2 ** round));
  }
  return list().length;
}

/**
 * rmdir, retried: a killed process leaves its cgroup a moment after SIGKILL (the kernel is still tearing it
 * down), and an rmdir in that moment fails with EBUSY. Returns whether the directory is gone.
 */
export async function removeDir(dir: string, attempts = 100): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
      if (attempt >= attempts) return false;
      await sleep(20);
    }
  }
}

/** A run's cgroup: ephemera-<the execution's ULID>. */
export const RUN_CGROUP = /^ephemera-([0-9A-HJKMNP-TV-Z]{26})$/;
/** Creating a run's cgroup and moving the sandbox into it takes milliseconds; an empty one older than this is a leftover. */
const STALE_AFTER_MS = 60_000;

export const staleByAge =
  (now = Date.now()) =>
  (name: string): boolean => {
    const id = RUN_CGROUP.exec(name)?.[1];
    try {
      return id !== undefined && decodeTime(id) < now - STALE_AFTER_MS;
    } catch {
      return false;
    }
  };

/**
 * Removes the run cgroups under `parents` that `isStale` picks and that are empty (rmdir refuses a populated
 * cgroup, so a live run is never touched). They are what an executor killed mid-run (SIGKILL, a crash, a killed
 * test run) leaves: its sandbox dies with it, its cgroups stay. Returns the directories removed.
 */
export function sweepStaleCgroups(parents: readonly string[], isStale: (name: string) => boolean = staleByAge()): string[] {
  const removed: string[] = [];
  for (const parent of parents) {
    let names: string[];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => RUN_CGROUP.test(n) && isStale(n))) {
      try {
        rmdirSync(join(parent, name));
        removed.push(join(parent, name));
      } catch {
        // populated (a live run) or not ours to remove
      }
    }
  }
  return removed;
}
