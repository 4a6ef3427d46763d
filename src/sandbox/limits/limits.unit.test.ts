/** Discovery, planning and the cgroup files a run writes, without touching this host's cgroups. */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterEach, describe, expect, it } from 'vitest';
import { staleByAge, sweepStaleCgroups } from './cgroup-files.js';
import { delegate, SERVICE_LEAF } from './delegate.js';
import { cgroupHostFrom, type CgroupHost, type HostFiles } from './host.js';
import { planLimits } from './plan.js';
import { createRunLimits } from './run-limits.js';

/** This machine's files (a hybrid host: v1 controllers, cgroup2 at /sys/fs/cgroup/unified with no controller we use). */
const HYBRID_MOUNTINFO = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const HYBRID_CGROUP = '9:name=systemd:/\n8:pids:/\n4:memory:/process_api/c4a8\n1:cpu:/\n0::/\n';
/** Docker with --cgroupns=private on a pure v2 host: our cgroup is the namespace's root. */
const DOCKER_MOUNTINFO = '1021 1012 0:27 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate,memory_recursiveprot';
/** A systemd service with Delegate=yes (a v1 "cpu,cpuacct" mount would not be there at all on such a host). */
const SYSTEMD_MOUNTINFO = '30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate';

const files = (over: Partial<HostFiles>): HostFiles => ({
  mountinfo: '',
  procCgroup: '',
  controllersOf: () => 'cpuset cpu io memory hugetlb pids rdma misc',
  writable: () => true,
  isRootCgroup: () => false,
  ...over,
});

describe('cgroup discovery', () => {
  it('on a hybrid host finds the v1 controllers of our own cgroups and the unified hierarchy with what it offers', () => {
    const host = cgroupHostFrom(
      files({
        mountinfo: HYBRID_MOUNTINFO,
        procCgroup: HYBRID_CGROUP,
        controllersOf: () => 'hugetlb\n',
        isRootCgroup: (dir) => dir === '/sys/fs/cgroup/unified',
      }),
    );
    expect(host).toEqual({
      v2: { dir: '/sys/fs/cgroup/unified', controllers: ['hugetlb'], writable: true, isRoot: true },
      v1: {
        memory: { dir: '/sys/fs/cgroup/memory/process_api/c4a8', writable: true },
        pids: { dir: '/sys/fs/cgroup/pids', writable: true },
        cpu: { dir: '/sys/fs/cgroup/cpu', writable: true },
      },
    });
  });
  it('in a Docker container with a private cgroup namespace finds cgroup2 at /sys/fs/cgroup (not the real root), writable only when mounted so', () => {
    const writable = cgroupHostFrom(files({ mountinfo: DOCKER_MOUNTINFO, procCgroup: '0::/\n' }));
    const readOnly = cgroupHostFrom(files({ mountinfo: DOCKER_MOUNTINFO, procCgroup: '0::/\n', writable: () => false }));
    expect(writable.v2).toMatchObject({ dir: '/sys/fs/cgroup', isRoot: false, writable: true, controllers: expect.arrayContaining(['memory', 'pids', 'cpu']) });
    expect(readOnly.v2?.writable).toBe(false);
    expect(writable.v1).toEqual({});
  });
  it('under systemd finds our own (delegated) service cgroup, and a mount that does not show it yields nothing', () => {
    const path = '/system.slice/ephemera.service';
    expect(cgroupHostFrom(files({ mountinfo: SYSTEMD_MOUNTINFO, procCgroup: `0::${path}\n` })).v2).toMatchObject({
      dir: `/sys/fs/cgroup${path}`,
      isRoot: false,
    });
    const subtree = '31 30 0:26 /other.slice /mnt/cg rw - cgroup2 cgroup2 rw';
    expect(cgroupHostFrom(files({ mountinfo: subtree, procCgroup: `0::${path}\n` })).v2).toBeNull();
    const ours = '31 30 0:26 /system.slice /mnt/cg\\040x rw - cgroup2 cgroup2 rw';
    expect(cgroupHostFrom(files({ mountinfo: ours, procCgroup: `0::${path}\n` })).v2?.dir).toBe('/mnt/cg x/ephemera.service');
  });
});

const host = (over: Partial<CgroupHost> = {}): CgroupHost => ({ v2: null, v1: {}, ...over });
const v2 = (controllers: string[], writable = true) => ({ dir: '/cg', controllers, writable, isRoot: false });
const v1 = { memory: { dir: '/m', writable: true }, pids: { dir: '/p', writable: true }, cpu: { dir: '/c', writable: true } };

describe('planning the limits', () => {
  it('auto takes per limit cgroup v2 where the controller is delegated, else v1, else an rlimit: never none', () => {
    expect(planLimits(host({ v2: v2(['memory', 'pids', 'cpu']), v1 }), 'auto')).toEqual({
      memory: 'cgroup2',
      processes: 'cgroup2',
      cpu: 'cgroup2',
      membership: 'cgroup2',
    });
    // This machine: cgroup2 only for membership and cgroup.kill, the controllers from v1.
    expect(planLimits(host({ v2: v2(['hugetlb']), v1 }), 'auto')).toEqual({ memory: 'cgroup1', processes: 'cgroup1', cpu: 'cgroup1', membership: 'cgroup2' });
    expect(planLimits(host({ v2: v2(['pids']), v1: { memory: v1.memory } }), 'auto')).toEqual({
      memory: 'cgroup1',
      processes: 'cgroup2',
      cpu: 'rlimit',
      membership: 'cgroup2',
    });
    // A read-only /sys/fs/cgroup (Docker's default) offers nothing: rlimits and the process tree.
    expect(planLimits(host({ v2: v2(['memory', 'pids', 'cpu'], false) }), 'auto')).toEqual({
      memory: 'rlimit',
      processes: 'rlimit',
      cpu: 'rlimit',
      membership: 'rlimit',
    });
  });
  it('an explicit mode is met for every limit or refused with SANDBOX_LIMITS_MODE_UNAVAILABLE, naming what is missing', () => {
    expect(planLimits(host({ v2: v2(['hugetlb']), v1 }), 'cgroup1')).toEqual({
      memory: 'cgroup1',
      processes: 'cgroup1',
      cpu: 'cgroup1',
      membership: 'cgroup1',
    });
    expect(planLimits(host(), 'rlimit')).toEqual({ memory: 'rlimit', processes: 'rlimit', cpu: 'rlimit', membership: 'rlimit' });
    expect(() => planLimits(host({ v2: v2(['hugetlb']), v1 }), 'cgroup2')).toThrow(
      expect.objectContaining({
        code: 'SANDBOX_LIMITS_MODE_UNAVAILABLE',
        message: expect.stringMatching(/lack the memory controller, the pids controller, the cpu controller/),
      }),
    );
    expect(() => planLimits(host({ v2: v2(['memory', 'pids', 'cpu'], false) }), 'cgroup2')).toThrow(
      expect.objectContaining({ code: 'SANDBOX_LIMITS_MODE_UNAVAILABLE', message: expect.stringContaining('a writable cgroup of our own') }),
    );
    expect(() => planLimits(host({ v2: v2(['memory', 'pids', 'cpu']) }), 'cgroup1')).toThrow(
      expect.objectContaining({ code: 'SANDBOX_LIMITS_MODE_UNAVAILABLE' }),
    );
  });
});

// This host's cgroup2 offers no memory, pids or cpu controller, so these run against a temporary directory laid out
// like a delegated cgroup2 subtree (the files the kernel would show); the real cgroup2 path (create, join,
// cgroup.kill, removal) runs on this host's unified hierarchy in limits.int.test.ts.
describe('on a delegated cgroup2 subtree (a temporary directory standing in for it)', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const subtree = (procs: string) => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-cg2-'));
    writeFileSync(join(dir, 'cgroup.procs'), procs);
    writeFileSync(join(dir, 'cgroup.subtree_control'), '');
    return { dir, controllers: ['memory', 'pids', 'cpu'], writable: true, isRoot: false };
  };

  it("moves the service's processes into a leaf, then enables +memory +pids +cpu for the runs' cgroups", () => {
    const cg = subtree('4242\n');
    delegate(cg, ['memory', 'pids', 'cpu']);
    expect(readFileSync(join(dir, SERVICE_LEAF, 'cgroup.procs'), 'utf8')).toBe('4242');
    expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+memory +pids +cpu');
  });

  it('leaves an already delegated subtree alone', () => {
    const cg = subtree('4242\n');
    writeFileSync(join(dir, 'cgroup.subtree_control'), 'cpu memory pids\n');
    delegate(cg, ['memory', 'pids', 'cpu']);
    expect(existsSync(join(dir, SERVICE_LEAF))).toBe(false);
  });

  it('writes memory.max, memory.swap.max 0, pids.max and cpu.max in the run cgroup, and records each', async () => {
    const cg = subtree('');
    const plan = { memory: 'cgroup2', processes: 'cgroup2', cpu: 'cgroup2', membership: 'cgroup2' } as const;
    const run = createRunLimits('ephemera-run', plan, host({ v2: cg }), { memoryBytes: 64 << 20, maxProcesses: 32, cpuSeconds: 20, wallMs: 10_000 });
    const cgroup = join(dir, 'ephemera-run');
    const file = (name: string) => readFileSync(join(cgroup, name), 'utf8');
    expect([file('memory.max'), file('memory.swap.max'), file('pids.max'), file('cpu.max')]).toEqual([String(64 << 20), '0', '32', '200000 100000']);
    writeFileSync(join(cgroup, 'memory.events'), 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n');
    writeFileSync(join(cgroup, 'pids.events'), 'max 5\n');
    expect([run.oomKills(), run.pidsRejected()]).toEqual([2, 5]);
    expect(run.supervisorLimits).toEqual({});
    expect(run.joinCommand()).toBe(`echo $$ > '${join(cgroup, 'cgroup.procs')}'`);
    expect(run.mechanisms).toEqual({
      memory: 'cgroup v2 memory.max, memory.swap.max 0, dataset tmpfs included',
      processes: 'cgroup v2 pids.max',
      cpu: 'RLIMIT_CPU per call; cgroup v2 cpu.max 200000 100000 (cpu_seconds over the wall limit)',
      // A directory made by mkdir has no cgroup.kill: the kill loop stands in, and is what gets recorded.
      kill: 'SIGKILL to every process of the cgroup v2 cgroup.procs until empty',
    });
  });

  it('with rlimits only, creates no cgroup and hands the supervisor its limits', () => {
    const plan = { memory: 'rlimit', processes: 'rlimit', cpu: 'rlimit', membership: 'rlimit' } as const;
    const run = createRunLimits('ephemera-run', plan, host(), { memoryBytes: 1000, maxProcesses: 8, cpuSeconds: 1, wallMs: 1000 });
    expect({ dirs: run.dirs, join: run.joinCommand(), supervisor: run.supervisorLimits }).toEqual({
      dirs: [],
      join: 'true',
      supervisor: { address_space_bytes: 1000, memory_watch_bytes: 1000, max_processes: 8 },
    });
    expect(run.mechanisms.processes).toMatch(/^RLIMIT_NPROC/);
  });
});

describe('sweeping stale run cgroups', () => {
  it('removes empty ephemera-<ULID> directories older than a minute, and nothing else', () => {
    const parent = mkdtempSync(join(tmpdir(), 'ephemera-sweep-'));
    const old = `ephemera-${ulid(Date.now() - 120_000)}`;
    const fresh = `ephemera-${ulid()}`;
    const populated = `ephemera-${ulid(Date.now() - 120_000)}`;
    for (const name of [old, fresh, populated, SERVICE_LEAF, 'other']) mkdirSync(join(parent, name));
    writeFileSync(join(parent, populated, 'cgroup.procs'), '1'); // rmdir refuses it, as the kernel refuses a populated cgroup
    expect(sweepStaleCgroups([parent], staleByAge())).toEqual([join(parent, old)]);
    expect(existsSync(join(parent, fresh))).toBe(true);
    rmSync(parent, { recursive: true });
  });
});
