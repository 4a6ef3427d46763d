/**
 * `npm run bench`: runs every bench module, prints a table, writes bench/results.json with the facts of the
 * machine it ran on. `npm run bench -- --quick`: fewer repetitions and smaller sizes, under a minute, written
 * to bench/results.quick.json. BENCH_MODULES=core,kafka runs only those. Figures, never assertions: tests do
 * not time things.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import type { BenchOptions, BenchRow } from './types.js';

/** Bench modules, in order; each exports `bench(options)`. */
const ALL_MODULES = [
  'core',
  'verify',
  'cli',
  'execute',
  'sandbox',
  'kafka',
  'clickhouse',
  'web',
  'admission',
  'throughput',
  'sealed',
  'tlog',
  'tlog-log',
  'history',
  'rows',
  'sql',
];
const MODULES = process.env.BENCH_MODULES ? ALL_MODULES.filter((name) => process.env.BENCH_MODULES!.split(',').includes(name)) : ALL_MODULES;
const options: BenchOptions = { quick: process.argv.includes('--quick') };

const machineBefore = machine();
const startedAt = Date.now();
const results: Record<string, BenchRow[] | { error: string }> = {};
for (const name of MODULES) {
  process.stderr.write(`bench: ${name}…\n`);
  results[name] = runModule(name);
}

const out = join(import.meta.dirname, options.quick ? 'results.quick.json' : 'results.json');
const document = {
  at: new Date().toISOString(),
  mode: options.quick ? 'quick' : 'full',
  seconds: Math.round((Date.now() - startedAt) / 1000),
  machine: { ...machineBefore, loadavg_after: loadavg().map((l) => +l.toFixed(2)) },
  results,
};
writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);

const table = new Table({ head: ['figure', 'value', 'floor (same run)', 'ratio', 'goal', 'met'], wordWrap: true, colWidths: [58, 16, 16, 8, 22, 5] });
for (const [name, rows] of Object.entries(results)) {
  table.push([{ colSpan: 6, content: name }]);
  if (!Array.isArray(rows)) {
    table.push([{ colSpan: 6, content: `failed: ${rows.error.split('\n')[0]}` }]);
    continue;
  }
  for (const row of rows)
    table.push([
      row.name,
      `${row.value} ${row.unit}`,
      row.floor ? `${row.floor.value} ${row.floor.unit}` : '',
      row.ratio === undefined ? '' : `${row.ratio}x`,
      row.goal ?? '',
      row.met === undefined ? '' : row.met ? 'yes' : 'NO',
    ]);
}
process.stdout.write(`${table.toString()}\n${document.seconds} s; notes and the floors' names in ${out}\n`);

/**
 * Each module in a process of its own: one module's heap (a million events in memory) would otherwise slow the
 * next one's forks and inflate the peak memory its children report.
 */
function runModule(name: string): BenchRow[] | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-rows-'));
  const file = join(dir, 'rows.json');
  try {
    execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'module.ts'), name, file, ...(options.quick ? ['--quick'] : [])], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    return JSON.parse(readFileSync(file, 'utf8')) as BenchRow[] | { error: string };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the figures depend on: the machine, its load when the run began, and the versions of the parts it times. */
function machine() {
  const version = (file: string, args: string[]) => {
    try {
      return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .split('\n')[0]!
        .trim();
    } catch {
      return null;
    }
  };
  return {
    node: process.version,
    arch: arch(),
    kernel: release(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    loadavg_before: loadavg().map((l) => +l.toFixed(2)),
    bwrap: version('bwrap', ['--version']),
    strace: version('strace', ['--version']),
    python: version('python3', ['--version']),
    cgroup2: existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'unified at /sys/fs/cgroup' : existsSync('/sys/fs/cgroup/unified') ? 'hybrid' : 'none',
  };
}
