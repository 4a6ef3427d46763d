/**
 * A live executor is never read as `abandoned`: the lease rule (events/stream-state.ts) assumes a run ends by
 * requested + timeout_seconds, but a model call is bounded only by EPHEMERA_LLM_TIMEOUT_MS (× retries, × turns),
 * so a run waiting on the model goes silent past its deadline + lease while alive, then gets certified.
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

it('a run waiting on its model call past timeout_seconds + lease is still running, not abandoned', async () => {
  server = await startMessagesServer([{ hang: true }]);
  services = await createServices(
    loadConfig({ EPHEMERA_DATA_DIR: dir, ANTHROPIC_BASE_URL: server.url, EPHEMERA_LLM_TIMEOUT_MS: '5000', EPHEMERA_LLM_MAX_RETRIES: '0' }),
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
  const run = execute(request, { ...services, executionId });
  // The model call is pending (the server hangs); wait past requested + timeout_seconds + the lease.
  await new Promise((resolve) => setTimeout(resolve, 1000 + LEASE_MS + 1500));
  const events = await services.log.readStream(executionId);
  expect(server.received.length).toBe(1);
  const seen = streamState(events, Date.now(), LEASE_MS);
  const { certificate } = await run;
  // The executor was alive all along and sealed the run: it must not have read as abandoned meanwhile.
  expect(certificate.events.at(-1)?.type).toBe('certificate.sealed');
  expect(seen).toBe('running');
}, 30_000);
