/**
 * The real sandbox under each limits mode this host allows: auto (here cgroup v1 controllers, a cgroup2 cgroup
 * killed by cgroup.kill), rlimit (chosen, as EPHEMERA_LIMITS=rlimit does, with no cgroup at all), and an explicit
 * cgroup2, which this host cannot meet (refused).
 */
import { execFileSync } from 'node:child_process';
import { ulid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { createSandbox } from './index.js';
import type { SandboxSpec } from './types.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const spec = (over: Partial<SandboxSpec> = {}, limits: Partial<SandboxSpec['limits']> = {}): SandboxSpec => ({
  executionId: ulid(),
  dataset: new TextEncoder().encode('x\n'),
  datasetFile: 'dataset.txt',
  scripts: [],
  limits: {
    timeoutMs: 20_000,
    memoryMb: 96,
    maxProcesses: 16,
    cpuSeconds: 20,
    workBytes: 8 << 20,
    outBytes: 1 << 20,
    outputBytes: 4096,
    maxOpenFiles: 64,
    ...limits,
  },
  networkAllow: [],
  ...over,
});
/** Forks until refused (or 64), each child sleeping; prints how many it made, and exits (the children hold its output a moment). */
const FORK_BOMB =
  'import os, sys, time\nmade = 0\nfor _ in range(64):\n    try:\n        if os.fork() == 0:\n            time.sleep(30); os._exit(0)\n        made += 1\n    except OSError as e:\n        print("refused", e.errno)\n        break\nprint("made", made)\n';
const runDirs = (id: string) =>
  execFileSync('find', ['/sys/fs/cgroup', '-maxdepth', '4', '-name', `ephemera-${id}`], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);

describe('limits under auto on this host', () => {
  it('records cgroup v1 for memory, processes and CPU and cgroup v2 cgroup.kill for the kill, and leaves no cgroup after destroy', async () => {
    const s = spec();
    const sandbox = await createSandbox(s);
    expect(runDirs(s.executionId)).toHaveLength(4);
    await sandbox.run({ kind: 'bash', command: 'for i in $(seq 8); do sleep 30 & done; echo started' }, { timeoutMs: 2000 });
    const report = await sandbox.destroy();
    const limits = sandbox.description.limits;
    expect(limits.memory_bytes!.mechanism).toMatch(/^cgroup v1 memory\.limit_in_bytes and memory\.memsw\.limit_in_bytes/);
    expect(limits.processes!.mechanism).toBe('cgroup v1 pids.max');
    expect(limits.cpu_seconds!.mechanism).toBe(
      'RLIMIT_CPU per call; cgroup v1 cpu.cfs_quota_us 100000 per cpu.cfs_period_us 100000 (cpu_seconds over the wall limit)',
    );
    expect(limits.wall_ms!.mechanism).toBe('supervisor deadline, executor kill as backstop: cgroup v2 cgroup.kill');
    expect(report.processesRemaining).toBe(0);
    expect(runDirs(s.executionId)).toEqual([]);
  });

  it('refuses an explicit cgroup2, which this host cannot meet for memory, pids or cpu, before creating anything', async () => {
    const s = spec({ limitsMode: 'cgroup2' });
    await expect(createSandbox(s)).rejects.toMatchObject({ code: 'SANDBOX_LIMITS_MODE_UNAVAILABLE' });
    expect(runDirs(s.executionId)).toEqual([]);
  });
});

describe('limits under rlimits (EPHEMERA_LIMITS=rlimit)', () => {
  it('creates no cgroup, and records RLIMIT_AS, RLIMIT_NPROC and RLIMIT_CPU and the pid namespace kill', async () => {
    const s = spec({ limitsMode: 'rlimit' });
    const sandbox = await createSandbox(s);
    const inside = await sandbox.run({ kind: 'bash', command: 'ulimit -v; ulimit -u' });
    const dirs = runDirs(s.executionId);
    const report = await sandbox.destroy();
    expect(dirs).toEqual([]);
    // Without a cgroup the run is its process tree: destruction still finds the namespaces and leaves nothing.
    expect(report).toMatchObject({ processesRemaining: 0, checks: { namespaces_checked: true, namespace_holders: 0 } });
    expect(text(inside.stdout)).toBe(`${Math.floor((96 * 1024 * 1024 + 2) / 1024)}\n16\n`); // ulimit shows KiB
    expect(sandbox.description.limits).toMatchObject({
      memory_bytes: { value: 96 * 1024 * 1024 + 2, mechanism: expect.stringMatching(/^RLIMIT_AS per process; the supervisor kills a call/) },
      processes: { value: 16, mechanism: expect.stringMatching(/^RLIMIT_NPROC on every tool process/) },
      cpu_seconds: { value: 20, mechanism: 'RLIMIT_CPU per call (per process)' },
      wall_ms: { mechanism: expect.stringMatching(/kills the rest of its pid namespace with its init$/) },
    });
  });

  it('a memory hog: one allocation past the cap is refused, processes holding more together are killed (killed_by memory)', async () => {
    const sandbox = await createSandbox(spec({ limitsMode: 'rlimit' }));
    const single = await sandbox.run({ kind: 'python', code: 'x = bytearray(512 * 1024 * 1024)\nprint(len(x))\n' });
    const together = await sandbox.run({
      kind: 'python',
      code: 'import os, time\nfor _ in range(4):\n    if os.fork() == 0:\n        x = b"x" * (40 << 20)\n        time.sleep(30)\n        os._exit(0)\ntime.sleep(30)\n',
    });
    const after = await sandbox.run({ kind: 'bash', command: 'echo alive' });
    await sandbox.destroy();
    expect({ exit: single.exitCode, killed: single.killedBy, stderr: text(single.stderr) }).toMatchObject({
      exit: 1,
      killed: null,
      stderr: expect.stringContaining('MemoryError'),
    });
    expect({ exit: together.exitCode, killed: together.killedBy }).toEqual({ exit: null, killed: 'memory' });
    expect(text(after.stdout)).toBe('alive\n');
  });

  it('a fork bomb: the fork past RLIMIT_NPROC fails with EAGAIN and the call ends as killed_by pids', async () => {
    const sandbox = await createSandbox(spec({ limitsMode: 'rlimit' }));
    const bomb = await sandbox.run({ kind: 'python', code: FORK_BOMB }, { timeoutMs: 5000 });
    await sandbox.destroy();
    expect(bomb).toMatchObject({ killedBy: 'pids', exitCode: null });
    // 16 tasks: the supervisor, the bomb and 14 children.
    expect(text(bomb.stdout)).toBe('refused 11\nmade 14\n');
  });

  it("counts RLIMIT_NPROC per sandbox (its own user namespace), not per host uid: one sandbox's processes do not use another's", async () => {
    const marker = `ephemera-nproc-${ulid()}`;
    const first = await createSandbox(spec({ limitsMode: 'rlimit' }));
    const second = await createSandbox(spec({ limitsMode: 'rlimit' }));
    // Twelve processes held in the first sandbox, under the same host uid as the second's.
    const held = first.run({ kind: 'bash', command: `for i in $(seq 12); do (exec -a ${marker} sleep 30) & done; wait` });
    while (countArgs(marker) < 12) await new Promise((resolve) => setTimeout(resolve, 20));
    const other = await second.run({ kind: 'bash', command: 'for i in $(seq 12); do sleep 30 & done; echo forked all' }, { timeoutMs: 3000 });
    await Promise.all([first.destroy(), second.destroy()]);
    await held;
    expect({ out: text(other.stdout), stderr: text(other.stderr) }).toEqual({ out: 'forked all\n', stderr: '' });
  });
});

function countArgs(marker: string): number {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.startsWith(marker)).length;
}
