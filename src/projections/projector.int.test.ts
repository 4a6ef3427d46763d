/**
 * The projector on the real ClickHouse engine (chDB in-process; also a server
 * when CLICKHOUSE_URL is set): every event and certificate projected,
 * idempotency, rebuild equality, catch-up after an outage, and reads while
 * ClickHouse is unreachable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SimulatedAttestor } from '../attest/node.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createServices, type Services } from '../services.js';
import type { TailableEventLog } from '../events/index.js';
import { catchUp, checkpoint, project, truncateProjections } from './projector.js';
import { variedCertificate } from './testing/sample-streams.js';
import { N, TARGETS, useProjectionFixture } from './testing/projection-fixture.js';

describe.each(TARGETS)('ClickHouse projector on $name', ({ url }) => {
  const f = useProjectionFixture(url, 'projector');
  describe('when the log is projected', () => {
    it('holds every event and one row per certificate', async () => {
      expect(await f.services.readModel.refresh()).toBe(f.certs.reduce((n, c) => n + c.events.length, 0));
      const s = await f.snapshot();
      expect(s.certificates).toHaveLength(N);
      expect(s.events).toHaveLength(f.certs.reduce((n, c) => n + c.events.length, 0));
    });

    it('is idempotent: projecting every event again changes nothing (THREATS D33)', async () => {
      const before = await f.snapshot();
      for (const c of f.certs) await project(f.store, c.events);
      expect(await f.snapshot()).toEqual(before);
    });

    it('rebuilds to exactly what was there', async () => {
      const before = await f.snapshot();
      await truncateProjections(f.store);
      expect((await f.snapshot()).certificates).toHaveLength(0);
      await f.services.readModel.refresh();
      expect(await f.snapshot()).toEqual(before);
    });
  });

  describe('when ClickHouse fails during catch-up', () => {
    it('keeps its checkpoint, and catches up with what was appended meanwhile once it is back', async () => {
      const before = await checkpoint(f.store, 'sqlite');
      const extra = await variedCertificate(100, new SimulatedAttestor(f.dir));
      await f.services.log.append(extra.events);
      const broken = new Proxy(f.store, {
        get: (target, key) =>
          key === 'insert'
            ? async () => {
                throw new Error('ClickHouse is down');
              }
            : Reflect.get(target, key),
      });
      await expect(catchUp(broken, f.services.log as TailableEventLog)).rejects.toThrow('down');
      expect(await checkpoint(f.store, 'sqlite')).toBe(before);
      await f.services.readModel.refresh();
      expect(
        (await f.get(`/certificates?fingerprint=${extra.fingerprint}&limit=100`)).body.items.map((r: { certificate_id: string }) => r.certificate_id),
      ).toContain(extra.certificate_id);
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
