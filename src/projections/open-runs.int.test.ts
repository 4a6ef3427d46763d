/**
 * Runs whose executor fell silent: search and the certificate route call an
 * open stream `running` within its lease and `abandoned` after it, never
 * certified, and `aborted` once its executor came back and closed it. The
 * executor of every run is searchable by the value /health names.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedAttestor } from '../attest/node.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { sampleStream } from '../events/eventlog.contract.js';
import { EventChain, type EventEnvelope } from '../events/index.js';
import { createServices, type Services } from '../services.js';
import type { SqliteEventLog } from '../events/sqlite.js';
import { keyFingerprint } from '../verify/index.js';
import { readModelDigest } from './digest.js';
import { executorOf } from './executor.js';
import { project, truncateProjections } from './projector.js';
import { variedCertificate } from './testing/sample-streams.js';

const LEASE_MS = 5000;
const dir = mkdtempSync(join(tmpdir(), 'ephemera-open-runs-'));
let services: Services;
let app: FastifyInstance;
// Its last event a day ago (its timeout long past): abandoned. The other started now: running.
const silent = sampleStream(ulid(), () => new Date(Date.now() - 86_400_000));
const live = sampleStream(ulid(), () => new Date());
const certified: EventEnvelope[] = [];

beforeAll(async () => {
  services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, EPHEMERA_EXECUTION_LEASE_MS: String(LEASE_MS) }));
  app = await buildApp(services);
  certified.push(...(await variedCertificate(0, new SimulatedAttestor(dir))).events);
  for (const stream of [silent, live, certified]) await services.log.append(stream);
});
afterAll(async () => {
  await app?.close();
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

const search = async (query: string) => {
  const response = await app.inject({ url: `/certificates?limit=100&${query}` });
  expect(response.statusCode).toBe(200);
  return (response.json().items as { certificate_id: string; status: string; executor: string | null }[]).map((r) => [r.certificate_id, r.status]);
};
const stateOf = async (stream: EventEnvelope[]) => {
  const response = await app.inject({ url: `/certificate/cert_${stream[0]!.execution_id}` });
  expect(response.statusCode).toBe(200);
  return [response.headers['ephemera-execution-state'], response.json().status];
};
const id = (stream: EventEnvelope[]) => `cert_${stream[0]!.execution_id}`;

describe('an open stream whose executor is silent past its lease', () => {
  it('is abandoned in search and on the certificate route (whose document still says incomplete), and never certified; a live one has no document yet', async () => {
    expect(await search('status=abandoned')).toEqual([[id(silent), 'abandoned']]);
    expect(await search('status=running')).toEqual([[id(live), 'running']]);
    expect(await search('status=completed')).not.toContainEqual([id(silent), expect.anything()]);
    expect(await stateOf(silent)).toEqual(['abandoned', 'incomplete']);
    // A run still going has no certificate yet: no document a reader could take for one, and when to ask again.
    const going = await app.inject({ url: `/certificate/${id(live)}` });
    expect([going.statusCode, going.json().error.code, going.headers['retry-after']]).toEqual([404, 'CERTIFICATE_NOT_FOUND', '1']);
    expect(going.json().error.message).toContain(`/executions/${live[0]!.execution_id}`);
    expect(await stateOf(certified)).toEqual(['certified', 'completed']);
  });

  it('is aborted once its executor came back and closed it', async () => {
    const chain = EventChain.resume(silent.at(-1)!);
    await services.log.append([chain.next('execution.aborted', { reason: 'executor_restarted', last_seq: silent.length - 1, error_code: null })]);
    expect(await search('status=abandoned')).toEqual([]);
    expect(await search('status=aborted')).toEqual([[id(silent), 'aborted']]);
    expect(await stateOf(silent)).toEqual(['aborted', 'aborted']);
  });
});

describe("an executor's identity", () => {
  it('is named by /health with the node id, and finds that node’s runs in search', async () => {
    const health = (await app.inject({ url: '/health' })).json();
    expect(health).toMatchObject({ node_id: services.nodeId, executor: keyFingerprint(new SimulatedAttestor(dir).publicKeyHex) });
    const run = await app.inject({
      method: 'POST',
      url: '/execute',
      payload: {
        dataset: { data: 'base64:YQo=', format: 'txt' },
        sandbox: { tools: ['bash'], scripts: { 'main.sh': 'true\n' }, environment: { timeout_seconds: 10, max_memory_mb: 64 } },
      },
    });
    expect(run.statusCode).toBe(200);
    expect(await search(`executor=${health.executor}`)).toEqual([[run.json().certificate_id, 'completed']]);
    // The fixture streams name the fixtures' key in sandbox.created: each is found by its own executor.
    const fixtureExecutor = executorOf(silent);
    expect(fixtureExecutor).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fixtureExecutor).not.toBe(health.executor);
    expect((await search(`executor=${fixtureExecutor}`)).map(([cert]) => cert)).toEqual(expect.arrayContaining([id(silent), id(live)]));
    expect(await search(`executor=sha256:${'0'.repeat(64)}`)).toEqual([]);
    expect((await app.inject({ url: '/certificates?executor=sha256:nope' })).statusCode).toBe(400);
  });
});

describe('the read model of open runs', () => {
  it('does not depend on how the log was cut into batches', async () => {
    const store = await services.readModel.store();
    await services.readModel.refresh();
    const whole = await readModelDigest(store);
    await truncateProjections(store);
    // One event per batch: every open row is made from events read back, not from the batch.
    const log = services.log as SqliteEventLog;
    for (const { event } of await log.readFrom(0, 10_000)) await project(store, [event]);
    expect(await readModelDigest(store)).toEqual(whole);
  });
});
