/**
 * The projector fed by Kafka (a real broker; `npm test` starts one, see
 * test/global-setup.ts) into chDB: the services' projection consumer group
 * projects every certificate, a second group replaying the topic from the
 * beginning changes nothing, and a consumer whose ClickHouse writes fail
 * catches up once they work again (its offsets stay uncommitted meanwhile).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { SimulatedAttestor } from '../attest/node.js';
import { loadConfig } from '../config.js';
import { requireKafka } from '../events/kafka-testing.js';
import type { KafkaEventLog } from '../events/node.js';
import type { EventEnvelope } from '../events/index.js';
import { createServices, type Services } from '../services.js';
import type { Certificate } from '../verify/index.js';
import { startKafkaFeed } from './feed/kafka-feed.js';
import { project, truncateProjections } from './projector.js';
import { rows, type Store } from './store/clickhouse.js';
import { variedCertificate } from './testing/sample-streams.js';

const N = 8;
const dir = mkdtempSync(join(tmpdir(), 'ephemera-projector-kafka-'));
const topic = `ephemera.projector.${ulid().toLowerCase()}`;
let services: Services;
let store: Store;
let certs: Certificate[];

const snapshot = async () => ({
  events: await rows(store, 'SELECT execution_id, seq, hash FROM events FINAL ORDER BY execution_id, seq'),
  certificates: await rows(store, 'SELECT * FROM certificates FINAL ORDER BY certificate_id'),
  tool_uses: await rows(store, 'SELECT * FROM tool_uses FINAL ORDER BY certificate_id, tool, caller'),
  model_uses: await rows(store, 'SELECT * FROM model_uses FINAL ORDER BY certificate_id, model'),
});

beforeAll(async () => {
  services = await createServices(
    loadConfig({ EPHEMERA_DATA_DIR: dir, EPHEMERA_LOG: 'kafka', KAFKA_BROKERS: requireKafka().join(','), EPHEMERA_KAFKA_TOPIC: topic }),
  );
  store = await services.readModel.store();
  const attestor = new SimulatedAttestor(dir);
  certs = [];
  for (let i = 0; i < N; i++) certs.push(await variedCertificate(i, attestor));
  for (const c of certs) await services.log.append(c.events);
}, 120_000);
afterAll(async () => {
  await services?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('projector on Kafka', () => {
  describe('when the projection consumer group has caught up', () => {
    it('holds every event and one row per certificate', async () => {
      await services.feed!.caughtUp(60_000);
      const s = await snapshot();
      expect(s.certificates.map((c) => (c as { certificate_id: string }).certificate_id)).toEqual(certs.map((c) => c.certificate_id).sort());
      expect(s.events).toHaveLength(certs.reduce((n, c) => n + c.events.length, 0));
    }, 90_000);
  });

  describe('when another group replays the whole topic (a redelivery)', () => {
    it('changes nothing', async () => {
      const before = await snapshot();
      const replay = await startKafkaFeed((services.log as KafkaEventLog).kafka, topic, `replay-${ulid()}`, (events) => project(store, events));
      try {
        await replay.caughtUp(60_000);
      } finally {
        await replay.stop();
      }
      expect(await snapshot()).toEqual(before);
    }, 90_000);
  });

  describe('when ClickHouse writes fail for a while', () => {
    it('catches up from the uncommitted offsets once they work again, to the same tables', async () => {
      const before = await snapshot();
      await truncateProjections(store);
      let failures = 2;
      const flaky = async (events: EventEnvelope[]) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('ClickHouse is down');
        }
        await project(store, events);
      };
      const feed = await startKafkaFeed((services.log as KafkaEventLog).kafka, topic, `outage-${ulid()}`, flaky);
      try {
        await feed.caughtUp(60_000);
      } finally {
        await feed.stop();
      }
      expect(failures).toBe(0);
      expect(await snapshot()).toEqual(before);
    }, 90_000);
  });
});
