/**
 * The escape battery's attacks through the sql tool (THREATS K68–71, docs/sql-tool.md §4, §7): each query
 * is tried both ways a run can ask it, as the model's sql call and with the `sql` command inside a call,
 * in a real sandbox; each must be refused with its code, leave no file anywhere it could write, and leave
 * the engine answering honestly.
 */
import type { Sandbox } from '../../src/sandbox/types.js';

/** What each attack is given: a fresh sandbox offering sql over a two-row CSV. */
export type SqlAttack = (sandbox: Sandbox) => Promise<string>;

/** Every place a sandboxed process could write, or could have been made to write to: listed before and after. */
const WRITABLE = '/work /tmp /out /data /run /dev/shm /opt';
const text = (b: Uint8Array) => Buffer.from(b).toString().trim();

/** Each query, both ways: the codes it got, and whether anything changed where files can be. */
async function refusals(sandbox: Sandbox, queries: string[]): Promise<string[]> {
  // The supervisor's own files for python and bash calls (call-N.*) are the listing's, not the engine's.
  const listing = async () =>
    text((await sandbox.run({ kind: 'bash', command: `find ${WRITABLE} 2>/dev/null | grep -v '^/run/ephemera/call-' | sort` })).stdout);
  const before = await listing();
  const codes: string[] = [];
  for (const query of queries) {
    const direct = await sandbox.run({ kind: 'sql', query, max_rows: 10, max_bytes: 4096, max_seconds: 10 });
    const viaCommand = await sandbox.run({
      kind: 'python',
      code: `import subprocess\nr = subprocess.run(["sql", ${JSON.stringify(query)}], capture_output=True, text=True)\nprint(r.returncode, r.stderr.split(":")[1].strip() if r.returncode else r.stdout)`,
    });
    const said = text(viaCommand.stdout);
    const answer = JSON.parse(text(direct.stdout)) as { error?: { code: string } };
    if (!answer.error || direct.exitCode !== 2) throw new Error(`the model's sql call answered ${JSON.stringify(query)}: ${text(direct.stdout).slice(0, 200)}`);
    if (!said.startsWith(`2 ${answer.error.code}`)) throw new Error(`the sql command answered ${JSON.stringify(query)}: ${said.slice(0, 200)}`);
    codes.push(answer.error.code);
  }
  const after = await listing();
  if (after !== before)
    throw new Error(
      `files changed: ${after
        .split('\n')
        .filter((l) => !before.split('\n').includes(l))
        .join(', ')}`,
    );
  return codes;
}

export async function sqlReadsHostFiles(sandbox: Sandbox): Promise<string> {
  const codes = await refusals(sandbox, [
    "SELECT readfile('/etc/passwd')",
    "SELECT count(*) FROM dataset WHERE readfile('/data/dataset.csv') IS NOT NULL",
    "ATTACH '/etc/passwd' AS p",
    "ATTACH 'file:/data/dataset.csv?mode=ro' AS p",
    "SELECT * FROM pragma_table_info('dataset')",
  ]);
  return `readfile, ATTACH (path and file: URI) and table-valued pragmas refused: ${[...new Set(codes)].join(', ')}`;
}

export async function sqlWritesFiles(sandbox: Sandbox): Promise<string> {
  const codes = await refusals(sandbox, [
    "VACUUM INTO '/work/copy.db'",
    "VACUUM INTO '/tmp/copy.db'",
    "ATTACH '/work/new.db' AS w",
    "ATTACH '/out/new.db' AS w",
    "SELECT writefile('/work/x', 'x')",
    "SELECT writefile('/tmp/x', 'x')",
    'PRAGMA temp_store = FILE',
    'WITH t(x) AS (SELECT 1) DELETE FROM dataset',
  ]);
  return `nothing written in the working space or outside it (${WRITABLE}): ${[...new Set(codes)].join(', ')}`;
}

export async function sqlLoadsExtension(sandbox: Sandbox): Promise<string> {
  const codes = await refusals(sandbox, [
    "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libsqlite3.so.0')",
    "SELECT load_extension('/work/evil.so', 'sqlite3_evil_init')",
    "SELECT fts3_tokenizer('simple')",
  ]);
  return `load_extension and fts3_tokenizer refused: ${[...new Set(codes)].join(', ')}`;
}

/** A tool tries to replace the engine's command, take its socket, or read the engine's memory (the dataset). */
export async function sqlEngineTampering(sandbox: Sandbox): Promise<string> {
  await sandbox.run({ kind: 'sql', query: 'SELECT 1', max_rows: 1, max_bytes: 100, max_seconds: 10 }); // the engine is up
  const attempts = await sandbox.run({
    kind: 'python',
    code: `import os, socket, subprocess
def attempt(name, act):
    try:
        act()
        print(name, "DONE")
    except OSError as e:
        print(name, "refused", e.errno)
def replace_command():
    with open("/opt/ephemera/bin/sql", "w") as f:
        f.write("#!/bin/sh\\necho forged\\n")
def plant_command():
    os.makedirs("/opt/ephemera/forged")
def move_directory():
    os.rename("/opt/ephemera/bin", "/opt/ephemera/old")
def take_socket():
    s = socket.socket(socket.AF_UNIX)
    s.bind("\\0" + os.environ["EPHEMERA_SQL_SOCKET"])
def read_engine():
    pid = int(subprocess.run(["pgrep", "-f", "ephemera_sql.py"], capture_output=True, text=True).stdout.split()[0])
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.read(1)
for name, act in (("replace", replace_command), ("plant", plant_command), ("move", move_directory), ("socket", take_socket), ("memory", read_engine)):
    attempt(name, act)`,
  });
  const said = text(attempts.stdout);
  if (said.includes('DONE') || said.split('\n').length !== 5) throw new Error(said);
  const after = await sandbox.run({ kind: 'bash', command: 'sql --csv "SELECT count(*) AS n FROM dataset"' });
  if (text(after.stdout) !== 'n\n2') throw new Error(`the engine answered ${text(after.stdout)}`);
  return `command, directory, socket and engine memory out of reach (${said.replace(/\n/g, '; ')}); the engine still answers`;
}
