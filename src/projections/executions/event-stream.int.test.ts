/**
 * The event stream route over real HTTP, against a registry driven by hand and
 * a real SQLite log: live batches, resuming, the end, polling a stored stream,
 * the bound on concurrent streams, and that a client who leaves takes every
 * listener and timer with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LiveRuns } from '../../commands/execute/live-runs.js';
import { sseMessages } from '../../cli/sse.js';
import { EphemeraError } from '../../errors.js';
import { canonicalText, EventChain, type EventEnvelope } from '../../events/index.js';
import { SqliteEventLog } from '../../events/sqlite.js';
import { data } from '../../events/testing/stream.js';
import { executionRoutes } from './routes.js';
import { answerErrorsAsTheApp } from './testing/error-answers.js';

type Message = { id?: string; event?: string; data: string };

/** Short keep-alives and polls, so a test sees them; a deadline no test reaches. */
const LIMITS = { maxStreams: 3, maxDurationMs: 60_000, keepAliveMs: 50, pollMs: 30 };

describe('GET /executions/:id/events', () => {
  let dir: string;
  let log: SqliteEventLog;
  let runs: LiveRuns;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ephemera-sse-'));
    log = new SqliteEventLog(join(dir, 'events.sqlite'));
    runs = new LiveRuns({ max: 100, retentionMs: 60_000 });
    app = Fastify();
    answerErrorsAsTheApp(app);
    await app.register(executionRoutes({ runs, streams: log, nodeId: 'node-a', limits: LIMITS }));
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await log?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a stream; `next()` reads one message (comments skipped), `leave()` disconnects. */
  async function open(id: string, headers: Record<string, string> = {}) {
    const leave = new AbortController();
    const response = await fetch(`${base}/executions/${id}/events`, { headers, signal: leave.signal });
    const messages = response.ok ? sseMessages(response.body!) : null;
    return {
      response,
      next: async (): Promise<Message | null> => (await messages!.next()).value ?? null,
      rest: async (): Promise<Message[]> => {
        const all: Message[] = [];
        for await (const message of messages!) all.push(message);
        return all;
      },
      leave: () => leave.abort(),
    };
  }

  /** A chain with current times (a stored stream's state depends on them). */
  const chainOf = (id: string) => new EventChain(id);
  const until = async (condition: () => boolean) => {
    for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(condition()).toBe(true);
  };

  it("streams this node's run live: what was recorded, each batch as it is acknowledged, then the end; Last-Event-ID resumes", async () => {
    const id = ulid();
    const chain = chainOf(id);
    runs.add(id);
    runs.started(id);
    const first = [chain.next('execution.requested', data.requested())];
    runs.recorded(id, first);
    const stream = await open(id);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await stream.next()).toEqual({ id: '0', event: 'execution.requested', data: canonicalText(first[0]!) });
    const second = [chain.next('dataset.loaded', data.loaded()), chain.next('sandbox.created', data.created())];
    runs.recorded(id, second);
    expect(await stream.next()).toMatchObject({ id: '1', event: 'dataset.loaded' });
    expect(await stream.next()).toMatchObject({ id: '2', event: 'sandbox.created', data: canonicalText(second[1]!) });

    const resumed = await open(id, { 'last-event-id': '1' });
    expect(await resumed.next()).toMatchObject({ id: '2' });
    runs.certified(id, `cert_${id}`);
    for (const s of [stream, resumed]) {
      const end = await s.next();
      expect(end).toMatchObject({ event: 'end' });
      expect(JSON.parse(end!.data)).toEqual({ state: 'certified', certificate_id: `cert_${id}`, error: null });
      expect(await s.next()).toBeNull();
    }
    expect(runs.followerCount()).toBe(0);
  });

  it('ends at once for a refused run, with the code that says why', async () => {
    const id = ulid();
    runs.add(id);
    runs.failed(id, new EphemeraError('DATASET_URL_LOOPBACK', 'the dataset URL leads to a loopback address'));
    const messages = await (await open(id)).rest();
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]!.data)).toEqual({
      state: 'refused',
      certificate_id: null,
      error: { code: 'DATASET_URL_LOOPBACK', message: 'the dataset URL leads to a loopback address' },
    });
  });

  it("follows another node's run by polling the stored stream until it is final", async () => {
    const id = ulid();
    const chain = chainOf(id);
    const requested = chain.next('execution.requested', data.requested());
    await log.append([requested]);
    expect((await app.inject({ url: `/executions/${id}` })).json()).toMatchObject({ state: 'running', node: null, events: 1 });
    const stream = await open(id);
    expect(await stream.next()).toMatchObject({ id: '0', event: 'execution.requested' });
    const loaded = chain.next('dataset.loaded', data.loaded());
    await log.append([loaded]);
    expect(await stream.next()).toMatchObject({ id: '1', event: 'dataset.loaded' });
    await log.append([chain.next('execution.aborted', { reason: 'executor_restarted', last_seq: 1, error_code: null })]);
    expect(await stream.next()).toMatchObject({ id: '2', event: 'execution.aborted' });
    const end = JSON.parse((await stream.next())!.data);
    expect(end).toMatchObject({ state: 'aborted', certificate_id: null, error: { code: 'EXECUTION_ABORTED' } });
    expect((await app.inject({ url: `/executions/${id}` })).json()).toMatchObject({ state: 'aborted', error: { code: 'EXECUTION_ABORTED' } });
  });

  it('refuses a stream beyond the bound with Retry-After, and a client who leaves frees its slot, its follower and its timers', async () => {
    const id = ulid();
    runs.add(id);
    // The streams' own timers, told apart by their delays (the keep-alive's, the deadline's): counting every
    // timer of the process would count fetch's and the server's too, which come and go on their own.
    const started = [vi.spyOn(globalThis, 'setInterval'), vi.spyOn(globalThis, 'setTimeout')];
    const cleared = [vi.spyOn(globalThis, 'clearInterval'), vi.spyOn(globalThis, 'clearTimeout')];
    const streamTimers = () =>
      started.flatMap((spy, i) =>
        spy.mock.calls.flatMap((call, n) => (call[1] === [LIMITS.keepAliveMs, LIMITS.maxDurationMs][i] ? [spy.mock.results[n]!.value as unknown] : [])),
      );
    const streams: Awaited<ReturnType<typeof open>>[] = [];
    try {
      for (let i = 0; i < 3; i++) streams.push(await open(id));
      // Each stream holds its keep-alive and deadline timers while open.
      expect(streamTimers()).toHaveLength(6);
      await until(() => runs.followerCount() === 3);
      const refused = await fetch(`${base}/executions/${id}/events`);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('EXECUTION_STREAMS_BUSY');
      // Keep-alive comments flow meanwhile; then every client leaves.
      await new Promise((r) => setTimeout(r, 120));
      for (const s of streams.splice(0)) s.leave();
      await until(() => runs.followerCount() === 0);
      const again = await open(id);
      streams.push(again);
      expect(again.response.status).toBe(200);
      for (const s of streams.splice(0)) s.leave();
      await until(() => runs.followerCount() === 0);
      // Every timer a stream started was cleared when it closed.
      const clearedTimers = new Set(cleared.flatMap((spy) => spy.mock.calls.map((call) => call[0] as unknown)));
      expect(streamTimers()).toHaveLength(8);
      expect(streamTimers().filter((timer) => !clearedTimers.has(timer))).toEqual([]);
    } finally {
      for (const s of streams) s.leave();
      for (const spy of [...started, ...cleared]) spy.mockRestore();
    }
  });

  it('answers 404, 400 for a malformed id, 400 for a malformed Last-Event-ID', async () => {
    const unknown = await fetch(`${base}/executions/${ulid()}/events`);
    expect([unknown.status, ((await unknown.json()) as { error: { code: string } }).error.code]).toEqual([404, 'EXECUTION_NOT_FOUND']);
    for (const bad of ['nope', '01JD7ZX3Q4M5N6P7R8S9T0VWX', '81JD7ZX3Q4M5N6P7R8S9T0VWXY', '01jd7zx3q4m5n6p7r8s9t0vwxy', '01JD7ZX3Q4M5N6P7R8S9T0VWXU']) {
      const response = await fetch(`${base}/executions/${bad}`);
      expect([bad, response.status, ((await response.json()) as { error: { code: string } }).error.code]).toEqual([bad, 400, 'EXECUTION_ID_INVALID']);
    }
    const id = ulid();
    runs.add(id);
    for (const header of ['abc', '-1', '1e3', '9999999999']) {
      const response = await fetch(`${base}/executions/${id}/events`, { headers: { 'last-event-id': header } });
      expect([header, response.status]).toEqual([header, 400]);
    }
    runs.remove(id);
  });

  it('ends open streams when the server closes', async () => {
    const id = ulid();
    runs.add(id);
    const separate = Fastify();
    await separate.register(executionRoutes({ runs, streams: log, nodeId: 'node-a', limits: LIMITS }));
    const url = await separate.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(`${url}/executions/${id}/events`);
    await until(() => runs.followerCount() === 1);
    await separate.close();
    const rest: EventEnvelope[] = [];
    for await (const m of sseMessages(response.body!)) rest.push(JSON.parse(m.data));
    expect(rest).toEqual([]);
    expect(runs.followerCount()).toBe(0);
  });
});
