// Writes reports/mutation/summary.txt from Stryker's JSON report (reports/mutation/mutation.json): the mutation score per file and overall.
// Run by `npm run mutation` after Stryker; `tsx scripts/mutation-summary.ts [report.json] [summary.txt]` reads and writes other paths.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface MutantResult {
  status: 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';
}
interface Report {
  files: Record<string, { mutants: MutantResult[] }>;
}

const root = join(import.meta.dirname, '..');
const input = process.argv[2] ?? join(root, 'reports/mutation/mutation.json');
const output = process.argv[3] ?? join(root, 'reports/mutation/summary.txt');
const report = JSON.parse(readFileSync(input, 'utf8')) as Report;

interface Tally {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  errors: number;
  ignored: number;
}
const empty = (): Tally => ({ killed: 0, timeout: 0, survived: 0, noCoverage: 0, errors: 0, ignored: 0 });

function tally(mutants: readonly MutantResult[], into: Tally = empty()): Tally {
  for (const { status } of mutants) {
    if (status === 'Killed') into.killed += 1;
    else if (status === 'Timeout') into.timeout += 1;
    else if (status === 'Survived') into.survived += 1;
    else if (status === 'NoCoverage') into.noCoverage += 1;
    else if (status === 'CompileError' || status === 'RuntimeError') into.errors += 1;
    else if (status === 'Ignored') into.ignored += 1;
  }
  return into;
}

/** Stryker's mutation score: detected (killed, timed out) over valid (detected, survived, not covered). */
function score(t: Tally): string {
  const detected = t.killed + t.timeout;
  const valid = detected + t.survived + t.noCoverage;
  return valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(2)} %`;
}

const header = ['file', 'score', 'killed', 'timeout', 'survived', 'no cov', 'errors', 'ignored'];
const rows: string[][] = [];
const total = empty();
for (const name of Object.keys(report.files).sort()) {
  const t = tally(report.files[name]!.mutants);
  tally(report.files[name]!.mutants, total);
  const shown = name.startsWith('/') ? relative(root, name) : name;
  rows.push([shown, score(t), ...[t.killed, t.timeout, t.survived, t.noCoverage, t.errors, t.ignored].map(String)]);
}
rows.push(['all files', score(total), ...[total.killed, total.timeout, total.survived, total.noCoverage, total.errors, total.ignored].map(String)]);

const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells
    .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
    .join('  ')
    .trimEnd();
const rule = widths.map((w) => '-'.repeat(w)).join('  ');
const text = [
  'Mutation score of the certificate verifier (Stryker, unit tests only: npm run mutation)',
  'score = (killed + timeout) / (killed + timeout + survived + no coverage); ignored mutants carry a // Stryker disable comment',
  '',
  line(header),
  rule,
  ...rows.slice(0, -1).map(line),
  rule,
  line(rows.at(-1)!),
  '',
].join('\n');
writeFileSync(output, text);
process.stdout.write(text);
