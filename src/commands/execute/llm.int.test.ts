/**
 * LLM-driven runs: the real Anthropic SDK against a local Messages API server,
 * tools running in the real bubblewrap sandbox, events in the real SQLite log.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { canonicalize, hashUtf8 } from '../../events/index.js';
import { loadConfig } from '../../config.js';
import { createServices, type Services } from '../../services.js';
import { verifyCertificate, type Certificate } from '../../verify/index.js';
import {
  answerReply,
  errorReply,
  startMessagesServer,
  toolUseReply,
  type MessagesServer,
  type ScriptedReply,
} from '../../sandbox/agent/testing/messages-server.js';
import { execute } from './handler.js';
import { parseExecuteRequest } from './request.js';
import { filesHolding } from './testing/disk-sweep.js';

const CANARY_KEY = `sk-ant-canary-${randomBytes(12).toString('hex')}`;
const DATASET = 'name,ssn\nada,123-45-6789\ngrace,987-65-4321\nalan,\n';
const dir = mkdtempSync(join(tmpdir(), 'ephemera-llm-'));
let server: MessagesServer | null = null;
const opened: Services[] = [];

afterEach(async () => {
  await server?.close();
  server = null;
});
afterAll(async () => {
  for (const s of opened) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(
  replies: ScriptedReply[],
  options: { key?: string | null; timeoutMs?: number; retries?: number; tools?: string[] } = {},
): Promise<{ certificate: Certificate; services: Services }> {
  server = await startMessagesServer(replies);
  const services = await createServices(
    loadConfig({
      EPHEMERA_DATA_DIR: dir,
      ANTHROPIC_BASE_URL: server.url,
      EPHEMERA_LLM_TIMEOUT_MS: String(options.timeoutMs ?? 10_000),
      EPHEMERA_LLM_MAX_RETRIES: String(options.retries ?? 1),
    }),
  );
  opened.push(services);
  const request = parseExecuteRequest({
    dataset: { data: `base64:${Buffer.from(DATASET).toString('base64')}`, format: 'csv' },
    sandbox: {
      llm: {
        prompt: 'Scan for PII patterns and report counts as JSON.',
        model: 'claude-test',
        ...(options.key === null ? {} : { api_key: options.key ?? CANARY_KEY }),
        max_turns: 4,
      },
      tools: options.tools ?? ['python', 'bash', 'grep'],
      environment: { timeout_seconds: 30, max_memory_mb: 256 },
    },
  });
  const { certificate } = await execute(request, services);
  return { certificate, services };
}

const llmEvents = (c: Certificate) => c.events.filter((e) => e.type === 'llm.called');

describe('LLM agent runs', () => {
  describe('when the model calls a tool, then answers', () => {
    it('records every call, sums tokens, reproduces the prompt hash, and verifies', async () => {
      const { certificate } = await run([
        toolUseReply(
          [{ name: 'python', input: { code: 'import re,os\nprint(len(re.findall(r"\\d{3}-\\d{2}-\\d{4}", open(os.environ["DATASET_PATH"]).read())))' } }],
          [120, 30],
        ),
        answerReply('Found them.\n{"ssn": 2, "email": 0}', [200, 15]),
      ]);
      expect(certificate).toMatchObject({ status: 'completed', result: { json: { ssn: 2, email: 0 } } });
      expect(certificate.execution_trace.llm_calls).toMatchObject({
        count: 2,
        input_tokens: 320,
        output_tokens: 45,
        provider_hosts: [new URL(server!.url).host],
      });
      expect(certificate.execution_trace.tool_uses).toEqual([expect.objectContaining({ tool: 'python', caller: 'llm', count: 1, failures: 0 })]);
      // The tool really ran in the sandbox: the model got its output back.
      const toolResult = (server!.received[1]!.body.messages as { content: unknown }[]).at(-1)!.content as { content: string }[];
      expect(toolResult[0]!.content).toContain('stdout:\n2');
      // prompt_hash = SHA-256(JCS(request body)) — exactly what the server received.
      expect(llmEvents(certificate).map((e) => e.data)).toEqual(
        server!.received.map((r) => expect.objectContaining({ prompt_hash: hashUtf8(canonicalize(r.body)) })),
      );
      expect((await verifyCertificate(certificate)).valid).toBe(true);
    });
  });

  describe('when the model asks for several tools in one turn', () => {
    it('runs each in the sandbox and returns all results in one message', async () => {
      const { certificate } = await run([
        toolUseReply(
          [
            { name: 'bash', input: { command: 'wc -l < /data/dataset.csv' } },
            { name: 'grep', input: { args: ['-c', 'ada', '/data/dataset.csv'] } },
            { name: 'read_file', input: { path: '/data/dataset.csv', max_bytes: 8 } },
          ],
          [50, 20],
        ),
        answerReply('{"rows": 3}', [60, 5]),
      ]);
      const results = (server!.received[1]!.body.messages as { content: unknown }[]).at(-1)!.content as { content: string }[];
      expect(results.map((r) => r.content)).toEqual([expect.stringContaining('4'), expect.stringContaining('1'), expect.stringContaining('name,ssn')]);
      expect(certificate.execution_trace.tool_uses.map((t) => [t.tool, t.count])).toEqual([
        ['bash', 1],
        ['grep', 1],
        ['read_file', 1],
      ]);
      expect((await verifyCertificate(certificate)).valid).toBe(true);
    });
  });

  describe('when the API fails', () => {
    it.each([
      ['401', 'LLM_AUTH', [errorReply(401, 'authentication_error')], {}],
      [
        '529 every time',
        'LLM_UNAVAILABLE',
        [errorReply(529, 'overloaded_error', { 'retry-after': '0' }), errorReply(529, 'overloaded_error', { 'retry-after': '0' })],
        {},
      ],
      ['a hang past the timeout', 'LLM_TIMEOUT', [{ hang: true }], { timeoutMs: 500, retries: 0 }],
      ['malformed JSON', 'LLM_BAD_RESPONSE', [{ raw: '{"id": "msg_1", "content": [' }], { retries: 0 }],
      ['a body that is not a message', 'LLM_BAD_RESPONSE', [{ body: { hello: 'world' } }], {}],
    ] as const)('%s ends the run as failed with %s, still certified', async (_label, code, replies, options) => {
      const { certificate } = await run([...replies], options);
      expect(certificate).toMatchObject({ status: 'failed', result: { error_code: code } });
      expect(llmEvents(certificate).at(-1)!.data).toMatchObject({ error_code: code });
      expect(certificate.lifecycle.dataset_deleted).not.toBeNull();
      expect((await verifyCertificate(certificate)).valid).toBe(true);
    });

    it('a 429 then success is retried by the SDK and completes', async () => {
      const { certificate } = await run([errorReply(429, 'rate_limit_error', { 'retry-after': '0' }), answerReply('{"ok": true}', [10, 2])]);
      expect(certificate.status).toBe('completed');
      expect(server!.received).toHaveLength(2);
      expect(certificate.execution_trace.llm_calls.count).toBe(1);
    });

    it('no key anywhere is refused as LLM_API_KEY_REQUIRED before anything runs: no model call, no certificate', async () => {
      await expect(run([], { key: null })).rejects.toMatchObject({ code: 'LLM_API_KEY_REQUIRED' });
      expect(server!.received).toHaveLength(0);
    });
  });

  describe('when the run is over (THREATS C27, G48)', () => {
    it('left no copy of the API key in any event, certificate, the data dir or /tmp, and sent it only in a request header', async () => {
      const started = Date.now();
      const { certificate, services } = await run([answerReply('{"done": true}', [1, 1])]);
      expect(certificate.result.error_code).toBeNull();
      const headers = server!.received[0]!.headers;
      expect(headers.authorization === `Bearer ${CANARY_KEY}` || headers['x-api-key'] === CANARY_KEY).toBe(true);
      expect(JSON.stringify(server!.received[0]!.body)).not.toContain(CANARY_KEY);
      expect(JSON.stringify(certificate)).not.toContain(CANARY_KEY);
      expect(JSON.stringify(await services.log.readStream(certificate.execution_id))).not.toContain(CANARY_KEY);
      expect(filesHolding([CANARY_KEY], [dir, tmpdir()], started)).toEqual([]);
    });
  });
});
