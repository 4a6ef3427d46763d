/**
 * Runs that use the sql tool, end to end on the embedded defaults: the real bubblewrap sandbox, the real
 * Anthropic SDK against the local Messages API stand-in, events in the real SQLite log, certificates
 * verified. Every query, the model's and a script's `sql` commands alike, is a call of its own in the
 * certificate (docs/sql-tool.md §7–8).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import type { EventEnvelope } from '../../events/index.js';
import { answerReply, startMessagesServer, toolUseReply, type MessagesServer } from '../../sandbox/agent/testing/messages-server.js';
import { generateResultKey } from '../../seal/result-key.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificate, type Certificate } from '../../verify/index.js';
import { execute } from './handler.js';
import { parseExecuteRequest } from './request.js';
import { sqlArgsHash } from './tool-events.js';

const DATASET = 'id,name,country,amount\n1,ann,DE,10.5\n2,bob,FR,3\n3,cy,DE,1.5\n4,dee,US,\n';
const dir = mkdtempSync(join(tmpdir(), 'ephemera-sql-run-'));
let server: MessagesServer | null = null;
let services: Services | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
});
afterAll(async () => {
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(sandbox: Record<string, unknown>, resultRecipient?: string): Promise<Certificate> {
  services ??= await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir }));
  const request = parseExecuteRequest({
    dataset: { data: `base64:${Buffer.from(DATASET).toString('base64')}`, format: 'csv' },
    sandbox: { environment: { timeout_seconds: 30, max_memory_mb: 256 }, ...sandbox },
    ...(resultRecipient ? { result_recipient: resultRecipient } : {}),
  });
  return (await execute(request, services)).certificate;
}

async function runWithModel(replies: Parameters<typeof startMessagesServer>[0], tools: string[]): Promise<Certificate> {
  server = await startMessagesServer(replies);
  const config = loadConfig({ EPHEMERA_DATA_DIR: dir, ANTHROPIC_BASE_URL: server.url, EPHEMERA_LLM_MAX_RETRIES: '0' });
  const withModel = await createServices(config);
  try {
    const request = parseExecuteRequest({
      dataset: { data: `base64:${Buffer.from(DATASET).toString('base64')}`, format: 'csv' },
      sandbox: {
        llm: { prompt: 'How much was paid from DE?', model: 'claude-test', api_key: 'sk-ant-test', max_turns: 4 },
        tools,
        environment: { timeout_seconds: 30, max_memory_mb: 256 },
      },
    });
    return (await execute(request, withModel)).certificate;
  } finally {
    await withModel.close();
  }
}

const ofType = (c: Certificate, type: string) => c.events.filter((e) => e.type === type) as EventEnvelope[];
const data = (e: EventEnvelope) => e.data as Record<string, unknown>;

describe('runs with the sql tool', () => {
  it("records each of a script's sql commands as a call within the script's, and the certificate verifies", async () => {
    const queries = [
      'SELECT country, sum(amount) AS total FROM dataset GROUP BY country ORDER BY country',
      'SELECT count(*) FROM dataset WHERE amount IS NULL',
      'DELETE FROM dataset',
    ];
    const script = `set -e\nsql --csv "${queries[0]}"\nsql "${queries[1]}" > /work/nulls.json\nsql "${queries[2]}" || echo refused\npython3 -c 'import json; print("nulls", json.load(open("/work/nulls.json"))["rows"][0][0])'\n`;
    const certificate = await run({ tools: ['bash', 'sql'], scripts: { 'report.sh': script }, entrypoint: 'report.sh' });
    expect(certificate.status).toBe('completed');
    expect(certificate.result.output).toBe('country,total\nDE,12.0\nFR,3.0\nUS,\nrefused\nnulls 1\n');

    const invoked = ofType(certificate, 'tool.invoked').map(data);
    expect(invoked).toEqual([
      expect.objectContaining({ call_id: 'call_1', tool: 'report.sh', caller: 'script' }),
      ...queries.map((q, i) => ({ call_id: `call_${i + 2}`, tool: 'sql', caller: 'script', parent_call_id: 'call_1', args_hash: sqlArgsHash(null, q) })),
    ]);
    expect(invoked[0]).not.toHaveProperty('parent_call_id');
    const completed = ofType(certificate, 'tool.completed').map(data);
    expect(completed.map((d) => [d.call_id, d.exit_code, d.sql])).toEqual([
      ['call_2', 0, { rows: 3, bytes: expect.any(Number), truncated: false, error_code: null }],
      ['call_3', 0, { rows: 1, bytes: 5, truncated: false, error_code: null }],
      ['call_4', 2, { rows: 0, bytes: 0, truncated: false, error_code: 'SQL_QUERY_REFUSED' }],
      ['call_1', 0, undefined],
    ]);
    expect(certificate.execution_trace.tool_uses.find((u) => u.tool === 'sql')).toMatchObject({ caller: 'script', count: 3, failures: 1 });
    expect(certificate.execution_trace.resources.tool_calls).toBe(4);
    expect((await verifyCertificate(certificate)).valid).toBe(true);
  });

  it('offers the model an sql tool, and the sql command inside its bash calls; both are in the trace', async () => {
    const direct = 'SELECT sum(amount) AS de FROM dataset WHERE country = ?'.replace('?', "'DE'");
    const certificate = await runWithModel(
      [
        toolUseReply([{ name: 'sql', input: { query: direct } }], [100, 20]),
        toolUseReply([{ name: 'bash', input: { command: 'sql --csv "SELECT count(*) AS n FROM dataset"' } }], [150, 20]),
        answerReply('{"de": 12.0}', [200, 10]),
      ],
      ['sql', 'bash'],
    );
    expect(certificate.status).toBe('completed');
    // The model saw the typed schema and the rows, and the command's CSV through bash.
    const results = server!.received.slice(1).map((r) => ((r.body.messages as { content: unknown }[]).at(-1)!.content as { content: string }[])[0]!.content);
    expect(results[0]).toContain(
      '"schema":[{"name":"id","type":"INTEGER"},{"name":"name","type":"TEXT"},{"name":"country","type":"TEXT"},{"name":"amount","type":"REAL"}]',
    );
    expect(results[0]).toContain('"rows":[[12.0]]');
    expect(results[1]).toContain('stdout:\nn\n4\n');
    const tools = server!.received[0]!.body.tools as { name: string }[];
    expect(tools.map((t) => t.name)).toEqual(['sql', 'bash', 'list_files', 'read_file']);

    expect(ofType(certificate, 'tool.invoked').map(data)).toEqual([
      { call_id: 'call_1', tool: 'sql', caller: 'llm', args_hash: sqlArgsHash(null, direct) },
      expect.objectContaining({ call_id: 'call_2', tool: 'bash', caller: 'llm' }),
      { call_id: 'call_3', tool: 'sql', caller: 'llm', parent_call_id: 'call_2', args_hash: sqlArgsHash(null, 'SELECT count(*) AS n FROM dataset') },
    ]);
    expect(certificate.execution_trace.tool_uses.map((u) => [u.tool, u.caller, u.count])).toEqual([
      ['sql', 'llm', 2],
      ['bash', 'llm', 1],
    ]);
    expect((await verifyCertificate(certificate)).valid).toBe(true);
  });

  it("keys a query's hash with the run's salt when the result is sealed: a guessable query is not recognisable", async () => {
    const { public_key } = await generateResultKey();
    const query = 'SELECT count(*) FROM dataset';
    const certificate = await run({ tools: ['bash', 'sql'], scripts: { 'q.sh': `sql "${query}"\n` }, entrypoint: 'q.sh' }, public_key);
    const nested = ofType(certificate, 'tool.invoked')
      .map(data)
      .find((d) => d.tool === 'sql')!;
    expect(nested.parent_call_id).toBe('call_1');
    expect(nested.args_hash).not.toBe(sqlArgsHash(null, query));
    expect((await verifyCertificate(certificate)).valid).toBe(true);
  });

  it('tells a run that did not ask for sql that it does not offer it, and records no query', async () => {
    const certificate = await run({ tools: ['bash'], scripts: { 'q.sh': 'sql "SELECT 1" 2>&1 || echo "exit $?"\n' }, entrypoint: 'q.sh' });
    expect(certificate.result.output).toBe('sql: this run does not offer the sql tool: add "sql" to sandbox.tools\nexit 1\n');
    expect(ofType(certificate, 'tool.invoked')).toHaveLength(1);
  });
});
