/** The trace reader on strace lines written to its FIFO, as the tracer would. */
import { appendFileSync, existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FileTrace } from './file-trace.js';
import { takeTraceFifo } from './trace-fifo.js';

const open = (pid: number, path: string, flags = 'O_RDONLY') => `${pid} openat(AT_FDCWD, "${path}", ${flags}) = 3\n`;
const mark = (pid: number, name: string) =>
  `${pid} openat(AT_FDCWD, "/run/ephemera/mark/${name}", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n`;

let trace: FileTrace;
afterEach(() => trace?.close());

describe('FileTrace', () => {
  describe('when markers come before the supervisor announced itself, or from another pid', () => {
    it('ignores them: only the pid of the first ready marker delimits calls', async () => {
      trace = new FileTrace(await takeTraceFifo());
      appendFileSync(
        trace.output,
        mark(7, 'begin-1') +
          mark(10, 'ready') +
          mark(11, 'ready') +
          mark(10, 'begin-1') +
          open(12, '/data/a') +
          mark(12, 'end-1') +
          open(12, '/data/b') +
          mark(10, 'end-1'),
      );
      await trace.ready(2000);
      expect(await trace.callFiles(1, 2000)).toEqual([
        { op: 'read', path: '/data/a', count: 1 },
        { op: 'read', path: '/data/b', count: 1 },
      ]);
    });
  });

  describe('when processes interleave', () => {
    it("counts unfinished lines, skips resumed halves, the supervisor's own lines and system reads", async () => {
      trace = new FileTrace(await takeTraceFifo());
      appendFileSync(
        trace.output,
        mark(10, 'ready') +
          mark(10, 'begin-2') +
          '12 openat(AT_FDCWD, "/data/a", O_RDONLY <unfinished ...>\n' +
          '13 execve("/usr/bin/cat", ["cat"], 0x0 /* 4 vars */) = 0\n' +
          '12 <... openat resumed>) = 3\n' +
          open(13, 'out.txt', 'O_WRONLY|O_CREAT|O_TRUNC, 0666') +
          open(13, '/usr/lib/libc.so.6') +
          open(10, '/run/ephemera/call-1.sh', 'O_WRONLY|O_CREAT') +
          open(10, '/work/secret') +
          '13 renameat2(AT_FDCWD, "/work/x", AT_FDCWD, "/out/y", 0) = 0\n' +
          mark(10, 'end-2'),
      );
      await trace.ready(2000);
      expect(await trace.callFiles(2, 2000)).toEqual([
        { op: 'delete', path: '/work/x', count: 1 },
        { op: 'exec', path: '/usr/bin/cat', count: 1 },
        { op: 'read', path: '/data/a', count: 1 },
        { op: 'write', path: '/out/y', count: 1 },
        { op: 'write', path: '/work/out.txt', count: 1 },
      ]);
    });
  });

  describe('when a call touches more than 256 paths', () => {
    it('keeps the 256 most frequent and counts the rest in one entry', async () => {
      trace = new FileTrace(await takeTraceFifo());
      const many = Array.from({ length: 300 }, (_, i) => open(12, `/work/f${String(i).padStart(3, '0')}`)).join('');
      appendFileSync(trace.output, mark(10, 'ready') + mark(10, 'begin-1') + open(12, '/work/f299') + many + mark(10, 'end-1'));
      await trace.ready(2000);
      const files = await trace.callFiles(1, 2000);
      expect(files).toHaveLength(257);
      expect(files[0]).toEqual({ op: 'read', path: '/work/f299', count: 2 });
      expect(files.at(-1)).toEqual({ op: 'read', path: '(44 more paths)', count: 44 });
    });
  });

  describe('when the tracer never reports', () => {
    it('times out rather than answering with an empty trace, and close() removes the FIFO', async () => {
      trace = new FileTrace(await takeTraceFifo());
      await expect(trace.ready(100)).rejects.toThrow(/did not report/);
      await expect(trace.callFiles(1, 100)).rejects.toThrow(/did not report/);
      trace.close();
      expect(existsSync(trace.output)).toBe(false);
    });
  });
});
