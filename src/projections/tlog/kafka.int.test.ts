/**
 * The log on Kafka (real broker, KAFKA_BROKERS): a sequencer node and a follower node share the one-partition
 * tlog topic; the follower applies the same records into its own tile store and reaches the same checkpoint.
 * Kafka cannot refuse what a second sequencer appends: a batch at an index already taken, and one signed by
 * another key, are ignored by both nodes and stay in the topic as evidence.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ulid } from 'ulid';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedAttestor } from '../../attest/node.js';
import { openLogKey } from '../../commands/tlog/log-key.js';
import { Sequencer } from '../../commands/tlog/sequencer.js';
import { requireKafka } from '../../events/kafka-testing.js';
import { KafkaTlogLedger } from '../../events/tlog-ledger-kafka.js';
import { parseNoteVerifierKey, type LoggableCertificate } from '../../tlog/index.js';
import { TlogProjection } from './log-projection.js';
import { listSource, sealedCertificate } from './testing/certificates.js';
import { TileStore } from './tile-store.js';

const root = mkdtempSync(join(tmpdir(), 'tlog-kafka-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the log on Kafka: sequencer and follower', () => {
  it('the follower projects the same tree; a stray sequencer is ignored by both', async () => {
    const kafka = new Kafka({ brokers: requireKafka(), logLevel: logLevel.NOTHING });
    const topic = `ephemera.test.${ulid().toLowerCase()}.tlog`;
    const [ledgerA, ledgerB, ledgerStray] = [
      await KafkaTlogLedger.open(kafka, topic),
      await KafkaTlogLedger.open(kafka, topic),
      await KafkaTlogLedger.open(kafka, topic),
    ];
    try {
      const key = await openLogKey(new SimulatedAttestor(join(root, 'a')), 'ephemera.test/kafka');
      const strayKey = await openLogKey(new SimulatedAttestor(join(root, 'stray')), 'ephemera.test/kafka');
      const certificates: LoggableCertificate[] = Array.from({ length: 40 }, (_, i) => sealedCertificate(`f${i % 4}`, new Date(Date.UTC(2026, 0, 1, 0, 0, i))));
      const sequencerLog = new TlogProjection({ store: new TileStore(join(root, 'a', 'tlog')), origin: key.origin, verifier: parseNoteVerifierKey(key.vkey) });
      // Under dstack every node derives the same log key, so a follower checks the signature too.
      const follower = new TlogProjection({ store: new TileStore(join(root, 'b', 'tlog')), origin: key.origin, verifier: parseNoteVerifierKey(key.vkey) });
      const strayLog = new TlogProjection({ store: new TileStore(join(root, 'stray', 'tlog')), origin: key.origin });
      const sequencer = new Sequencer({
        ledger: ledgerA,
        log: sequencerLog,
        candidates: listSource(certificates.slice(0, 25)),
        key,
        batchMax: 10,
        intervalMs: 1000,
      });
      for (const expected of [10, 10, 5]) expect(await sequencer.tick()).toBe(expected);
      // A second sequencer's batch at index 20, committed after the first one's (here: the same batch again).
      const batch20 = (await ledgerA.readFrom(-1, 10)).find((r) => r.text.includes('"first_index":20'))!;
      const duplicate = await ledgerStray.append(batch20.text, 20);
      // A sequencer under another key (not the log's) appends a batch at the right index.
      const stray = new Sequencer({
        ledger: ledgerStray,
        log: strayLog,
        candidates: listSource(certificates.slice(30)),
        key: strayKey,
        batchMax: 10,
        intervalMs: 1000,
      });
      expect(await stray.tick()).toBe(10);
      const strayPosition = (await ledgerA.readFrom(duplicate, 10))[0]!.position;
      await sequencerLog.catchUp(ledgerA);
      await follower.catchUp(ledgerB);
      expect(follower.size).toBe(25);
      expect(follower.latest).toEqual(sequencerLog.latest);
      expect(follower.ignored).toEqual([duplicate, strayPosition]);
      expect(sequencerLog.ignored).toEqual([duplicate, strayPosition]);
      // And the sequencer goes on from its own tree.
      const next = new Sequencer({ ledger: ledgerA, log: sequencerLog, candidates: listSource(certificates), key, batchMax: 100, intervalMs: 1000 });
      expect(await next.tick()).toBe(15);
      await follower.catchUp(ledgerB);
      expect(follower.latest).toEqual(sequencerLog.latest);
      expect(follower.size).toBe(40);
    } finally {
      await Promise.all([ledgerA.close(), ledgerB.close(), ledgerStray.close()]);
    }
  }, 120_000);
});
