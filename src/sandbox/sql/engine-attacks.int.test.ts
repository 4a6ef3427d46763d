/**
 * Attacks on the sql tool's engine from inside its sandbox, from an adversarial review (docs/threats.md K71):
 * a tool that opens a starting engine's /proc files, stops it (SIGSTOP), or feeds it a wide schema; and the
 * engine's CPU limit across queries. Each states what must hold.
 */
import { describe, expect, it } from 'vitest';
import type { Sandbox } from '../types.js';
import { query, runCollecting, sqlSpec as spec, text, withSqlSandbox as withSandbox } from './testing/sql-sandbox.js';

const python = (sandbox: Sandbox, code: string, timeoutMs?: number) => runCollecting(sandbox, { kind: 'python', code }, timeoutMs);

/** Kills the engine, starts a fresh one with a `sql` command and opens its pipes through /proc before it turns non-dumpable. */
const GRAB_ENGINE_PIPES = `
import os, subprocess, time
subprocess.run(["pkill", "-KILL", "-f", "ephemera_sql.py"])
time.sleep(0.2)
before = set(os.listdir("/proc"))
first = subprocess.Popen(["sql", "SELECT 1"], stdout=subprocess.DEVNULL)
grabbed = None
deadline = time.time() + 10
while grabbed is None and first.poll() is None and time.time() < deadline:  # no engine starts after the command returned
    for e in os.listdir("/proc"):
        if not e.isdigit() or e in before:
            continue
        try:
            with open("/proc/%s/cmdline" % e, "rb") as f:
                if b"--serve" not in f.read():
                    continue
            w = os.open("/proc/%s/fd/1" % e, os.O_WRONLY | os.O_NONBLOCK)  # the engine's answers: the supervisor reads them
            r = os.open("/proc/%s/fd/1" % e, os.O_RDONLY | os.O_NONBLOCK)
            ask = os.open("/proc/%s/fd/0" % e, os.O_WRONLY | os.O_NONBLOCK)  # the engine's requests: only the supervisor writes them
            steal = os.open("/proc/%s/fd/0" % e, os.O_RDONLY | os.O_NONBLOCK)
            try:
                mem = os.open("/proc/%s/mem" % e, os.O_RDWR)
                maps = open("/proc/%s/maps" % e)
            except OSError:
                mem = maps = None
            grabbed = (e, w, r, mem, maps, ask, steal)
            break
        except OSError:
            pass
first.wait()
print("grabbed" if grabbed else "missed")
`;
const FORGED = '{"table":"dataset","schema":[],"columns":["n"],"rows":[[42]],"row_count":1,"truncated":false,"bytes":6}';

describe('attacks on the sql engine from inside the sandbox', () => {
  it("a tool cannot put words in the engine's mouth through /proc/<engine>/fd while the engine starts (dumpable until no_dump)", async () => {
    await withSandbox({}, async (sandbox) => {
      await sandbox.run(query('SELECT 1'));
      const { outcome, nested } = await python(
        sandbox,
        GRAB_ENGINE_PIPES +
          `
if grabbed:
    # 1. A query no call records: asked on the engine's stdin, answered on its stdout, the supervisor never involved.
    os.write(grabbed[5], b'{"query": "SELECT group_concat(name) FROM dataset", "max_rows": 10, "max_bytes": 1000}\\n')
    time.sleep(0.3)
    print("unrecorded:", os.read(grabbed[2], 1 << 20).decode().strip())
    # 2. A forged answer to a recorded query of this call: the engine held still, its request taken away.
    os.kill(int(grabbed[0]), 19)  # SIGSTOP
    os.write(grabbed[1], b'${FORGED}\\n')
    print(subprocess.run(["sql", "SELECT count(*) AS n FROM dataset"], capture_output=True, text=True).stdout.strip())
    os.read(grabbed[6], 1 << 20)
    os.kill(int(grabbed[0]), 18)  # SIGCONT
    # 3. A forged answer waiting for the next call: the model's own.
    os.write(grabbed[1], b'${FORGED}\\n')
`,
      );
      const said = text(outcome.stdout);
      const forgedNested = nested.filter((c) => text(c.answer).includes('[[42]]'));
      const next = await sandbox.run(query('SELECT count(*) AS n FROM dataset'));
      // What must hold: the engine's pipes are out of reach, so no query goes unrecorded and every recorded answer is the
      // engine's own, the model's next direct call (caller llm, no parent) included.
      expect({ said: said.trim(), forgedNested: forgedNested.map((c) => c.query), next: text(next.stdout) }).toEqual({
        said: 'missed',
        forgedNested: [],
        next: expect.stringMatching(/^\{[^\n]*"rows":\[\[3\]\][^\n]*\}$/),
      });
    });
  });

  it("a tool cannot change the engine's memory through a /proc/<engine>/mem opened while it starts (its answers to later calls)", async () => {
    await withSandbox({}, async (sandbox) => {
      await sandbox.run(query('SELECT 1'));
      const { outcome } = await python(
        sandbox,
        GRAB_ENGINE_PIPES +
          `
patched = 0
if grabbed and grabbed[3] is not None:
    subprocess.run(["sql", "SELECT 1"], capture_output=True)  # loaded, and non-dumpable since
    for line in grabbed[4]:
        lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
        if "rw" not in line.split()[1] or hi - lo > 256 << 20:
            continue
        try:
            chunk = os.pread(grabbed[3], hi - lo, lo)
        except OSError:
            continue
        at = chunk.find(b"bob")
        while at >= 0:
            os.pwrite(grabbed[3], b"BOB", lo + at)
            patched += 1
            at = chunk.find(b"bob", at + 1)
print("patched", patched)
`,
      );
      // The tool is gone; the engine it patched answers the model.
      const later = await sandbox.run(query('SELECT name FROM dataset WHERE id = 2'));
      expect({ said: text(outcome.stdout).split('\n')[0], rows: JSON.parse(text(later.stdout)).rows }).toEqual({ said: 'missed', rows: [['bob']] });
    });
  });

  it('a tool that keeps the engine stopped (SIGSTOP) cannot hold the supervisor past its call deadline, even with a request larger than the channel holds', async () => {
    await withSandbox({}, async (sandbox) => {
      await sandbox.run(query('SELECT 1'));
      // The supervisor resumes the engine before each query: a loop stops it again at once.
      const busy = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 3000000) SELECT count(*) FROM c';
      const { outcome, nested } = await python(
        sandbox,
        `import subprocess
subprocess.Popen(["sh", "-c", "while true; do pkill -STOP -f 'ephemera_sq[l].py'; sleep 0.005; done"])  # [l]: not the loop's own
subprocess.run(["sql", "-"], input="${busy} -- " + "\\x01" * 60000, text=True)`,
        3000,
      );
      // The call ends at its deadline, reported by the supervisor: the executor's backstop would have killed the whole
      // sandbox, and the next call would find it lost.
      const next = await sandbox.run(query('SELECT count(*) AS n FROM dataset'), { timeoutMs: 5000 });
      const said = `${text(outcome.stdout)} ${text(outcome.stderr)} ${JSON.stringify(nested.map((c) => [c.exitCode, c.killedBy, text(c.answer)]))}`;
      expect({ killed: outcome.killedBy, nested: nested.map((c) => c.killedBy), next: next.exitCode }, said).toEqual({
        killed: 'timeout',
        nested: ['timeout'],
        next: 0,
      });
    });
  });

  it("a tool can change its own rlimits but neither the supervisor's nor the engine's (prlimit64 on another pid: EPERM)", async () => {
    await withSandbox({}, async (sandbox) => {
      await sandbox.run(query('SELECT 1'));
      const { outcome } = await python(
        sandbox,
        `import resource, subprocess
engine = int(subprocess.run(["pgrep", "-f", "ephemera_sql.py"], capture_output=True, text=True).stdout.split()[0])
def attempt(pid):
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, 3)) if pid else resource.prlimit(0, resource.RLIMIT_CPU, (5, 6))
        return "done"
    except OSError as e:
        return "refused %d" % e.errno
print(attempt(0), attempt(1), attempt(engine))`,
      );
      expect(text(outcome.stdout).trim()).toBe('done refused 1 refused 1');
      const after = await sandbox.run(query('SELECT count(*) AS n FROM dataset'));
      expect(JSON.parse(text(after.stdout)).rows).toEqual([[3]]);
    });
  });

  it("an engine a tool stopped (SIGSTOP) in one call does not eat the model's next sql call", async () => {
    await withSandbox({}, async (sandbox) => {
      await sandbox.run(query('SELECT 1'));
      await python(sandbox, 'import subprocess\nsubprocess.run(["pkill", "-STOP", "-f", "--", "--serve"])');
      const next = await sandbox.run(query('SELECT count(*) AS n FROM dataset'), { timeoutMs: 4000 });
      expect({ killed: next.killedBy, exit: next.exitCode }).toEqual({ killed: null, exit: 0 });
    });
  });

  it('refuses, once and with its code, a dataset whose schema (in every answer) would not fit an answer', async () => {
    // 200 columns whose names are 1,020 control characters: 1.2 MB of schema, escaped, for every answer.
    const names = Array.from({ length: 200 }, (_, i) => String(i).padStart(4, '0') + '\u0001'.repeat(1020));
    const wide = new TextEncoder().encode(`${names.join(',')}\n${','.repeat(199)}\n`);
    await withSandbox({ dataset: wide }, async (sandbox) => {
      const first = await sandbox.run(query('SELECT 1 AS one'));
      const second = await sandbox.run(query('SELECT 1 AS one'));
      expect([first, second].map((o) => ({ killed: o.killedBy, exit: o.exitCode, code: o.sql?.error_code }))).toEqual([
        { killed: null, exit: 2, code: 'SQL_DATASET_INVALID' },
        { killed: null, exit: 2, code: 'SQL_DATASET_INVALID' },
      ]);
      expect(JSON.parse(text(first.stdout)).error.message).toMatch(/column names come to over 65536 bytes/);
    });
  });

  it("bounds the result's column names as it bounds the schema", async () => {
    await withSandbox({}, async (sandbox) => {
      // A short query whose result repeats one long name: 70 columns of 1,000 characters.
      const wide = await sandbox.run(query(`WITH t AS (SELECT 1 AS "${'x'.repeat(1000)}") SELECT ${Array(70).fill('*').join(', ')} FROM t`));
      expect({ exit: wide.exitCode, code: wide.sql?.error_code }).toEqual({ exit: 2, code: 'SQL_QUERY_INVALID' });
      expect(JSON.parse(text(wide.stdout)).error.message).toBe("the result's column names come to over 65536 bytes");
    });
  });

  it("does not charge one query for the CPU of the engine's earlier ones (RLIMIT_CPU is set once, for the engine's life)", async () => {
    // Under rlimits only: a cgroup's cpu.max would also spread the 2 s over the wall limit, slowing every query down.
    await withSandbox({ limits: { ...spec().limits, cpuSeconds: 2 }, limitsMode: 'rlimit' }, async (sandbox) => {
      // About 0.3 s of CPU each, well under the 2 s a call may use; ten of them, well over it.
      const busy = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 1500000) SELECT count(*) FROM c';
      const outcomes: { killed: string | null; cpuMs: number }[] = [];
      for (let i = 0; i < 10; i++) {
        const o = await sandbox.run(query(busy));
        outcomes.push({ killed: o.killedBy, cpuMs: o.cpuMs });
      }
      expect(outcomes.reduce((sum, o) => sum + o.cpuMs, 0)).toBeGreaterThan(2000);
      expect(outcomes, JSON.stringify(outcomes)).toEqual(outcomes.map((o) => ({ ...o, killed: null })));
    });
  });
});
