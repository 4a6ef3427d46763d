/**
 * The `sql` tool's engine (docs/sql-tool.md §6; issue 22): SQLite in memory through /usr/bin/python3's sqlite3,
 * loaded the way the runner loads a CSV (csv module, column types inferred from every value, then executemany
 * into typed columns), on a 1e6-row CSV and a 256 MiB one: load time per MiB against parsing the same file with
 * the csv module alone (the floor no loader can beat), a group-by, and the interpreter's peak RSS. DuckDB, the
 * engine it was weighed against, is not a dependency: its figures were measured outside the repository and are
 * recorded, with their method, in docs/sql-tool.md §6.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createSandbox } from '../src/sandbox/index.js';
import { againstFloor, type BenchOptions, type BenchRow } from './types.js';

const MIB = 2 ** 20;
const GROUP_BY = 'SELECT k, count(*), avg(v) FROM dataset GROUP BY k';
const RUNNER = join(import.meta.dirname, '..', 'src', 'sandbox', 'sql', 'ephemera_sql.py');

/**
 * Writes `id,k,v,d,note` records (about 50 bytes each: an integer, one of 1,000 keys, a real, a date and a quoted
 * text with a comma) until `count` records or `bytes` bytes. Deterministic, so another engine can load the same bytes.
 */
function writeCsv(path: string, limit: { count: number } | { bytes: number }): { bytes: number; count: number } {
  const days = Array.from({ length: 1461 }, (_, i) => new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10));
  const fd = openSync(path, 'w');
  let written = 0;
  let count = 0;
  let chunk = 'id,k,v,d,note\n';
  try {
    for (;;) {
      const line = `${count},k${(count * 7919) % 1000},${((count * 104729) % 1000003) / 100},${days[count % days.length]},"visit ${count % 7}, routine"\n`;
      if ('count' in limit ? count === limit.count : written + chunk.length + line.length > limit.bytes) break;
      chunk += line;
      count++;
      if (chunk.length >= MIB) {
        written += writeSync(fd, chunk, null, 'latin1');
        chunk = '';
      }
    }
    written += writeSync(fd, chunk, null, 'latin1');
  } finally {
    closeSync(fd);
  }
  return { bytes: written, count };
}

/**
 * The runner's way, inlined (the runner is src/sandbox/sql/ephemera_sql.py): one pass infers each column's
 * narrowest type (INTEGER, REAL, DATE, TEXT; empty is NULL), a second converts and inserts, so memory holds the
 * table, not the records. The first query is the figure (a runner call loads, answers one query, exits); repeats
 * are timed too, since on a large table SQLite's repeated group-by runs about twice as long as its first.
 * Prints timings in seconds and the peak RSS in KiB as one JSON object.
 */
const PYTHON = String.raw`
import csv, datetime, json, re, resource, sqlite3, sys, time
path, runs, query = sys.argv[1], int(sys.argv[2]), sys.argv[3]
INTEGER = re.compile(r'[+-]?[0-9]+\Z')
REAL = re.compile(r'[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z')
DATE = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}\Z')

def records():
    with open(path, newline='', encoding='utf-8') as f:
        yield from csv.reader(f, strict=True)

def is_integer(s):
    return INTEGER.match(s) is not None and -2**63 <= int(s) < 2**63

def is_date(s):
    if DATE.match(s) is None: return False
    try: datetime.date(int(s[:4]), int(s[5:7]), int(s[8:10])); return True
    except ValueError: return False

start = time.perf_counter()
for _ in records(): pass
parse_only = time.perf_counter() - start

start = time.perf_counter()
reader = records()
header = next(reader)
width = len(header)
fits = [{'INTEGER': True, 'REAL': True, 'DATE': True} for _ in header]
checks = {'INTEGER': is_integer, 'REAL': lambda s: REAL.match(s) is not None, 'DATE': is_date}
for number, record in enumerate(reader, 2):
    if len(record) != width: sys.exit('record %d has %d fields' % (number, len(record)))
    for value, fit in zip(record, fits):
        if value == '': continue
        for kind in [kind for kind, ok in fit.items() if ok]:
            if not checks[kind](value): fit[kind] = False
types = [next((kind for kind in ('INTEGER', 'REAL', 'DATE') if fit[kind]), 'TEXT') for fit in fits]
infer = time.perf_counter() - start

start = time.perf_counter()
db = sqlite3.connect(':memory:')
db.execute('PRAGMA temp_store = MEMORY')
db.execute('CREATE TABLE dataset (%s)' % ', '.join('"%s" %s' % (name.replace('"', '""'), kind) for name, kind in zip(header, types)))
convert = [{'INTEGER': int, 'REAL': float}.get(kind, str) for kind in types]
reader = records()
next(reader)
db.executemany('INSERT INTO dataset VALUES (%s)' % ', '.join('?' * width),
               ([None if value == '' else c(value) for c, value in zip(convert, record)] for record in reader))
db.commit()
insert = time.perf_counter() - start
rows = db.execute('SELECT count(*) FROM dataset').fetchone()[0]

times = []
for _ in range(runs + 1):
    start = time.perf_counter()
    groups = len(db.execute(query).fetchall())
    times.append(time.perf_counter() - start)
repeated = sorted(times[1:])
print(json.dumps({'parse_only': parse_only, 'infer': infer, 'insert': insert, 'rows': rows, 'types': types,
                  'group_by': times[0], 'repeated': repeated[len(repeated) // 2], 'groups': groups,
                  'peak_rss_kib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, 'sqlite': sqlite3.sqlite_version}))
`;

interface SqliteRun {
  parse_only: number;
  infer: number;
  insert: number;
  rows: number;
  types: string[];
  group_by: number;
  repeated: number;
  groups: number;
  peak_rss_kib: number;
  sqlite: string;
}

function runSqlite(csvPath: string, runs: number): SqliteRun {
  const out = execFileSync('/usr/bin/python3', ['-I', '-S', '-c', PYTHON, csvPath, String(runs), GROUP_BY], {
    encoding: 'utf8',
    maxBuffer: MIB,
  });
  return JSON.parse(out) as SqliteRun;
}

/** The runner outside any sandbox, kept open (--serve) as the tool keeps it: seconds for each query, in order. */
async function servedOutside(csvPath: string, queries: string[]): Promise<number[]> {
  const engine = spawn('/usr/bin/python3', ['-I', '-S', RUNNER, '--serve', csvPath, 'csv'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: engine.stdout! })[Symbol.asyncIterator]();
  const seconds: number[] = [];
  try {
    if ((await lines.next()).value !== '{"ready":true}') throw new Error('the runner did not say it is ready');
    for (const query of queries) {
      const started = performance.now();
      engine.stdin!.write(`${JSON.stringify({ query, max_rows: 1000, max_bytes: 65536, max_ms: 600_000 })}\n`);
      const { value } = await lines.next();
      if (!String(value).includes('"row_count":1000')) throw new Error(`the runner answered ${String(value).slice(0, 200)}`);
      seconds.push((performance.now() - started) / 1000);
    }
  } finally {
    engine.kill();
  }
  return seconds;
}

/** The same queries through the tool: a real sandbox offering sql, the model's way (one direct call each). */
async function throughTheTool(csvPath: string, queries: string[]): Promise<number[]> {
  const sandbox = await createSandbox({
    executionId: `bench-sql-${Date.now()}`,
    dataset: new Uint8Array(readFileSync(csvPath)),
    datasetFile: 'dataset.csv',
    scripts: [],
    limits: { timeoutMs: 600_000, memoryMb: 2048, maxProcesses: 64, cpuSeconds: 1200, workBytes: 8 * MIB, outBytes: MIB, outputBytes: MIB, maxOpenFiles: 64 },
    networkAllow: [],
    sql: { format: 'csv', maxSeconds: 600 },
  });
  const seconds: number[] = [];
  try {
    for (const query of queries) {
      const started = performance.now();
      const outcome = await sandbox.run({ kind: 'sql', query, max_rows: 1000, max_bytes: 65536, max_seconds: 600 });
      if (outcome.sql?.rows !== 1000) throw new Error(`the tool answered ${Buffer.from(outcome.stdout).toString().slice(0, 200)}`);
      seconds.push((performance.now() - started) / 1000);
    }
  } finally {
    await sandbox.destroy();
  }
  return seconds;
}

/**
 * The figure: the group-by through the tool against the same engine outside the sandbox (goal ≤ 1.3x), for
 * the first query (it loads the dataset) and a query on the loaded engine; and the load through the tool per MiB.
 */
async function toolRows(csvPath: string, label: string, mib: number, quick: boolean): Promise<BenchRow[]> {
  const queries = Array.from({ length: quick ? 2 : 4 }, () => GROUP_BY);
  const outside = await servedOutside(csvPath, queries);
  const inside = await throughTheTool(csvPath, queries);
  const warm = (s: number[]) => median(s.slice(1)) * 1000;
  return [
    againstFloor(
      { name: `sql tool, first group-by (loads the dataset), ${label}, through the sandbox`, value: +(inside[0]! * 1000).toFixed(0), unit: 'ms' },
      { name: 'the same runner outside the sandbox', value: +(outside[0]! * 1000).toFixed(0), unit: 'ms' },
      { text: '≤ 1.3x the same engine outside the sandbox', ratioAtMost: 1.3 },
    ),
    againstFloor(
      { name: `sql tool, the group-by again on the loaded engine, ${label}, through the sandbox (median)`, value: +warm(inside).toFixed(0), unit: 'ms' },
      { name: 'the same runner outside the sandbox', value: +warm(outside).toFixed(0), unit: 'ms' },
      { text: '≤ 1.3x the same engine outside the sandbox', ratioAtMost: 1.3 },
    ),
    {
      name: `sql tool load per MiB, ${label}: the first call less a warm one`,
      value: +((inside[0]! * 1000 - warm(inside)) / mib).toFixed(1),
      unit: 'ms/MiB',
    },
  ];
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function bench({ quick }: BenchOptions): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-bench-sql-'));
  const rows: BenchRow[] = [];
  try {
    // One dataset on disk and one engine run at a time: the 256 MiB table alone is several hundred MiB of RSS.
    for (const limit of [{ count: quick ? 100_000 : 1_000_000 }, { bytes: (quick ? 16 : 256) * MIB }]) {
      const path = join(dir, 'dataset.csv');
      const { count } = writeCsv(path, limit);
      const mib = statSync(path).size / MIB;
      const run = runSqlite(path, quick ? 1 : 3);
      const label = `${count} CSV records (${mib.toFixed(0)} MiB)`;
      // Through the tool on the 1e6-record file (the size); 256 MiB would be minutes per run.
      const tool = 'count' in limit ? await toolRows(path, label, mib, quick) : [];
      rmSync(path);
      if (run.rows !== count || run.groups !== 1000) throw new Error(`loaded ${run.rows} rows in ${run.groups} groups, wrote ${count}`);
      const load = run.infer + run.insert;
      rows.push(
        againstFloor(
          { name: `SQLite ${run.sqlite} load per MiB, ${label}: infer types, then executemany`, value: +((load * 1000) / mib).toFixed(1), unit: 'ms/MiB' },
          { name: 'python3 csv.reader over the same file alone, per MiB', value: +((run.parse_only * 1000) / mib).toFixed(1), unit: 'ms/MiB' },
        ),
        {
          name: `  of which the type-inference pass, ${label}`,
          value: +(run.infer * 1000).toFixed(0),
          unit: 'ms',
          note: `types ${run.types.join(', ')}; the insert pass took ${(run.insert * 1000).toFixed(0)} ms`,
        },
        {
          name: `SQLite group-by, ${label}, the first query after loading (one runner call): ${GROUP_BY}`,
          value: +(run.group_by * 1000).toFixed(0),
          unit: 'ms',
          note: `1,000 groups; the same query repeated on that connection: ${(run.repeated * 1000).toFixed(0)} ms (median)`,
        },
        { name: `python3 peak RSS, ${label} loaded in memory`, value: +(run.peak_rss_kib / 1024).toFixed(0), unit: 'MiB' },
        ...tool,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
