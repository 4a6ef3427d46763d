/**
 * Behind the proxy (deploy/nodes/haproxy.cfg: leastconn, no stickiness), the 202's Location may reach any node.
 * A run queued for admission on node A (or refused there before its first event) is in A's registry only: the log
 * holds nothing yet, so node B answers 404 EXECUTION_NOT_FOUND, and `ephemera watch` / the /e/ page through the
 * proxy give up on a run that exists. Two nodes' routes over one real SQLite log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { ulid } from 'ulid';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LiveRuns } from '../../commands/execute/live-runs.js';
import type { EphemeraError } from '../../errors.js';
import { SqliteEventLog } from '../../events/sqlite.js';
import { toHttpError } from '../../http-errors.js';
import { executionRoutes } from './routes.js';

let dir: string;
let log: SqliteEventLog;
const nodes: { runs: LiveRuns; app: FastifyInstance }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ephemera-other-node-'));
  log = new SqliteEventLog(join(dir, 'events.sqlite'));
  for (const nodeId of ['node-a', 'node-b']) {
    const runs = new LiveRuns({ max: 10, retentionMs: 60_000 });
    const app = Fastify();
    app.setErrorHandler((error, _request, reply) => {
      const { status, body } = toHttpError((error as EphemeraError).code ?? 'INTERNAL', (error as Error).message);
      return reply.status(status).send(body);
    });
    await app.register(executionRoutes({ runs, streams: log, nodeId, limits: { maxStreams: 3, maxDurationMs: 5000, keepAliveMs: 1000, pollMs: 30 } }));
    nodes.push({ runs, app });
  }
});
afterAll(async () => {
  for (const node of nodes) await node.app.close();
  await log?.close();
  rmSync(dir, { recursive: true, force: true });
});

it("another node does not deny a run that is queued on its neighbour: the 202's Location works through the proxy", async () => {
  const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
  const id = ulid();
  a.runs.add(id);
  expect((await a.app.inject({ url: `/executions/${id}` })).json()).toMatchObject({ state: 'queued' });
  const elsewhere = await b.app.inject({ url: `/executions/${id}` });
  expect(elsewhere.statusCode).not.toBe(404);
});
