/** The real bubblewrap sandbox: isolation, persistence across calls, caps, destruction. */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { createSandbox } from './index.js';
import type { SandboxSpec } from './types.js';
import { hostProcessesOf } from './testing/host-processes.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
const spec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  executionId: ulid(),
  dataset: new TextEncoder().encode('a,b\n1,2\n3,4\n'),
  datasetFile: 'dataset.csv',
  scripts: [{ name: 'count.py', content: 'import os\nprint(sum(1 for _ in open(os.environ["DATASET_PATH"])))\n' }],
  limits: { timeoutMs: 10_000, memoryMb: 128, maxProcesses: 64, cpuSeconds: 10, workBytes: 8 << 20, outBytes: 1 << 20, outputBytes: 4096, maxOpenFiles: 64 },
  networkAllow: [],
  ...over,
});

describe('bubblewrap sandbox', () => {
  describe('when a script reads the dataset', () => {
    it('sees it at DATASET_PATH and prints the count', async () => {
      const sandbox = await createSandbox(spec());
      const outcome = await sandbox.run({ kind: 'script', name: 'count.py' });
      expect({ exit: outcome.exitCode, out: text(outcome.stdout), killed: outcome.killedBy }).toEqual({ exit: 0, out: '3\n', killed: null });
      await sandbox.destroy();
    });
  });

  describe('when it starts on x86_64', () => {
    it('records the seccomp filter every tool process runs under, and the tracer', async () => {
      const sandbox = await createSandbox(spec());
      await sandbox.destroy();
      expect(sandbox.description.isolation.seccomp).toMatchObject({
        errno_eperm: expect.arrayContaining([
          'ptrace',
          'io_uring_setup',
          'pidfd_getfd',
          'kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_open aimed at pid 1 (the supervisor)',
        ]),
        killed: 'any other ABI (i386)',
      });
      expect(sandbox.description.isolation.file_tracing).toMatch(/^strace -f --seccomp-bpf -e trace=.*openat.*one tracer outside the sandbox around it$/);
    });
  });

  describe('when a script looks for memory no limit counts (under every limits mechanism)', () => {
    it.each(['auto', 'rlimit'] as const)(
      'with limits %s: the root and /dev are read-only, /run and /dev/shm are sized, memfd and SysV shm and queues are refused',
      async (limitsMode) => {
        const probe = [
          'import ctypes, errno, os',
          'def attempt(name, act):',
          '    try:',
          '        act()',
          '        print(name, "ok")',
          '    except OSError as e:',
          '        print(name, errno.errorcode[e.errno])',
          'def fill(path, mib):',
          '    with open(path, "wb") as f:',
          '        for _ in range(mib):',
          '            f.write(b"x" * (1 << 20))',
          'attempt("root", lambda: fill("/big", 1))',
          'attempt("etc", lambda: fill("/etc/ld.so.cache", 1))',
          'print("etc holds", sorted(os.listdir("/etc")))',
          'attempt("dev", lambda: fill("/dev/big", 1))',
          'attempt("run", lambda: fill("/run/big", 2))',
          'attempt("shm-small", lambda: fill("/dev/shm/small", 1))',
          'attempt("shm", lambda: fill("/dev/shm/big", 9))',
          'attempt("memfd", lambda: os.memfd_create("m"))',
          'libc = ctypes.CDLL(None, use_errno=True)',
          'def sysv(call, *args):',
          '    if call(*args) == -1:',
          '        raise OSError(ctypes.get_errno(), "")',
          'attempt("shmget", lambda: sysv(libc.shmget, 0, 1 << 20, 0o1600))',
          'attempt("msgget", lambda: sysv(libc.msgget, 0, 0o1600))',
        ].join('\n');
        const sandbox = await createSandbox(spec({ limitsMode, scripts: [{ name: 'probe.py', content: `${probe}\n` }] }));
        const outcome = await sandbox.run({ kind: 'script', name: 'probe.py' });
        await sandbox.destroy();
        expect(text(outcome.stdout).trim().split('\n')).toEqual([
          'root EROFS',
          'etc EROFS',
          "etc holds ['ld.so.cache']",
          'dev EROFS',
          'run ENOSPC',
          'shm-small ok',
          'shm ENOSPC',
          'memfd EPERM',
          'shmget EPERM',
          'msgget EPERM',
        ]);
        expect(sandbox.description.limits).toMatchObject({ run_bytes: { value: 1 << 20 }, dev_shm_bytes: { value: 8 << 20 } });
      },
    );
  });

  describe('when the service runs as root (as in CI and the container image)', () => {
    it('runs the tracer, bwrap and every sandbox process as an unprivileged host uid, and records it', async () => {
      const expected = process.getuid!() === 0 ? 65534 : process.getuid!();
      const s = spec();
      const sandbox = await createSandbox(s);
      await sandbox.run({ kind: 'bash', command: 'true' });
      const hostUids = hostProcessesOf(s.executionId).map((p) => p.uid);
      await sandbox.destroy();
      expect(hostUids.length).toBeGreaterThanOrEqual(3); // the tracer, bwrap, the supervisor
      expect(new Set(hostUids)).toEqual(new Set([expected]));
      expect(sandbox.description.isolation.host_uid).toBe(expected);
    });
  });

  describe('when a call signals the supervisor (pid 1)', () => {
    it('is refused KILL, TERM, INT and HUP with EPERM (seccomp), and the next call runs', async () => {
      const sandbox = await createSandbox(spec());
      const attack = await sandbox.run({ kind: 'bash', command: 'for s in KILL TERM INT HUP; do kill -$s 1; done; sleep 0.2; echo sent' });
      const next = await sandbox.run({ kind: 'bash', command: 'echo alive' });
      await sandbox.destroy();
      expect({ exit: attack.exitCode, out: text(attack.stdout) }).toEqual({ exit: 0, out: 'sent\n' });
      expect(text(attack.stderr).match(/Operation not permitted/g)).toHaveLength(4);
      expect({ exit: next.exitCode, killed: next.killedBy, out: text(next.stdout) }).toEqual({ exit: 0, killed: null, out: 'alive\n' });
    });
    it('cannot send STOP, which the kernel would deliver while the tracer traces pid 1: seccomp refuses any signal to pid 1', async () => {
      const sandbox = await createSandbox(spec());
      const attack = await sandbox.run(
        {
          kind: 'python',
          code: 'import os, signal\nfor send in (lambda: os.kill(1, signal.SIGSTOP), lambda: os.pidfd_open(1), lambda: signal.pidfd_send_signal(os.open("/proc/1", os.O_DIRECTORY), signal.SIGSTOP)):\n    try:\n        send()\n        print("sent")\n    except PermissionError:\n        print("EPERM")\n',
        },
        { timeoutMs: 2000 },
      );
      const next = await sandbox.run({ kind: 'bash', command: 'echo alive' });
      await sandbox.destroy();
      expect({ killed: attack.killedBy, out: text(attack.stdout) }).toEqual({ killed: null, out: 'EPERM\nEPERM\nEPERM\n' });
      expect(text(next.stdout)).toBe('alive\n');
    });
  });

  describe('when several calls run in one sandbox', () => {
    it('shares /work between them, but not background processes', async () => {
      const sandbox = await createSandbox(spec());
      await sandbox.run({ kind: 'bash', command: 'echo kept > /work/state; (sleep 60 &) ; sleep 60 & disown; true' });
      const second = await sandbox.run({ kind: 'bash', command: 'cat /work/state; ps -e -o comm= | grep -c sleep || true' });
      expect(text(second.stdout)).toBe('kept\n0\n');
      await sandbox.destroy();
    });
  });

  describe('when a call writes more than the output cap', () => {
    it('keeps the first bytes, counts them all, and says it truncated', async () => {
      const sandbox = await createSandbox(spec());
      const outcome = await sandbox.run({ kind: 'python', code: 'import sys\nsys.stdout.write("x" * 50000)\n' });
      expect(outcome.stdout.length).toBe(4096);
      expect(outcome.stdoutBytes).toBe(50000);
      expect(outcome.truncated).toBe(true);
      await sandbox.destroy();
    });

    it('kills an endless stream past the hard cap with killed_by output_limit (THREATS B22)', async () => {
      const sandbox = await createSandbox(spec());
      const outcome = await sandbox.run({ kind: 'bash', command: 'yes' });
      expect(outcome.killedBy).toBe('output_limit');
      await sandbox.destroy();
    });
  });

  describe('when a call overruns the deadline', () => {
    it('is killed with killed_by timeout', async () => {
      const sandbox = await createSandbox(spec());
      const outcome = await sandbox.run({ kind: 'bash', command: 'trap "" TERM; sleep 30' }, { timeoutMs: 500 });
      expect(outcome).toMatchObject({ killedBy: 'timeout', exitCode: null });
      await sandbox.destroy();
    });
  });

  describe('when a call allocates past the memory limit (THREATS B19)', () => {
    it('is killed with killed_by memory and the sandbox reports it', async () => {
      const sandbox = await createSandbox(spec({ limits: { ...spec().limits, memoryMb: 64 } }));
      const outcome = await sandbox.run({ kind: 'python', code: 'x = bytearray(512 * 1024 * 1024)\nprint(len(x))\n' });
      expect(outcome.killedBy).toBe('memory');
      await sandbox.destroy();
    });
  });

  describe('when a call hits the process cap or fills its tmpfs', () => {
    it('is recorded as killed_by pids, and killed_by disk', async () => {
      const sandbox = await createSandbox(spec({ limits: { ...spec().limits, maxProcesses: 16 } }));
      const bomb = await sandbox.run({
        kind: 'python',
        code: 'import os, time\nfor _ in range(64):\n    try:\n        if os.fork() == 0:\n            time.sleep(5); os._exit(0)\n    except OSError:\n        break\nprint("done")',
      });
      const fill = await sandbox.run({ kind: 'bash', command: 'cat /dev/zero > /work/fill; echo "exit $?"' });
      await sandbox.destroy();
      expect(bomb).toMatchObject({ killedBy: 'pids', exitCode: null });
      expect(fill).toMatchObject({ killedBy: 'disk', exitCode: null });
    });
  });

  describe('when the sandbox is destroyed', () => {
    it('leaves no process, releases its namespaces and zeroes the dataset buffer', async () => {
      const marker = `ephemera-marker-${randomBytes(4).toString('hex')}`;
      const s = spec();
      const sandbox = await createSandbox(s);
      void sandbox.run({ kind: 'bash', command: `exec -a ${marker} sleep 60` }).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const report = await sandbox.destroy();
      expect(report).toMatchObject({ processesRemaining: 0, workspaceReleased: true, tmpfsReleased: true, datasetBytesZeroed: s.dataset.length });
      expect(s.dataset.every((b) => b === 0)).toBe(true);
      expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
      await expect(sandbox.run({ kind: 'bash', command: 'true' })).rejects.toMatchObject({ code: 'SANDBOX_DESTROYED' });
    });
  });

  describe('when two sandboxes run at once (THREATS A11)', () => {
    it("neither sees the other's files or processes", async () => {
      const [a, b] = await Promise.all([createSandbox(spec()), createSandbox(spec())]);
      await a.run({ kind: 'bash', command: 'echo secret-a > /work/a; exec -a only-in-a sleep 5 &' });
      const seen = await b.run({ kind: 'bash', command: 'ls /work; ps -eo args' });
      expect(text(seen.stdout)).not.toMatch(/secret-a|only-in-a|\ba\n/);
      await Promise.all([a.destroy(), b.destroy()]);
    });
  });

  describe('when a file is read through the read-only helpers', () => {
    it('reads regular files with a cap and refuses symlinks (THREATS A6)', async () => {
      const sandbox = await createSandbox(spec());
      await sandbox.run({ kind: 'bash', command: 'printf 0123456789 > /work/f; ln -s /etc/passwd /work/link' });
      expect(await sandbox.readFile('/work/f', 4)).toEqual({ content: new TextEncoder().encode('0123'), truncated: true });
      await expect(sandbox.readFile('/work/link', 100)).rejects.toMatchObject({ code: 'SANDBOX_FILE_UNREADABLE' });
      await sandbox.destroy();
    });
  });
});
