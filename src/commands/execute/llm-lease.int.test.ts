/**
 * A live executor is never read as `abandoned`: the lease rule (events/stream-state.ts) counts on a run ending by
 * requested + timeout_seconds. A model call used to be bounded only by EPHEMERA_LLM_TIMEOUT_MS (× retries, × turns),
 * so a run waiting on the model went silent past its deadline + lease while alive, then got certified. Now
 * timeout_seconds bounds the LLM step too: the pending call is cancelled at the run's deadline.
 * Real sandbox, real SQLite log, the real SDK against a local Messages API server that hangs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { loadConfig } from '../../config.js';
import { streamState } from '../../events/index.js';
import { createServices, type Services } from '../../services.js';
import { startMessagesServer, type MessagesServer } from '../../sandbox/agent/testing/messages-server.js';
import { execute } from './handler.js';
import { parseExecuteRequest } from './request.js';

const LEASE_MS = 500;
const dir = mkdtempSync(join(tmpdir(), 'ephemera-llm-lease-'));
let server: MessagesServer | null = null;
let services: Services | null = null;

afterAll(async () => {
  await server?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a run whose model call hangs ends at its timeout_seconds (EXECUTION_TIMEOUT) and never reads as abandoned', async () => {
  server = await startMessagesServer([{ hang: true }]);
  services = await createServices(
    loadConfig({ EPHEMERA_DATA_DIR: dir, ANTHROPIC_BASE_URL: server.url, EPHEMERA_LLM_TIMEOUT_MS: '60000', EPHEMERA_LLM_MAX_RETRIES: '0' }),
  );
  const request = parseExecuteRequest({
    dataset: { data: `base64:${Buffer.from('a,b\n1,2\n').toString('base64')}`, format: 'csv' },
    sandbox: {
      llm: { prompt: 'Count the rows.', model: 'claude-test', api_key: 'sk-ant-test', max_turns: 1 },
      tools: ['python'],
      environment: { timeout_seconds: 1, max_memory_mb: 128 },
    },
  });
  const executionId = ulid();
  let done = false;
  const run = execute(request, { ...services, executionId }).finally(() => {
    done = true;
  });
  // A reader's view, every 100 ms while the executor lives: with a 500 ms lease, a run silent past its deadline shows.
  const seen = new Set<string>();
  while (!done) {
    const events = await services.log.readStream(executionId);
    if (events.length > 0) seen.add(streamState(events, Date.now(), LEASE_MS));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { certificate } = await run;
  expect(server.received.length).toBe(1);
  expect(certificate.events.at(-1)?.type).toBe('certificate.sealed');
  expect(certificate.result).toMatchObject({ error_code: 'EXECUTION_TIMEOUT', exit_code: null });
  expect(certificate.events.find((e) => e.type === 'llm.called')?.data).toMatchObject({ error_code: 'EXECUTION_TIMEOUT', response_hash: null });
  expect(seen.has('running')).toBe(true);
  expect([...seen]).not.toContain('abandoned');
}, 30_000);
