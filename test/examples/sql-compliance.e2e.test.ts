/**
 * The SQL compliance example (examples/sql-compliance), end to end as a user runs it: `ephemera run` on the
 * embedded defaults with the example's files, as a script and through the LLM loop (the real Anthropic SDK
 * against the local Messages API stand-in), then `ephemera verify`. The report is checked against the same
 * figures computed here from the CSV without SQL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/testing/run-cli.js';
import { answerReply, startMessagesServer, toolUseReply } from '../../src/sandbox/agent/testing/messages-server.js';

const ROOT = join(import.meta.dirname, '../..');
const DATASET = join(ROOT, 'examples/pii-compliance/patients.csv');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-sql-example-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = (extra: Record<string, string> = {}) => ({ ...process.env, XDG_CONFIG_HOME: join(dir, 'config'), EPHEMERA_TRUSTED_KEYS: '', ...extra });

/** The report, computed without SQL: the dataset has no quoted fields, so a split is its CSV parse. */
function expectedReport() {
  const [header, ...lines] = readFileSync(DATASET, 'utf8').trim().split('\n');
  const at = Object.fromEntries(header!.split(',').map((name, i) => [name, i]));
  const records = lines.map((l) => l.split(','));
  const groups = new Map<string, number>();
  for (const r of records) {
    const key = `${r[at.birth_date!]!.slice(0, 3)}0s|${r[at.condition!]}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  const small = [...groups.values()].filter((n) => n < 5);
  return {
    records: records.length,
    k: 5,
    groups: groups.size,
    groups_below_k: small.length,
    records_below_k: small.reduce((a, b) => a + b, 0),
    records_with_ssn: records.filter((r) => r[at.ssn!] !== '').length,
    minors_on_2026_01_01: records.filter((r) => r[at.birth_date!]! > '2008-01-01').length,
    k_anonymous: small.length === 0,
  };
}

/** The example's one query, as audit.sh sends it. */
const AUDIT_QUERY = /<<'SQL'\n([\s\S]*?)\nSQL\n/.exec(readFileSync(join(ROOT, 'examples/sql-compliance/audit.sh'), 'utf8'))![1]!;

async function runAndVerify(sandbox: string, name: string, extraEnv?: Record<string, string>) {
  const cert = join(dir, `${name}.json`);
  const run = await runCli(['run', '--dataset', DATASET, '--sandbox', sandbox, '--out', cert, '--json', '--data-dir', join(dir, name)], { env: env(extraEnv) });
  expect(run.code, run.stderr).toBe(0);
  // The node that ran it trusts its own key: verify there (a stranger would pin it first).
  const verify = await runCli(['verify', cert, '--json', '--data-dir', join(dir, name)], { env: env() });
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  return JSON.parse(readFileSync(cert, 'utf8')) as {
    status: string;
    result: { json: unknown };
    execution_trace: { tool_uses: { tool: string; caller: string; count: number; sql?: { rows: number } }[] };
    events: { type: string; data: Record<string, unknown> }[];
  };
}

describe('the SQL compliance example', () => {
  it('answers the k-anonymity question as a script, and its certificate verifies and lists the query', async () => {
    const certificate = await runAndVerify(join(ROOT, 'examples/sql-compliance/sandbox.json'), 'script');
    expect(certificate.status).toBe('completed');
    expect(certificate.result.json).toEqual(expectedReport());
    expect(certificate.result.json).toMatchObject({ groups: 42, groups_below_k: 22, records_below_k: 70, k_anonymous: false });
    expect(certificate.execution_trace.tool_uses).toContainEqual(expect.objectContaining({ tool: 'sql', caller: 'script', count: 1 }));
    const sqlCall = certificate.events.find((e) => e.type === 'tool.invoked' && e.data.tool === 'sql')!;
    expect(sqlCall.data).toMatchObject({ caller: 'script', parent_call_id: 'call_1' });
  });

  it('answers it through the LLM loop: the model queries with the sql tool, sees the report, and the certificate verifies', async () => {
    const expected = expectedReport();
    const server = await startMessagesServer([
      toolUseReply([{ name: 'sql', input: { query: AUDIT_QUERY } }], [900, 120]),
      answerReply(`The extract is not 5-anonymous.\n${JSON.stringify(expected)}`, [1400, 80]),
    ]);
    try {
      const certificate = await runAndVerify(join(ROOT, 'examples/sql-compliance/llm-sandbox.json'), 'llm', {
        ANTHROPIC_BASE_URL: server.url,
        ANTHROPIC_API_KEY: 'sk-ant-example-test',
        EPHEMERA_LLM_MAX_RETRIES: '0',
      });
      // What the model saw of its query: the typed schema first, then the report the script printed.
      const seen = ((server.received[1]!.body.messages as { content: unknown }[]).at(-1)!.content as { content: string }[])[0]!.content;
      const answer = JSON.parse(seen.slice(seen.indexOf('{')).replace(/\n\[output truncated\]$/, '')) as {
        schema: { name: string; type: string }[];
        rows: string[][];
      };
      expect(answer.schema).toContainEqual({ name: 'birth_date', type: 'DATE' });
      expect(JSON.parse(answer.rows[0]![0]!)).toEqual(expected);
      expect(certificate.result.json).toEqual(expected);
      expect(certificate.execution_trace.tool_uses).toEqual([
        expect.objectContaining({ tool: 'sql', caller: 'llm', count: 1, sql: expect.objectContaining({ rows: 1 }) }),
      ]);
    } finally {
      await server.close();
    }
  });
});
