/**
 * The cost of file tracing (one strace -f --seccomp-bpf outside the sandbox,
 * around it) on the same workloads in two sandboxes, traced against untraced.
 * Target: at most 1.4x; the per-process residue (fork, exec, loader opens) is
 * what short multi-process calls pay.
 */
import { ulid } from 'ulid';
import { createSandbox } from '../src/sandbox/index.js';
import { limitsFor } from '../src/commands/execute/index.js';
import type { ToolCall } from '../src/sandbox/types.js';
import { againstFloor, medianOf, timed, type BenchOptions, type BenchRow } from './types.js';

const DATA = new TextEncoder().encode(
  Array.from({ length: 400_000 }, (_, i) => `row ${i},name${i % 97},${100 + (i % 900)}-${10 + (i % 89)}-${1000 + (i % 8999)}\n`).join(''),
);
const WORKLOADS: [string, ToolCall][] = [
  ['grep -c over a 12 MB dataset', { kind: 'grep', args: ['-cE', '[0-9]{3}-[0-9]{2}-[0-9]{4}', '/data/dataset.csv'] }],
  [
    'python: scan the dataset with a regex',
    { kind: 'python', code: 'import re\nprint(len(re.findall(r"\\d{3}-\\d{2}-\\d{4}", open("/data/dataset.csv").read())))' },
  ],
  ['dd 16 MiB in 4 KiB blocks into /work', { kind: 'bash', command: 'dd if=/dev/zero of=/work/blob bs=4k count=4096 status=none; rm /work/blob' }],
  // The floor: a call that does nothing pays the tracer's per-process cost (fork, exec, loader opens) alone.
  ['python: start and exit (the shortest call)', { kind: 'python', code: 'pass' }],
];

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const limits = { ...limitsFor({ timeout_seconds: 60, max_memory_mb: 512 }), workBytes: 64 << 20 };
  const sandboxes = await Promise.all(
    [true, false].map((fileTracing) =>
      createSandbox({ executionId: ulid(), dataset: DATA.slice(), datasetFile: 'dataset.csv', scripts: [], limits, networkAllow: [], fileTracing }),
    ),
  );
  try {
    for (const [name, call] of WORKLOADS) {
      // Alternating runs, so drift on a shared machine hits both sides alike.
      const times: [number[], number[]] = [[], []];
      for (let i = 0; i < (options.quick ? 6 : 16); i++) {
        for (const side of [0, 1] as const) times[side].push((await timed(() => sandboxes[side]!.run(call))).ms);
      }
      const [traced, plain] = times.map((t) => medianOf(t.slice(1)));
      rows.push(
        againstFloor(
          { name: `file tracing: ${name}`, value: +traced.toFixed(1), unit: 'ms' },
          { name: 'the same call untraced', value: +plain.toFixed(1), unit: 'ms' },
          { text: '≤ 1.4x untraced', ratioAtMost: 1.4 },
        ),
      );
    }
  } finally {
    await Promise.all(sandboxes.map((s) => s.destroy()));
  }
  return rows;
}
