/**
 * GET /health and GET /ready against the real parts: the SQLite log, chDB or
 * a ClickHouse URL, the simulated attestor or a dstack guest agent stand-in,
 * and the shared Kafka broker. "Unreachable" is always a closed port on
 * loopback or a closed handle, never another address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { startDstackSimulator } from './attest/testing/dstack-standins.js';
import { loadConfig } from './config.js';
import { requireKafka } from './events/kafka-testing.js';
import { healthRoutes, INSTANCE_ID, kafkaProbe, READY_CACHE_MS } from './health.js';
import { Admission } from './commands/execute/admission.js';
import { closedPort } from './net/testing/local-servers.js';
import { createServices, type Services } from './services.js';

const ALL_OK = { log: { ok: true }, projections: { ok: true }, attestor: { ok: true } };
/** The capacity of an executor with nothing running or waiting. */
const IDLE = expect.objectContaining({ draining: false, runs_in_flight: 0, queued: 0, memory_reserved_bytes: 0 });
const idleCapacity = () => new Admission({ maxRuns: 1, memoryBudgetBytes: 1, queueMax: 0, queueTimeoutMs: 1, drainTimeoutMs: 1 }).snapshot();

describe('GET /health and GET /ready', () => {
  // One data dir for every services instance: chDB serves one data directory per process.
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-health-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function open(
    env: Record<string, string>,
    options: { feed?: boolean } = {},
  ): Promise<{ services: Services; app: FastifyInstance; close(): Promise<void> }> {
    const services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, ...env }), options);
    const app = await buildApp(services);
    return {
      services,
      app,
      async close() {
        await app.close();
        await services.close();
      },
    };
  }
  /** A round's answer serves /ready for READY_CACHE_MS: a change shows from the next round on. */
  const nextRound = () => new Promise((resolve) => setTimeout(resolve, READY_CACHE_MS + 20));
  const get = async (app: FastifyInstance, url: string) => {
    const response = await app.inject({ url });
    return { status: response.statusCode, body: response.json() };
  };

  describe('on the SQLite log, chDB and the simulated attestor', () => {
    it('is alive and ready while every part answers, and names the log once the log is closed (still alive)', async () => {
      const { services, app, close } = await open({});
      try {
        expect(await get(app, '/health')).toEqual({
          status: 200,
          body: { status: 'ok', instance: INSTANCE_ID, node_id: services.nodeId, executor: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
        });
        expect(await get(app, '/ready')).toEqual({ status: 200, body: { status: 'ready', checks: ALL_OK, capacity: IDLE } });

        await services.log.close();
        await nextRound();
        expect(await get(app, '/ready')).toEqual({
          status: 503,
          body: { status: 'not_ready', checks: { ...ALL_OK, log: { ok: false, code: 'LOG_UNAVAILABLE' } }, capacity: IDLE },
        });
        expect(await get(app, '/health')).toEqual({
          status: 200,
          body: { status: 'ok', instance: INSTANCE_ID, node_id: services.nodeId, executor: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
        });
      } finally {
        await close();
      }
    });
  });

  describe('with runs admitted, and once a drain begins', () => {
    it('answers the capacity and its use, then 503 draining (every part still answering) so a proxy stops sending', async () => {
      const { services, app, close } = await open({
        EPHEMERA_MAX_RUNS: '3',
        EPHEMERA_MEMORY_BUDGET_MB: '2048',
        EPHEMERA_QUEUE_MAX: '5',
        EPHEMERA_DRAIN_TIMEOUT_MS: '60000',
      });
      try {
        const ticket = await services.admission.admit({ memoryBytes: 100 * 2 ** 20 });
        const capacity = { runs_max: 3, queue_max: 5, memory_budget_bytes: 2048 * 2 ** 20, queued: 0 };
        expect(await get(app, '/ready')).toEqual({
          status: 200,
          body: { status: 'ready', checks: ALL_OK, capacity: { ...capacity, draining: false, runs_in_flight: 1, memory_reserved_bytes: 100 * 2 ** 20 } },
        });
        const drained = services.admission.drain();
        expect(await get(app, '/ready')).toEqual({
          status: 503,
          body: { status: 'draining', checks: ALL_OK, capacity: { ...capacity, draining: true, runs_in_flight: 1, memory_reserved_bytes: 100 * 2 ** 20 } },
        });
        ticket.release();
        await drained;
      } finally {
        await close();
      }
    });
  });

  describe('when the projections store does not answer', () => {
    it('answers 503 naming the projections (CLICKHOUSE_URL at a closed loopback port), with no address or message in the body', async () => {
      const port = await closedPort();
      const { app, close } = await open({ CLICKHOUSE_URL: `http://127.0.0.1:${port}/` });
      try {
        const ready = await app.inject({ url: '/ready' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toEqual({
          status: 'not_ready',
          checks: { ...ALL_OK, projections: { ok: false, code: 'PROJECTIONS_UNAVAILABLE' } },
          capacity: IDLE,
        });
        expect(ready.body).not.toContain(String(port));
        expect((await get(app, '/health')).status).toBe(200);
      } finally {
        await close();
      }
    });
  });

  describe('with a dstack guest agent', () => {
    it('is ready while the agent answers, and answers 503 naming the attestor once it is gone', async () => {
      const dstack = await startDstackSimulator();
      const { app, close } = await open({ EPHEMERA_TEE: 'dstack', DSTACK_SIMULATOR_ENDPOINT: dstack.url });
      try {
        expect(await get(app, '/ready')).toEqual({ status: 200, body: { status: 'ready', checks: ALL_OK, capacity: IDLE } });
        await dstack.close();
        await nextRound();
        expect(await get(app, '/ready')).toEqual({
          status: 503,
          body: { status: 'not_ready', checks: { ...ALL_OK, attestor: { ok: false, code: 'ATTEST_UNAVAILABLE' } }, capacity: IDLE },
        });
      } finally {
        await close();
      }
    });
  });

  describe('when /ready is asked many times at once', () => {
    it('probes each part once per round, and answers every request from that round', async () => {
      let calls = 0;
      let release = () => undefined as void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const slow = async () => {
        calls += 1;
        await gate;
      };
      const app = Fastify();
      await app.register(healthRoutes({ log: slow, projections: async () => undefined, attestor: async () => undefined }, idleCapacity));
      try {
        const answers = Array.from({ length: 20 }, () => get(app, '/ready'));
        await new Promise((resolve) => setTimeout(resolve, 50));
        release();
        expect(new Set((await Promise.all(answers)).map((a) => a.status))).toEqual(new Set([200]));
        expect(calls).toBe(1);
        await nextRound();
        await get(app, '/ready');
        expect(calls).toBe(2);
      } finally {
        await app.close();
      }
    });
  });

  describe('on the Kafka log', () => {
    it('is ready while the broker answers', async () => {
      const brokers = requireKafka();
      const topic = `ephemera-ready-${process.pid}-${Date.now()}`;
      const { app, close } = await open({ EPHEMERA_LOG: 'kafka', KAFKA_BROKERS: brokers.join(','), EPHEMERA_KAFKA_TOPIC: topic }, { feed: false });
      try {
        expect(await get(app, '/ready')).toEqual({ status: 200, body: { status: 'ready', checks: ALL_OK, capacity: IDLE } });
      } finally {
        await close();
      }
    });

    it('answers 503 naming the log when the broker is a closed loopback port', async () => {
      const kafka = new Kafka({ brokers: [`127.0.0.1:${await closedPort()}`], connectionTimeout: 1000, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
      const ok = async () => undefined;
      const app = Fastify();
      await app.register(healthRoutes({ log: kafkaProbe({ kafka, topic: 'ephemera-events' }), projections: ok, attestor: ok }, idleCapacity));
      try {
        expect(await get(app, '/ready')).toEqual({
          status: 503,
          body: { status: 'not_ready', checks: { ...ALL_OK, log: { ok: false, code: 'LOG_UNAVAILABLE' } }, capacity: IDLE },
        });
      } finally {
        await app.close();
      }
    });
  });
});
