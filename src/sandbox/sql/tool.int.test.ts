/**
 * The sql tool in a real bubblewrap sandbox (docs/sql-tool.md §7): a direct call (the model's) and the `sql`
 * command (a script's) reach one engine per run, loaded once; each of the command's queries is reported as a
 * nested call before its call's reply; the engine is bounded by the call's deadline and survives the end of
 * a call while every other process dies.
 */
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../types.js';
import { query, runCollecting, text, withSqlSandbox as withSandbox } from './testing/sql-sandbox.js';

const bash = (sandbox: Sandbox, command: string, timeoutMs?: number) => runCollecting(sandbox, { kind: 'bash', command }, timeoutMs);

describe('the sql tool in the sandbox', () => {
  it('answers a direct call with typed rows, loads the dataset once, and keeps the engine across calls', async () => {
    await withSandbox({}, async (sandbox) => {
      const first = await sandbox.run(query('SELECT id, name, amount, day FROM dataset ORDER BY id'));
      expect({ exit: first.exitCode, killed: first.killedBy, sql: first.sql }).toEqual({
        exit: 0,
        killed: null,
        sql: { rows: 3, bytes: 82, truncated: false, error_code: null }, // bytes: the rows as written, 4.0 included
      });
      const answer = JSON.parse(text(first.stdout));
      expect(answer.schema).toEqual([
        { name: 'id', type: 'INTEGER' },
        { name: 'name', type: 'TEXT' },
        { name: 'amount', type: 'REAL' },
        { name: 'day', type: 'DATE' },
      ]);
      expect(answer.rows).toEqual([
        [1, 'ann', 2.5, '2024-01-02'],
        [2, 'bob', 4, '2024-02-29'],
        [3, 'cy', null, '2024-03-01'],
      ]);
      expect(first.files).toContainEqual({ op: 'read', path: '/data/dataset.csv', count: 1 });
      // A bash call in between: every process it starts dies at its end, the engine does not.
      const between = await bash(sandbox, 'ps -e -o comm= | sort | uniq -c | tr -s " "');
      expect(text(between.outcome.stdout)).toMatch(/python3/);
      const second = await sandbox.run(query('SELECT sum(amount) AS total FROM dataset'));
      expect(JSON.parse(text(second.stdout)).rows).toEqual([[6.5]]);
      // Loaded once: the second query reads nothing, not even the engine's own source.
      expect(second.files.filter((f) => f.op === 'read' || f.op === 'exec')).toEqual([]);
    });
  });

  it('refuses what is not a read with its code, as a call that exited 2', async () => {
    await withSandbox({}, async (sandbox) => {
      const outcome = await sandbox.run(query("DELETE FROM dataset WHERE name = 'ann'"));
      expect({ exit: outcome.exitCode, sql: outcome.sql }).toEqual({ exit: 2, sql: { rows: 0, bytes: 0, truncated: false, error_code: 'SQL_QUERY_REFUSED' } });
      expect(JSON.parse(text(outcome.stdout)).error.code).toBe('SQL_QUERY_REFUSED');
      // One engine answers many queries: a refusal is its query's, not the next one's.
      const refusedCall = await sandbox.run(query("SELECT readfile('/etc/passwd')"));
      expect(refusedCall.sql?.error_code).toBe('SQL_QUERY_REFUSED');
      const typo = await sandbox.run(query('SELECT nme FROM dataset'));
      expect(JSON.parse(text(typo.stdout)).error).toEqual({ code: 'SQL_QUERY_INVALID', message: 'no such column: nme' });
      const after = await sandbox.run(query('SELECT count(*) FROM dataset'));
      expect(JSON.parse(text(after.stdout)).rows).toEqual([[3]]);
    });
  });

  it("reports each of a script's sql commands, in order, before the call's reply; JSON, CSV, refusals and caps", async () => {
    await withSandbox({}, async (sandbox) => {
      const { outcome, nested } = await bash(
        sandbox,
        [
          'set -u',
          'sql "SELECT count(*) AS n FROM dataset"',
          'sql --csv "SELECT name, amount FROM dataset ORDER BY id"',
          'echo "SELECT name FROM dataset ORDER BY id" | sql --max-rows 2 -',
          'sql "DROP TABLE dataset"; echo "refused with $?"',
        ].join('\n'),
      );
      expect(outcome.exitCode).toBe(0);
      const lines = text(outcome.stdout).trim().split('\n');
      expect(JSON.parse(lines[0]!).rows).toEqual([[3]]);
      expect(lines.slice(1, 5)).toEqual(['name,amount', 'ann,2.5', 'bob,4.0', 'cy,']);
      expect(JSON.parse(lines[5]!)).toMatchObject({ rows: [['ann'], ['bob']], truncated: true });
      expect(lines[6]).toBe('refused with 2');
      expect(text(outcome.stderr)).toContain('sql: SQL_QUERY_REFUSED: DROP is refused');
      expect(nested.map((c) => [c.query.trim(), c.exitCode, c.killedBy, c.sql?.rows, c.sql?.truncated, c.sql?.error_code])).toEqual([
        ['SELECT count(*) AS n FROM dataset', 0, null, 1, false, null],
        ['SELECT name, amount FROM dataset ORDER BY id', 0, null, 3, false, null],
        ['SELECT name FROM dataset ORDER BY id', 0, null, 2, true, null],
        ['DROP TABLE dataset', 2, null, 0, false, 'SQL_QUERY_REFUSED'],
      ]);
      // What each nested call answered is what its process received.
      expect(JSON.parse(text(nested[0]!.answer)).rows).toEqual([[3]]);
    });
  });

  it('answers concurrent sql commands, each reported once', async () => {
    await withSandbox({}, async (sandbox) => {
      const { outcome, nested } = await bash(
        sandbox,
        'for i in 1 2 3 4; do sql "SELECT $i AS n" > /work/out$i & done; wait; cat /work/out1 /work/out2 /work/out3 /work/out4',
      );
      expect(outcome.exitCode).toBe(0);
      expect(
        text(outcome.stdout)
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l).rows[0][0]),
      ).toEqual([1, 2, 3, 4]);
      expect(nested.map((c) => c.query).sort()).toEqual(['SELECT 1 AS n', 'SELECT 2 AS n', 'SELECT 3 AS n', 'SELECT 4 AS n']);
    });
  });

  it('answers a query past its own time cap with SQL_QUERY_TIMEOUT, leaving its call the rest of its time', async () => {
    await withSandbox({}, async (sandbox) => {
      const endless = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
      const { outcome, nested } = await bash(sandbox, `sql --max-seconds 1 "${endless}"; echo "then $?"`, 10_000);
      expect({ exit: outcome.exitCode, killed: outcome.killedBy, out: text(outcome.stdout) }).toEqual({ exit: 0, killed: null, out: 'then 2\n' });
      expect(text(outcome.stderr)).toContain('sql: SQL_QUERY_TIMEOUT: the query ran longer than 1 s');
      expect(nested.map((c) => [c.exitCode, c.killedBy, c.sql?.error_code])).toEqual([[2, null, 'SQL_QUERY_TIMEOUT']]);
      // The engine's CPU is the query's, not its parent's (no threshold: CPU time on a shared machine is no fixed share).
      expect(nested[0]!.cpuMs).toBeGreaterThan(0);
      expect(outcome.cpuMs).toBeLessThan(nested[0]!.cpuMs);
      // Within a call shorter than its cap, the cap shrinks to leave the call time to use the answer.
      const direct = await sandbox.run(query(endless), { timeoutMs: 1500 });
      expect({ exit: direct.exitCode, killed: direct.killedBy, code: direct.sql?.error_code }).toEqual({ exit: 2, killed: null, code: 'SQL_QUERY_TIMEOUT' });
    });
  });

  it("kills an engine that does not answer by its call's deadline: the nested call and its call are killed by the timeout, and a fresh engine answers next", async () => {
    await withSandbox({}, async (sandbox) => {
      await sandbox.run(query('SELECT 1'));
      // The supervisor resumes a stopped engine before each query: a loop stops it again at once, mid-query.
      const busy = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000) SELECT count(*) FROM c';
      const { outcome, nested } = await bash(sandbox, `(while true; do pkill -STOP -f ephemera_sql.py; sleep 0.005; done) & sql "${busy}"`, 1500);
      expect(outcome.killedBy).toBe('timeout');
      expect(nested.map((c) => [c.exitCode, c.killedBy, c.sql])).toEqual([[null, 'timeout', null]]);
      const next = await sandbox.run(query('SELECT count(*) FROM dataset'));
      expect(JSON.parse(text(next.stdout)).rows).toEqual([[3]]);
      expect(next.files).toContainEqual({ op: 'read', path: '/data/dataset.csv', count: 1 });
    });
  });

  it('starts a fresh engine when a tool killed it between queries', async () => {
    await withSandbox({}, async (sandbox) => {
      await sandbox.run(query('SELECT 1'));
      const kill = await bash(sandbox, 'pkill -KILL -f ephemera_sql.py; sleep 0.2; pgrep -f ephemera_sql.py || echo gone');
      expect(text(kill.outcome.stdout).trim()).toBe('gone');
      const after = await sandbox.run(query('SELECT count(*) FROM dataset'));
      expect({ exit: after.exitCode, rows: JSON.parse(text(after.stdout)).rows }).toEqual({ exit: 0, rows: [[3]] });
    });
  });

  it('turns away requests written by hand to the socket (not JSON, nested 100,000 deep), reporting nothing, and the call goes on', async () => {
    await withSandbox({}, async (sandbox) => {
      const send = (payload: string) =>
        `python3 -c 'import os, socket; s = socket.socket(socket.AF_UNIX); s.connect("\\0" + os.environ["EPHEMERA_SQL_SOCKET"]); s.sendall(${payload}); s.shutdown(socket.SHUT_WR); print(s.recv(1000).decode().strip())'`;
      const { outcome, nested } = await bash(sandbox, `${send('b"not json"')}; ${send('b"[" * 100000')}; echo still here; sql --help`);
      const [help, ...usage] = text(outcome.stdout).trim().split('\n').slice(3);
      expect({ help, usage: usage.find((l) => l.includes('sql [')) }).toEqual({
        help: "sql: ask the run's SQL engine a question about the dataset (docs/sql-tool.md §7).",
        usage: '    sql [--max-rows N] [--max-bytes N] [--max-seconds N] [--csv] [--] [QUERY | -]',
      });
      const lines = text(outcome.stdout).trim().split('\n');
      expect(lines.slice(0, 2).map((l) => JSON.parse(l).error.code)).toEqual(['SQL_USAGE', 'SQL_USAGE']);
      expect({ last: lines[2], exit: outcome.exitCode, killed: outcome.killedBy }).toEqual({ last: 'still here', exit: 0, killed: null });
      expect(nested).toEqual([]);
    });
  });

  it("records an engine a tool killed mid-query as lost (not as memory), and a fresh one answers the next call's queries", async () => {
    await withSandbox({}, async (sandbox) => {
      const busy = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000) SELECT count(*) FROM c';
      const { nested } = await bash(sandbox, `(sleep 0.3; pkill -KILL -f ephemera_sql.py) & sql "${busy}"; sql "SELECT 1"; wait`);
      expect(nested.map((c) => [c.killedBy, c.exitCode, c.sql?.error_code ?? null])).toEqual([
        ['sandbox_lost', null, null],
        [null, 1, 'SQL_RUNNER_FAILED'],
      ]);
      expect(JSON.parse(text(nested[1]!.answer)).error.message).toBe('the sql engine is not running (sandbox_lost): it starts again with the next call');
      const next = await sandbox.run(query('SELECT count(*) FROM dataset'));
      expect(JSON.parse(text(next.stdout)).rows).toEqual([[3]]);
    });
  });

  it('tells a run that did not ask for sql that it does not offer it, and opens no socket', async () => {
    await withSandbox({ sql: undefined }, async (sandbox) => {
      const { outcome, nested } = await bash(sandbox, 'sql "SELECT 1"; echo "exit $?"; ls /opt/ephemera; printenv EPHEMERA_SQL_SOCKET || echo "socket=none"');
      expect(text(outcome.stdout)).toBe('exit 1\nbin\nsocket=none\n');
      expect(text(outcome.stderr)).toBe('sql: this run does not offer the sql tool: add "sql" to sandbox.tools\n');
      expect(nested).toEqual([]);
    });
  });

  it('loads json and txt datasets as their tables', async () => {
    await withSandbox(
      { dataset: new TextEncoder().encode('{"a":1,"b":"x"}\n{"a":2,"c":true}\n'), datasetFile: 'dataset.json', sql: { format: 'json', maxSeconds: 10 } },
      async (sandbox) => {
        const answer = JSON.parse(text((await sandbox.run(query('SELECT * FROM dataset'))).stdout));
        expect({ schema: answer.schema, rows: answer.rows }).toEqual({
          schema: [
            { name: 'a', type: 'INTEGER' },
            { name: 'b', type: 'TEXT' },
            { name: 'c', type: 'INTEGER' },
          ],
          rows: [
            [1, 'x', null],
            [2, null, 1],
          ],
        });
      },
    );
    await withSandbox(
      { dataset: new TextEncoder().encode('one\ntwo\n'), datasetFile: 'dataset.txt', sql: { format: 'txt', maxSeconds: 10 } },
      async (sandbox) => {
        expect(JSON.parse(text((await sandbox.run(query('SELECT line FROM dataset WHERE line_number = 2'))).stdout)).rows).toEqual([['two']]);
      },
    );
  });
});
