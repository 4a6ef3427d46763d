/**
 * The read side on the real ClickHouse engine (chDB in-process): projection,
 * idempotency, rebuild, search filters and pagination, analytics against
 * figures computed from the events, audit replay proofs, SQL injection,
 * catch-up after an outage.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { hexToBytes, hashToBytes } from '../events/index.js';
import { leafHash, verifyInclusion } from '../attest/index.js';
import { SimulatedAttestor } from '../attest/node.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import type { Certificate } from '../verify/index.js';
import { catchUp, checkpoint, project, truncateProjections } from './projector.js';
import { rows, type Store } from './store/clickhouse.js';
import { variedCertificate } from './testing/sample-streams.js';
import type { TailableEventLog } from '../events/index.js';
import { replayAgainstProjection } from './replay/index.js';

const N = 24;

/**
 * The same suite on every target: always chDB; also a ClickHouse server when
 * CLICKHOUSE_URL is set (its database is truncated first).
 */
const targets: { name: string; url: string | undefined }[] = [
  { name: 'chDB in-process', url: undefined },
  ...(process.env.CLICKHOUSE_URL ? [{ name: 'a ClickHouse server (CLICKHOUSE_URL)', url: process.env.CLICKHOUSE_URL }] : []),
];

describe.each(targets)('ClickHouse projections on $name', ({ url }) => {
  const dir = mkdtempSync(join(tmpdir(), 'ephemera-projections-'));
  let services: Services;
  let app: FastifyInstance;
  let store: Store;
  let certs: Certificate[];

  const snapshot = async () => ({
    events: await rows(store, 'SELECT execution_id, seq, hash FROM events FINAL ORDER BY execution_id, seq'),
    certificates: await rows(store, 'SELECT * FROM certificates FINAL ORDER BY certificate_id'),
    tool_uses: await rows(store, 'SELECT * FROM tool_uses FINAL ORDER BY certificate_id, tool'),
    model_uses: await rows(store, 'SELECT * FROM model_uses FINAL ORDER BY certificate_id, model'),
  });
  const get = async (path: string) => {
    const response = await app.inject({ url: path });
    return { status: response.statusCode, body: response.json() };
  };
  const ids = (list: { certificate_id: string }[]) => list.map((c) => c.certificate_id).sort();

  beforeAll(async () => {
    services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, ...(url ? { CLICKHOUSE_URL: url } : {}) }));
    store = await services.readModel.store();
    // A server may hold rows from an earlier run; the suite needs empty projections.
    await truncateProjections(store);
    app = await buildApp(services);
    const attestor = new SimulatedAttestor(dir);
    certs = [];
    for (let i = 0; i < N; i++) certs.push(await variedCertificate(i, attestor));
    for (const c of certs) await services.log.append(c.events);
  });
  afterAll(async () => {
    await app?.close();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when the log is projected', () => {
    it('holds every event and one row per certificate', async () => {
      expect(await services.readModel.refresh()).toBe(certs.reduce((n, c) => n + c.events.length, 0));
      const s = await snapshot();
      expect(s.certificates).toHaveLength(N);
      expect(s.events).toHaveLength(certs.reduce((n, c) => n + c.events.length, 0));
    });

    it('is idempotent: projecting every event again changes nothing (THREATS D33)', async () => {
      const before = await snapshot();
      for (const c of certs) await project(store, c.events);
      expect(await snapshot()).toEqual(before);
    });

    it('rebuilds to exactly what was there', async () => {
      const before = await snapshot();
      await truncateProjections(store);
      expect((await snapshot()).certificates).toHaveLength(0);
      await services.readModel.refresh();
      expect(await snapshot()).toEqual(before);
    });
  });

  describe('when searching', () => {
    const expectIds = async (query: string, pick: (c: Certificate) => boolean) => {
      const { status, body } = await get(`/certificates?limit=100&${query}`);
      expect(status).toBe(200);
      const expected = certs.filter(pick).map((c) => c.certificate_id).sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(ids(body.items)).toEqual(expected);
    };

    it('filters by status', () => expectIds('status=failed', (c) => c.status === 'failed'));
    it('filters by model', () => expectIds('model=claude-a', (c) => 'claude-a' in c.execution_trace.llm_calls.by_model));
    it('filters by tool', () => expectIds('tool=grep', (c) => c.execution_trace.tool_uses.some((u) => u.tool === 'grep')));
    it('filters by dataset hash', () => expectIds(`dataset_hash=${certs[3]!.dataset_hash}`, (c) => c.dataset_hash === certs[3]!.dataset_hash));
    it('filters by sandbox hash', () => expectIds(`sandbox_hash=${certs[1]!.sandbox_hash}`, (c) => c.sandbox_hash === certs[1]!.sandbox_hash));
    it('filters by fingerprint', () => expectIds(`fingerprint=${certs[2]!.fingerprint}`, (c) => c.fingerprint === certs[2]!.fingerprint));
    it('filters by time range', () => expectIds('from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z', (c) => c.lifecycle.requested! >= '2026-03-02' && c.lifecycle.requested! < '2026-03-03'));
    it('filters by text in the result preview', () => expectIds('q=ROW%207%22', (c) => c.result.output.includes('row 7"')));

    it('walks every page with the cursor, in order, without repeats', async () => {
      for (const [sort, key] of [['requested_at', (c: Certificate) => c.lifecycle.requested!], ['duration_ms', (c: Certificate) => String(c.lifecycle.execution_time_ms).padStart(10, '0')]] as const) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const { body } = await get(`/certificates?limit=5&sort=${sort}&order=asc${cursor ? `&cursor=${cursor}` : ''}`);
          expect(body.items.length).toBeLessThanOrEqual(5);
          seen.push(...body.items.map((c: { certificate_id: string }) => c.certificate_id));
          cursor = body.next_cursor;
          pages += 1;
        } while (cursor);
        expect(pages).toBe(Math.ceil(N / 5));
        expect(seen).toEqual([...certs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.certificate_id < b.certificate_id ? -1 : 1)).map((c) => c.certificate_id));
      }
    });

    it.each([[1], [6], [N], [100]])('with pages of %i (default sort, newest first), covers every certificate once and ends without an empty page', async (limit) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const { status, body } = await get(`/certificates?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(status).toBe(200);
        expect(body.items.length).toBeGreaterThan(0);
        seen.push(...body.items.map((c: { certificate_id: string }) => c.certificate_id));
        cursor = body.next_cursor;
        pages += 1;
      } while (cursor);
      expect(pages).toBe(Math.ceil(N / limit));
      const newestFirst = [...certs].sort((a, b) => (a.lifecycle.requested! > b.lifecycle.requested! ? -1 : a.lifecycle.requested! < b.lifecycle.requested! ? 1 : a.certificate_id > b.certificate_id ? -1 : 1));
      expect(seen).toEqual(newestFirst.map((c) => c.certificate_id));
    });

    it('refuses a cursor replayed with another sort or order, or forged with a value its sort cannot hold', async () => {
      const { body } = await get('/certificates?limit=2&sort=duration_ms&order=asc');
      expect((await get(`/certificates?limit=2&sort=duration_ms&order=asc&cursor=${body.next_cursor}`)).status).toBe(200);
      const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const id = certs[0]!.certificate_id;
      for (const query of [
        `sort=requested_at&order=asc&cursor=${body.next_cursor}`,
        `sort=duration_ms&order=desc&cursor=${body.next_cursor}`,
        `sort=duration_ms&order=asc&cursor=${forge(['duration_ms', 'asc', 'abc', id])}`,
        `sort=duration_ms&order=asc&cursor=${forge(['duration_ms', 'asc', '1) OR (1=1', id])}`,
        `sort=requested_at&order=desc&cursor=${forge(['requested_at', 'desc', 'zzz', id])}`,
        `sort=requested_at&order=desc&cursor=${forge(['requested_at', 'desc', '2026-03-01 10:00:00.000', "x' OR 1=1 --"])}`,
        `cursor=${forge(['2026-03-01 10:00:00.000', id])}`,
      ]) {
        const { status, body: error } = await get(`/certificates?${query}`);
        expect(status, query).toBe(400);
        expect(error.error.code).toBe('REQUEST_INVALID');
      }
    });

    it.each([['limit=0'], ['limit=101'], ['cursor=bm9uc2Vuc2U'], ['status=running'], ['dataset_hash=abc'], ['from=yesterday'], ['from=%2B275760-09-13T00:00:00Z'], ['to=2026-03-02T10:00'], ['from=1800-01-01'], ['to=2026-03-02T10:00:00Z%20OR%201'], ['extra=1']])('rejects %s with 400', async (query) => {
      const { status, body } = await get(`/certificates?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('REQUEST_INVALID');
    });

    it.each([
      ["model=x' OR 1=1 --"], ['tool=%27%29%20OR%20%281%3D1'], ['q=%27%3B%20DROP%20TABLE%20certificates%3B%20--'], ['model=%5C%27%20UNION%20SELECT%201'],
    ])('treats %s as plain text: no rows, no error, tables intact', async (query) => {
      const { status, body } = await get(`/certificates?${query}`);
      expect(status).toBe(200);
      expect(body.items).toEqual([]);
      expect((await snapshot()).certificates).toHaveLength(N);
    });
  });

  describe('when reading analytics', () => {
    /** Every figure computed in TypeScript straight from the certificates' events. */
    const fromEvents = (subset: Certificate[]) => {
      const perDay = new Map<string, number>();
      for (const c of subset) perDay.set(c.lifecycle.requested!.slice(0, 10), (perDay.get(c.lifecycle.requested!.slice(0, 10)) ?? 0) + 1);
      const tokens = new Map<string, [number, number, number]>();
      for (const c of subset) for (const [m, u] of Object.entries(c.execution_trace.llm_calls.by_model)) {
        const t = tokens.get(m) ?? [0, 0, 0];
        tokens.set(m, [t[0] + u.calls, t[1] + u.input_tokens, t[2] + u.output_tokens]);
      }
      const tools = new Map<string, number>();
      for (const c of subset) for (const u of c.execution_trace.tool_uses) tools.set(`${u.tool}/${u.caller}`, (tools.get(`${u.tool}/${u.caller}`) ?? 0) + u.count);
      // quantilesExactLow: the element at rank ceil(level·n) of the sorted durations.
      const durations = subset.map((c) => c.lifecycle.execution_time_ms!).sort((x, y) => x - y);
      const exactLow = (level: number) => durations[Math.max(0, Math.ceil(level * durations.length) - 1)] ?? 0;
      const failures = new Map<string, number>();
      for (const c of subset) if (c.status === 'failed') failures.set(c.result.error_code!, (failures.get(c.result.error_code!) ?? 0) + 1);
      return {
        perDay: [...perDay].sort(),
        tokens: [...tokens].sort().map(([model, [calls, input_tokens, output_tokens]]) => ({ model, calls, input_tokens, output_tokens })),
        tools,
        durations: { executions: subset.length, p50_ms: exactLow(0.5), p95_ms: exactLow(0.95), p99_ms: exactLow(0.99) },
        failures,
      };
    };
    const fromClickHouse = async (range: string) => ({
      perDay: (await get(`/analytics/executions-per-day${range}`)).body.items.map((r: { day: string; executions: number }) => [r.day, r.executions]),
      tokens: (await get(`/analytics/tokens-by-model${range}`)).body.items,
      tools: new Map(((await get(`/analytics/tool-usage${range}`)).body.items as { tool: string; caller: string; calls: number }[]).map((u) => [`${u.tool}/${u.caller}`, u.calls])),
      durations: (await get(`/analytics/durations${range}`)).body,
      failures: new Map((await get(`/analytics/failures${range}`)).body.items.map((r: { error_code: string; executions: number }) => [r.error_code, r.executions])),
    });

    it('gives the same figures as the events', async () => {
      expect(await fromClickHouse('')).toEqual(fromEvents(certs));
    });

    it('gives the same figures as the events within a time range', async () => {
      const inRange = certs.filter((c) => c.lifecycle.requested! >= '2026-03-02' && c.lifecycle.requested! < '2026-03-04');
      expect(inRange.length).toBeGreaterThan(0);
      expect(inRange.length).toBeLessThan(N);
      expect(await fromClickHouse('?from=2026-03-02&to=2026-03-04T00:00:00Z')).toEqual(fromEvents(inRange));
    });

    it('gives zeros and empty lists for a range with no runs', async () => {
      expect(await fromClickHouse('?from=2030-01-01')).toEqual(fromEvents([]));
    });

    it.each([['from=yesterday'], ['to=2026-03-02T10:00'], ['limit=5'], ["from=2026-03-02'%20OR%201=1"]])('rejects %s with 400', async (query) => {
      const { status, body } = await get(`/analytics/durations?${query}`);
      expect(status).toBe(400);
      expect(body.error.code).toBe('REQUEST_INVALID');
    });
  });

  describe('when replaying a stream for audit', () => {
    it('every event comes with an inclusion proof that verifies against the sealed root', async () => {
      const c = certs[5]!;
      const { status, body } = await get(`/certificate/${c.certificate_id}/events`);
      expect(status).toBe(200);
      expect(body.root).toBe(c.merkle!.root);
      expect(body.sealed_root).toBe(c.merkle!.root);
      const root = hashToBytes(body.root);
      for (const e of body.events.slice(0, -1)) verifyInclusion(leafHash(hashToBytes(e.event.hash)), e.leaf_index, body.tree_size, e.inclusion_proof.map(hexToBytes), root);
      expect(body.events.at(-1)).toMatchObject({ leaf_index: null, inclusion_proof: null });
    });
  });

  describe('when ClickHouse fails during catch-up', () => {
    it('keeps its checkpoint, and catches up with what was appended meanwhile once it is back', async () => {
      const before = await checkpoint(store, 'sqlite');
      const extra = await variedCertificate(100, new SimulatedAttestor(dir));
      await services.log.append(extra.events);
      const broken = new Proxy(store, { get: (target, key) => (key === 'insert' ? async () => { throw new Error('ClickHouse is down'); } : Reflect.get(target, key)) });
      await expect(catchUp(broken, services.log as TailableEventLog)).rejects.toThrow('down');
      expect(await checkpoint(store, 'sqlite')).toBe(before);
      await services.readModel.refresh();
      expect((await get(`/certificates?fingerprint=${extra.fingerprint}&limit=100`)).body.items.map((r: { certificate_id: string }) => r.certificate_id)).toContain(extra.certificate_id);
    });
  });
  describe('when a certificate is replayed against its projection', () => {
    const replay = (id: string) => replayAgainstProjection({ certificates: services.certificates, store, verifyOptions: services.verifyOptions }, id);

    it('verifies it and finds no difference in an honest projection', async () => {
      expect(await replay(certs[4]!.certificate_id)).toMatchObject({ valid: true, failure: null, projection_diff: [] });
    });

    it('names every altered column, and a rebuild puts it right', async () => {
      const c = certs[4]!;
      const [row] = await rows<Record<string, unknown>>(store, 'SELECT * FROM certificates FINAL WHERE certificate_id = {id:String}', { id: c.certificate_id });
      const forged = { ...row, status: c.status === 'completed' ? 'failed' : 'completed', tools: ['forged'], event_count: Number(row!.event_count) + 1 };
      await store.insert({ table: 'certificates', format: 'JSONEachRow', values: [forged] });
      expect((await replay(c.certificate_id))!.projection_diff.map((d) => d.field).sort()).toEqual(['event_count', 'status', 'tools']);
      await truncateProjections(store);
      await services.readModel.refresh();
      expect((await replay(c.certificate_id))!.projection_diff).toEqual([]);
    });

    it('reports a row missing from the projection', async () => {
      const c = certs[6]!;
      await store.command({ query: 'DELETE FROM certificates WHERE certificate_id = {id:String}', query_params: { id: c.certificate_id } });
      expect((await replay(c.certificate_id))!.projection_diff).toEqual([{ field: '(row)', log: 'present', projection: 'missing' }]);
      await truncateProjections(store);
      await services.readModel.refresh();
    });

    it('is null for an execution the log does not have', async () => {
      expect(await replay('cert_01JD7ZX3Q4M5N6P7R8S9T0VWXY')).toBeNull();
    });
  });
});

describe('the read side', () => {
  describe('when ClickHouse cannot be reached', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ephemera-projections-down-'));
    let services: Services;
    let app: FastifyInstance;
    beforeAll(async () => {
      // Loopback port 1: nothing listens there, so every connection is refused.
      services = await createServices(loadConfig({ EPHEMERA_DATA_DIR: dir, CLICKHOUSE_URL: 'http://127.0.0.1:1' }));
      app = await buildApp(services);
    });
    afterAll(async () => {
      await app?.close();
      await services?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('still appends to the log, and answers reads with 503 PROJECTIONS_UNAVAILABLE', async () => {
      const c = await variedCertificate(1, new SimulatedAttestor(dir));
      await services.log.append(c.events);
      expect(await services.log.readStream(c.execution_id)).toHaveLength(c.events.length);
      for (const url of ['/certificates', '/analytics/durations', '/analytics/tool-usage']) {
        const response = await app.inject({ url });
        expect(response.statusCode, url).toBe(503);
        expect(response.json().error.code).toBe('PROJECTIONS_UNAVAILABLE');
      }
      await expect(services.readModel.refresh()).rejects.toMatchObject({ code: 'PROJECTIONS_UNAVAILABLE' });
    });
  });
});
