/** Runs one bench module (bench/run.ts starts one process per module): `module.ts <name> <rows file> [--quick]`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchOptions, BenchRow } from './types.js';

const [name, rowsFile] = process.argv.slice(2) as [string, string];
let rows: BenchRow[] | { error: string };
try {
  const mod = (await import(join(import.meta.dirname, `${name}.ts`))) as { bench: (options: BenchOptions) => Promise<BenchRow[]> };
  rows = await mod.bench({ quick: process.argv.includes('--quick') });
} catch (error) {
  rows = { error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
writeFileSync(rowsFile, JSON.stringify(rows));
process.exit(0);
