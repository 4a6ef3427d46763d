/**
 * The sql tool's runner (ephemera_sql.py, docs/sql-tool.md §2–5), run as the sandbox runs it: the host's
 * /usr/bin/python3 on a dataset file, the query on stdin. Typed loading, exact answers, caps, every error
 * code, and the escape probes: each refused with its code, and no file appears anywhere it could write.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const RUNNER = join(import.meta.dirname, 'ephemera_sql.py');
/** As the sandbox runs Python: isolated (no user site, no PYTHON* variables) and without site. */
const PYTHON = ['-I', '-S', RUNNER];
const dir = mkdtempSync(join(tmpdir(), 'ephemera-sql-'));
/** The runner's working directory: a probe that writes "in the working directory" writes here. */
const cwd = mkdtempSync(join(tmpdir(), 'ephemera-sql-cwd-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

interface Answer {
  table: string;
  schema: { name: string; type: string }[];
  columns: string[];
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
  bytes: number;
}
interface Outcome {
  status: number | null;
  out: { error?: { code: string; message: string } } & Partial<Answer>;
  stderr: string;
  raw: string;
}

let n = 0;
function dataset(content: string | Buffer, ext: string): string {
  const file = join(dir, `d${n++}.${ext}`);
  writeFileSync(file, content);
  return file;
}

function sql(file: string, format: string, query: string | Buffer, ...flags: string[]): Outcome {
  const r = spawnSync('/usr/bin/python3', [...PYTHON, file, format, ...flags], { input: query, cwd, encoding: 'utf8', timeout: 30_000 });
  const lines = r.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1); // exactly one JSON object, whatever happens
  return { status: r.status, out: JSON.parse(lines[0]!), stderr: r.stderr, raw: lines[0]! };
}

function answer(file: string, format: string, query: string, ...flags: string[]): Answer {
  const r = sql(file, format, query, ...flags);
  expect(r.out.error).toBeUndefined();
  expect(r.status).toBe(0);
  return r.out as Answer;
}

function refusal(file: string, format: string, query: string | Buffer, ...flags: string[]): string {
  const r = sql(file, format, query, ...flags);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe('');
  return r.out.error!.code;
}

const CSV = [
  'id,name,score,day,big,zip,when,empty',
  '1,ann,2.5,2024-01-05,123456789012345678901,007,2024-02-29,',
  '2,"bo, ""b""",3,2024-02-30,5,01,2024-12-31,',
  '3,"multi\nline",,2024-03-01,,,,',
  '-4,dee,1e3,x,9,10,2023-01-01,',
  '',
].join('\r\n');
const people = dataset(CSV, 'csv');

describe('typed loading', () => {
  it('csv: INTEGER, REAL, DATE and TEXT inferred per column; empty is NULL; quotes and line breaks per RFC 4180', () => {
    const a = answer(people, 'csv', 'SELECT * FROM dataset ORDER BY id');
    expect(a.table).toBe('dataset');
    expect(a.schema).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'name', type: 'TEXT' },
      { name: 'score', type: 'REAL' },
      { name: 'day', type: 'TEXT' }, // 2024-02-30 is not a date, and "x" is not either
      { name: 'big', type: 'TEXT' }, // beyond 64 bits: kept exactly, as TEXT
      { name: 'zip', type: 'TEXT' }, // leading zeros are codes, not numbers
      { name: 'when', type: 'DATE' },
      { name: 'empty', type: 'TEXT' },
    ]);
    expect(a.rows).toEqual([
      [-4, 'dee', 1000, 'x', '9', '10', '2023-01-01', null],
      [1, 'ann', 2.5, '2024-01-05', '123456789012345678901', '007', '2024-02-29', null],
      [2, 'bo, "b"', 3, '2024-02-30', '5', '01', '2024-12-31', null],
      [3, 'multi\nline', null, '2024-03-01', null, null, null, null],
    ]);
    expect(answer(people, 'csv', 'SELECT typeof(id), typeof(score), typeof("when"), typeof(big) FROM dataset WHERE id = 1').rows).toEqual([
      ['integer', 'real', 'text', 'text'],
    ]);
    // DATE is ISO text: it compares and sorts as dates, and the date functions take it.
    expect(answer(people, 'csv', `SELECT id FROM dataset WHERE "when" >= '2024-01-01' AND date("when", '+1 day') > '2024-03-01' ORDER BY id`).rows).toEqual([
      [2],
    ]);
  });

  it('csv: a type holds for every record, not a sample (one odd value late in a long column decides)', () => {
    const rows = Array.from({ length: 9000 }, (_, i) => `${i},${i}.5,${i},${i},2024-01-01`);
    rows.push('x,1e999,9223372036854775808,+7,2024-01-01');
    const a = answer(dataset(`a,b,c,d,e\n${rows.join('\n')}\n`, 'csv'), 'csv', 'SELECT a, b, c, d, typeof(d) FROM dataset WHERE rowid IN (1, 9001)');
    expect(a.schema.map((c) => c.type)).toEqual(['TEXT', 'TEXT', 'TEXT', 'INTEGER', 'DATE']);
    expect(a.rows).toEqual([
      ['0', '0.5', '0', 0, 'integer'],
      ['x', '1e999', '9223372036854775808', 7, 'integer'],
    ]);
  });

  it('an integer of 5,000 digits (past the 4,300 Python int() takes) is TEXT, in csv and in json', () => {
    const digits = '9'.repeat(5000);
    expect(answer(dataset(`n\n${digits}\n`, 'csv'), 'csv', 'SELECT length(n), typeof(n) FROM dataset').rows).toEqual([[5000, 'text']]);
    expect(answer(dataset(`{"n": ${digits}}\n`, 'json'), 'json', 'SELECT length(n), typeof(n) FROM dataset').rows).toEqual([[5000, 'text']]);
  });

  it('csv: empty and repeated column names are made unique; a BOM is not part of the first name', () => {
    const file = dataset('\ufeffa,,A,a\n1,2,3,4\n', 'csv');
    expect(answer(file, 'csv', 'SELECT * FROM dataset').schema.map((c) => c.name)).toEqual(['a', 'column_2', 'A_3', 'a_4']);
  });

  it('csv: a field longer than the csv module default limit (128 Ki characters) loads', () => {
    const long = 'y'.repeat(300_000);
    expect(answer(dataset(`a,b\n1,${long}\n`, 'csv'), 'csv', 'SELECT a, length(b) FROM dataset').rows).toEqual([[1, 300_000]]);
  });

  it('csv: a quote inside an unquoted field is a character (Python csv; the row splitter refuses it, docs/sql-tool.md §3)', () => {
    expect(answer(dataset('a\nx"y\n', 'csv'), 'csv', 'SELECT a FROM dataset').rows).toEqual([['x"y']]);
  });

  it('csv: a header alone is a table with no rows; an empty line is one empty field', () => {
    expect(answer(dataset('x\n', 'csv'), 'csv', 'SELECT count(*) FROM dataset').rows).toEqual([[0]]);
    expect(answer(dataset('x\n1\n\n2\n', 'csv'), 'csv', 'SELECT x FROM dataset').rows).toEqual([[1], [null], [2]]);
  });

  it('csv and JSON Lines: blank lines at the end of the file are no records; one inside says so', () => {
    expect(answer(dataset('id,name\r\n1,a\r\n2,b\r\n\r\n\n', 'csv'), 'csv', 'SELECT count(*) FROM dataset').rows).toEqual([[2]]);
    expect(answer(dataset('{"a":1}\n{"a":2}\n\n', 'json'), 'json', 'SELECT count(*) FROM dataset').rows).toEqual([[2]]);
    const inside = sql(dataset('id,name\n1,a\n\n2,b\n', 'csv'), 'csv', 'SELECT 1');
    expect(inside.out.error).toEqual({ code: 'SQL_DATASET_INVALID', message: 'csv record 3 is an empty line (the header has 2 fields)' });
    const short = sql(dataset('id,name\n1\n', 'csv'), 'csv', 'SELECT 1');
    expect(short.out.error?.message).toBe('csv record 2 has 1 field, the header has 2');
    // txt keeps every line: an empty last line is a line.
    expect(answer(dataset('a\n\n', 'txt'), 'txt', 'SELECT count(*) FROM dataset').rows).toEqual([[2]]);
  });

  it('says a query is empty when it is (blank, only comments, only a semicolon)', () => {
    for (const query of ['', '   ', '-- nothing\n', '/* nothing */', ';']) {
      expect(sql(dataset('x\n1\n', 'csv'), 'csv', query).out.error, JSON.stringify(query)).toEqual({
        code: 'SQL_QUERY_INVALID',
        message: 'the query is empty',
      });
    }
  });

  it('json: an array of objects, one column per member in order of first appearance, typed', () => {
    const file = dataset(
      JSON.stringify([
        { id: 1, ok: true, d: '2024-01-31', tags: ['a'], v: 1 },
        { id: 2, ok: false, d: null, extra: 'x', v: 2.5 },
        { id: 3, d: '2024-02-01', tags: { k: 1 }, v: null },
      ]),
      'json',
    );
    const a = answer(file, 'json', 'SELECT * FROM dataset ORDER BY id');
    expect(a.schema).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'ok', type: 'INTEGER' },
      { name: 'd', type: 'DATE' },
      { name: 'tags', type: 'TEXT' },
      { name: 'v', type: 'REAL' },
      { name: 'extra', type: 'TEXT' },
    ]);
    expect(a.rows).toEqual([
      [1, 1, '2024-01-31', '["a"]', 1, null],
      [2, 0, null, null, 2.5, 'x'],
      [3, null, '2024-02-01', '{"k":1}', null, null],
    ]);
    expect(answer(file, 'json', `SELECT json_extract(tags, '$.k') FROM dataset WHERE id = 3`).rows).toEqual([[1]]);
  });

  it('json: JSON Lines; a big integer or mixed types make TEXT holding the JSON', () => {
    const file = dataset('{"n": 18446744073709551616, "m": 1}\r\n{"n": 1, "m": "one"}\n', 'json');
    const a = answer(file, 'json', 'SELECT n, m, typeof(n) FROM dataset');
    expect(a.schema).toEqual([
      { name: 'n', type: 'TEXT' },
      { name: 'm', type: 'TEXT' },
    ]);
    expect(a.rows).toEqual([
      ['18446744073709551616', '1', 'text'],
      ['1', 'one', 'text'],
    ]);
  });

  it('txt: line_number and line; CRLF ends a line, a final terminator adds no line', () => {
    const a = answer(dataset('alpha\r\n\nbeta\rgamma\n', 'txt'), 'txt', 'SELECT * FROM dataset');
    expect(a.schema).toEqual([
      { name: 'line_number', type: 'INTEGER' },
      { name: 'line', type: 'TEXT' },
    ]);
    expect(a.rows).toEqual([
      [1, 'alpha'],
      [2, ''],
      [3, 'beta\rgamma'],
    ]);
  });
});

describe('queries', () => {
  const orders = dataset('order_id,customer,amount\n1,a,10\n2,b,5.5\n3,a,2\n4,c,1\n', 'csv');

  it('group-by with exact results', () => {
    const a = answer(orders, 'csv', 'SELECT customer, count(*) AS n, sum(amount) AS total FROM dataset GROUP BY customer ORDER BY total DESC');
    expect(a.columns).toEqual(['customer', 'n', 'total']);
    expect(a.rows).toEqual([
      ['a', 2, 12],
      ['b', 1, 5.5],
      ['c', 1, 1],
    ]);
    expect(a.row_count).toBe(3);
    expect(a.truncated).toBe(false);
    // bytes: the rows' JSON exactly as written (reals keep their ".0", so a reader can tell them from integers)
    const raw = sql(orders, 'csv', 'SELECT customer, count(*), sum(amount) FROM dataset GROUP BY customer ORDER BY 3 DESC').raw;
    expect(raw).toContain('"rows":[["a",2,12.0],["b",1,5.5],["c",1,1.0]],');
    expect(a.bytes).toBe('[["a",2,12.0],["b",1,5.5],["c",1,1.0]]'.length);
  });

  it('a self-join, a CTE, recursion, window functions and JSON table functions', () => {
    expect(
      answer(
        orders,
        'csv',
        'WITH big AS (SELECT * FROM dataset WHERE amount > 1) SELECT x.order_id, y.order_id FROM big x JOIN big y ON x.customer = y.customer AND x.order_id < y.order_id',
      ).rows,
    ).toEqual([[1, 3]]);
    expect(answer(orders, 'csv', 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5) SELECT sum(i) FROM c').rows).toEqual([[15]]);
    expect(answer(orders, 'csv', 'SELECT order_id, rank() OVER (ORDER BY amount DESC) FROM dataset ORDER BY order_id').rows).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(answer(orders, 'csv', `SELECT sum(value) FROM json_each('[1,2,3]')`).rows).toEqual([[6]]);
  });

  it('values: blobs as base64, non-finite reals as null; a comment before the query is fine', () => {
    expect(answer(orders, 'csv', "-- a note\n/* and another */ SELECT x'00ff', 1e999, -1e999, NULL;").rows).toEqual([[{ base64: 'AP8=' }, null, null, null]]);
  });
});

describe('caps', () => {
  const many = dataset(`n\n${Array.from({ length: 50 }, (_, i) => i).join('\n')}\n`, 'csv');

  it('--max-rows cuts and says so; exactly the cap is not truncated', () => {
    const a = answer(many, 'csv', 'SELECT n FROM dataset ORDER BY n', '--max-rows', '3');
    expect(a.rows).toEqual([[0], [1], [2]]);
    expect(a).toMatchObject({ row_count: 3, truncated: true });
    expect(answer(many, 'csv', 'SELECT n FROM dataset', '--max-rows', '50').truncated).toBe(false);
  });

  it('--max-bytes bounds the rows JSON', () => {
    const a = answer(many, 'csv', 'SELECT n FROM dataset ORDER BY n', '--max-bytes', '20');
    expect(a.rows).toEqual([[0], [1], [2], [3]]); // [[0],[1],[2],[3]] is 17 bytes; one more row is 21
    expect(a).toMatchObject({ row_count: 4, truncated: true, bytes: 17 });
  });

  it('the default caps: 1,000 rows', () => {
    const a = answer(many, 'csv', 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT i FROM c');
    expect(a).toMatchObject({ row_count: 1000, truncated: true });
  });

  it('--max-seconds interrupts a query that runs too long', () => {
    const code = refusal(many, 'csv', 'WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c) SELECT count(*) FROM c', '--max-seconds', '1');
    expect(code).toBe('SQL_QUERY_TIMEOUT');
  });
});

describe('errors', () => {
  it('SQL_DATASET_INVALID: bad quoting, ragged records, bad JSON, non-objects, not UTF-8, no columns; the message says where, not what', () => {
    const cases: [string | Buffer, string, string][] = [
      ['a,b\n"secret1"x,2\n', 'csv', 'record 2'],
      ['a,b\n"secret2,2\n', 'csv', 'record 2'],
      ['a,b\nsecret3\n', 'csv', 'record 2'],
      ['a,b\n1,2,secret4\n', 'csv', 'record 2'],
      ['', 'csv', 'header'],
      ['a\nsecret7\rx\n', 'csv', 'record 2'], // a lone CR in an unquoted field (docs/sql-tool.md §3)
      ['{"a":1}\n{"a": secret5}\n', 'json', 'line 2'],
      ['{"a":1}\n\n{"a":2}\n', 'json', 'line 2'],
      ['[{"a":1}, "secret6"]', 'json', 'record 2'],
      ['{"a": NaN}\n', 'json', 'line 1'],
      ['[]', 'json', 'no members'],
      [Buffer.from([0x61, 0x0a, 0xff, 0x0a]), 'txt', 'UTF-8'],
    ];
    for (const [content, format, where] of cases) {
      const r = sql(dataset(content, format), format, 'SELECT 1');
      expect(r.status, String(content)).toBe(2);
      expect(r.out.error!.code).toBe('SQL_DATASET_INVALID');
      expect(r.out.error!.message).toContain(where);
      expect(r.out.error!.message).not.toMatch(/secret|NaN/);
    }
    expect(refusal(join(dir, 'no-such-file.csv'), 'csv', 'SELECT 1')).toBe('SQL_DATASET_INVALID');
  });

  it('SQL_QUERY_INVALID: a parse error, a missing name, not a query, not UTF-8, a NUL', () => {
    for (const query of ['SELEC 1', 'SELECT nope FROM dataset', 'SELECT * FROM elsewhere', 'SELECT no_such_fn(1)', 'EXPLAIN SELECT 1', '', 'SELECT 1\0']) {
      expect(refusal(people, 'csv', query), query).toBe('SQL_QUERY_INVALID');
    }
    expect(refusal(people, 'csv', Buffer.from([0x53, 0xff]))).toBe('SQL_QUERY_INVALID');
  });

  it('SQL_QUERY_TOO_LARGE: over 64 KiB; exactly 64 KiB is read', () => {
    expect(refusal(people, 'csv', `SELECT 1 ${' '.repeat(64 * 1024)}`)).toBe('SQL_QUERY_TOO_LARGE');
    expect(answer(people, 'csv', `SELECT 1${' '.repeat(64 * 1024 - 8)}`).rows).toEqual([[1]]);
  });

  it('SQL_USAGE: an unknown format or flag, a bad number', () => {
    for (const args of [['xml'], ['csv', '--max-rows'], ['csv', '--max-rows', '0'], ['csv', '--max-rows', '1e3'], ['csv', '--nope', '1']]) {
      const r = spawnSync('/usr/bin/python3', [...PYTHON, people, ...args], { input: 'SELECT 1', cwd, encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('SQL_USAGE');
    }
  });
});

describe('escape probes (§5): each refused, and no file appears', () => {
  const outside = mkdtempSync(join(tmpdir(), 'ephemera-sql-outside-'));
  afterAll(() => rmSync(outside, { recursive: true, force: true }));
  const listing = () => [readdirSync(dir).sort(), readdirSync(cwd).sort(), readdirSync(outside).sort()];

  const probes: [string, string, string][] = [
    ['readfile', "SELECT readfile('/etc/passwd')", 'SQL_QUERY_REFUSED'],
    ['readfile in a WHERE', "SELECT 1 FROM dataset WHERE readfile('/etc/passwd') IS NOT NULL", 'SQL_QUERY_REFUSED'],
    ['writefile', "SELECT writefile('out.txt', 'x')", 'SQL_QUERY_REFUSED'],
    ['edit', "SELECT edit('x', 'vi')", 'SQL_QUERY_REFUSED'],
    ['load_extension', "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libsqlite3.so.0')", 'SQL_QUERY_REFUSED'],
    ['fts3_tokenizer', "SELECT fts3_tokenizer('simple')", 'SQL_QUERY_REFUSED'],
    ['ATTACH /etc/passwd', "ATTACH '/etc/passwd' AS p", 'SQL_QUERY_REFUSED'],
    ['ATTACH in the working directory', "ATTACH 'here.db' AS h", 'SQL_QUERY_REFUSED'],
    ['ATTACH outside it', `ATTACH '${join(outside, 'there.db')}' AS t`, 'SQL_QUERY_REFUSED'],
    ['ATTACH by URI', `ATTACH 'file:${join(outside, 'uri.db')}?mode=rwc' AS u`, 'SQL_QUERY_REFUSED'],
    ['VACUUM INTO here', "VACUUM INTO 'copy.db'", 'SQL_QUERY_REFUSED'],
    ['VACUUM INTO outside', `VACUUM INTO '${join(outside, 'copy.db')}'`, 'SQL_QUERY_REFUSED'],
    ['writing pragma', 'PRAGMA query_only = OFF', 'SQL_QUERY_REFUSED'],
    ['temp_store pragma', 'PRAGMA temp_store = FILE', 'SQL_QUERY_REFUSED'],
    ['pragma table function', "SELECT * FROM pragma_table_info('dataset')", 'SQL_QUERY_REFUSED'],
    ['CREATE', 'CREATE TABLE t (x)', 'SQL_QUERY_REFUSED'],
    ['CREATE TEMP', 'CREATE TEMP TABLE t AS SELECT * FROM dataset', 'SQL_QUERY_REFUSED'],
    ['INSERT', 'INSERT INTO dataset (id) VALUES (9)', 'SQL_QUERY_REFUSED'],
    ['DELETE', 'DELETE FROM dataset', 'SQL_QUERY_REFUSED'],
    ['DELETE behind WITH (the authorizer)', 'WITH x AS (SELECT 1) DELETE FROM dataset', 'SQL_QUERY_REFUSED'],
    ['UPDATE behind WITH (the authorizer)', 'WITH x AS (SELECT 1) UPDATE dataset SET id = 0', 'SQL_QUERY_REFUSED'],
    ['a transaction', 'BEGIN', 'SQL_QUERY_REFUSED'],
    ['two statements', "SELECT 1; ATTACH 'two.db' AS t", 'SQL_QUERY_INVALID'],
    ['two selects', 'SELECT 1; SELECT 2', 'SQL_QUERY_INVALID'],
  ];

  it.each(probes)('%s', (_, query, code) => {
    const before = listing();
    expect(refusal(people, 'csv', query)).toBe(code);
    expect(listing()).toEqual(before);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('the answer to a query never contains /etc/passwd', () => {
    const r = sql(people, 'csv', "SELECT group_concat(name) FROM dataset WHERE name LIKE '%root%'");
    expect(JSON.stringify(r.out)).not.toContain('root:x:0:0');
  });
});
