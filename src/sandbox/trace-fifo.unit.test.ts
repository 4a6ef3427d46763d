/** FIFOs for the tracer, made ahead: each fresh and private, and no spare outlives the process. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { takeTraceFifo } from './trace-fifo.js';

describe('takeTraceFifo', () => {
  it('gives a fresh FIFO (0600) in its own private directory (0700) each time, more at once than one batch holds', async () => {
    const taken = await Promise.all(Array.from({ length: 6 }, () => takeTraceFifo()));
    try {
      expect(new Set(taken.map((f) => f.dir)).size).toBe(6);
      for (const fifo of taken) {
        expect(statSync(fifo.path).isFIFO()).toBe(true);
        expect(statSync(fifo.path).mode & 0o777).toBe(0o600);
        expect(statSync(fifo.dir).mode & 0o777).toBe(0o700);
        expect(fifo.path).toBe(join(fifo.dir, 'trace.fifo'));
      }
    } finally {
      for (const fifo of taken) rmSync(fifo.dir, { recursive: true, force: true });
    }
  });

  it("makes them in batches, each ours until taken (then the given owner's), and removes the untaken ones when the process exits", () => {
    // As root (CI, the image) the tracer runs as uid 65534; otherwise as this process's own uid.
    const owner = process.getuid?.() === 0 ? 65534 : undefined;
    const tmp = mkdtempSync(join(tmpdir(), 'trace-fifo-test-'));
    try {
      // A process of its own, with a temporary directory of its own: what is left there after it exits is what it left.
      const script = `
        import { readdirSync, statSync } from 'node:fs';
        import { join } from 'node:path';
        import { takeTraceFifo } from './src/sandbox/trace-fifo.ts';
        const taken = await takeTraceFifo(${owner});
        const fifos = () => readdirSync(process.env.TMPDIR).filter((n) => n.startsWith('ephemera-trace-'));
        while (fifos().length < 4) await new Promise((r) => setTimeout(r, 10));
        const owners = Object.fromEntries(fifos().map((n) => [join(process.env.TMPDIR, n), statSync(join(process.env.TMPDIR, n, 'trace.fifo')).uid]));
        console.log(JSON.stringify({ taken: taken.dir, made: fifos(), owners }));`;
      const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: join(import.meta.dirname, '../..'),
        env: { ...process.env, TMPDIR: tmp },
        encoding: 'utf8',
      });
      const { taken, made, owners } = JSON.parse(out) as { taken: string; made: string[]; owners: Record<string, number> };
      expect(made).toHaveLength(4); // one mkfifo's batch: the taken one and three spares, ready before they are asked for
      const spares = made.map((name) => join(tmp, name)).filter((dir) => dir !== taken);
      expect(owners).toEqual({ [taken]: owner ?? process.getuid!(), ...Object.fromEntries(spares.map((dir) => [dir, process.getuid!()])) });
      expect(
        readdirSync(tmp)
          .filter((name) => name.startsWith('ephemera-trace-'))
          .map((name) => join(tmp, name)),
      ).toEqual([taken]); // the spares went with the process
      expect(statSync(join(taken, 'trace.fifo')).isFIFO()).toBe(true); // the taken one is its user's to remove
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
