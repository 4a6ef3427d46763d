/**
 * `npm run bench`: runs every bench module, prints a table, writes
 * bench/results.json. Figures, never assertions: tests do not time things.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { arch, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchRow } from './types.js';

/** Bench modules, in order; each exports `bench()`. Parts that are absent are skipped by name. */
const ALL_MODULES = ['core', 'verify', 'execute', 'sandbox', 'kafka', 'clickhouse', 'web'];
/** BENCH_MODULES=verify,core runs only those (results.json then holds only them). */
const MODULES = process.env.BENCH_MODULES ? ALL_MODULES.filter((name) => process.env.BENCH_MODULES!.split(',').includes(name)) : ALL_MODULES;

const results: Record<string, BenchRow[] | { error: string }> = {};
for (const name of MODULES) {
  const file = join(import.meta.dirname, `${name}.ts`);
  if (!existsSync(file)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  try {
    const mod = (await import(file)) as { bench: () => Promise<BenchRow[]> };
    results[name] = await mod.bench();
  } catch (error) {
    results[name] = { error: error instanceof Error ? error.message : String(error) };
  }
}

const machine = {
  node: process.version,
  arch: arch(),
  kernel: release(),
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memory_gib: Math.round(totalmem() / 2 ** 30),
};
writeFileSync(join(import.meta.dirname, 'results.json'), `${JSON.stringify({ at: new Date().toISOString(), machine, results }, null, 2)}\n`);

const width = 64;
for (const [name, rows] of Object.entries(results)) {
  process.stdout.write(`\n${name}\n`);
  if (!Array.isArray(rows)) {
    process.stdout.write(`  failed: ${rows.error}\n`);
    continue;
  }
  for (const row of rows)
    process.stdout.write(`  ${row.name.padEnd(width)} ${String(row.value).padStart(12)} ${row.unit}${row.note ? `   (${row.note})` : ''}\n`);
}
process.stdout.write(`\nwritten to bench/results.json\n`);
