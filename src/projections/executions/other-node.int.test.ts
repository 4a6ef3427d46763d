/**
 * Behind the proxy (deploy/nodes/haproxy.cfg: leastconn, no stickiness), the 202's Location may reach any node.
 * A run queued for admission on node A (or refused there before its first event) is in A's registry only: the log
 * holds nothing yet. Node B cannot know it, but it must not make a client give up on it: for an id young enough to
 * be such a run, its 404 carries Retry-After (`ephemera watch` and the /e/ page ask again), and once the run's first
 * event is stored B answers it. Two nodes' routes over one real SQLite log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { ulid } from 'ulid';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LiveRuns } from '../../commands/execute/live-runs.js';
import { EventChain, type EventData } from '../../events/index.js';
import { SqliteEventLog } from '../../events/sqlite.js';
import { runEvents } from '../../events/testing/stream.js';
import { executionRoutes } from './routes.js';
import { answerErrorsAsTheApp } from './testing/error-answers.js';

let dir: string;
let log: SqliteEventLog;
const nodes: { runs: LiveRuns; app: FastifyInstance }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ephemera-other-node-'));
  log = new SqliteEventLog(join(dir, 'events.sqlite'));
  for (const nodeId of ['node-a', 'node-b']) {
    const runs = new LiveRuns({ max: 10, retentionMs: 60_000 });
    const app = Fastify();
    answerErrorsAsTheApp(app);
    await app.register(
      executionRoutes({ runs, streams: log, nodeId, pendingMs: 60_000, limits: { maxStreams: 3, maxDurationMs: 5000, keepAliveMs: 1000, pollMs: 30 } }),
    );
    nodes.push({ runs, app });
  }
});
afterAll(async () => {
  for (const node of nodes) await node.app.close();
  await log?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('another node tells a client to ask again about a run queued on its neighbour, and answers it once its first event is stored', async () => {
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const id = ulid();
  a.runs.add(id);
  expect((await a.app.inject({ url: `/executions/${id}` })).json()).toMatchObject({ state: 'queued' });
  for (const url of [`/executions/${id}`, `/executions/${id}/events`]) {
    const elsewhere = await b.app.inject({ url });
    expect(elsewhere.statusCode, url).toBe(404);
    expect(elsewhere.json().error.code, url).toBe('EXECUTION_NOT_FOUND');
    expect(elsewhere.headers['retry-after'], url).toBe('1');
  }

  // Its first event stored (the shared log), any node answers it.
  const chain = new EventChain(id);
  const requested = runEvents()[0]!;
  await log.append([chain.next('execution.requested', requested.data as EventData['execution.requested'])]);
  expect((await b.app.inject({ url: `/executions/${id}` })).json()).toMatchObject({ state: 'running', events: 1 });
});

it('says an old unknown id is gone for good: no Retry-After', async () => {
  const [, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const old = ulid(Date.now() - 10 * 60_000);
  const answer = await b.app.inject({ url: `/executions/${old}` });
  expect(answer.statusCode).toBe(404);
  expect(answer.headers['retry-after']).toBeUndefined();
});
