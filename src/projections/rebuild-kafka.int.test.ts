/**
 * Several nodes, one ledger: a node's read model rebuilt from offset 0 of a
 * multi-partition topic on the real broker holds exactly what it held before
 * (equal digests), whatever batches the log was cut into. The rebuild is the
 * CLI's (`ephemera projections rebuild`) in a separate process on another
 * data directory under the same node id: its store starts empty and the
 * node's consumer group has committed the end of every partition, so only a
 * reset to offset 0 gives it anything to project.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ulid } from 'ulid';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulatedAttestor } from '../attest/node.js';
import { loadConfig } from '../config.js';
import { sampleStream } from '../events/eventlog.contract.js';
import { EventChain } from '../events/index.js';
import { requireKafka } from '../events/kafka-testing.js';
import { createServices } from '../services.js';
import { readModelDigest } from './digest.js';
import { variedCertificate } from './testing/sample-streams.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ephemera-rebuild-kafka-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a node rebuilding its read model from offset 0 on Kafka', () => {
  it('reproduces the same digest as the node that projected the log as it was written', async () => {
    const env = {
      EPHEMERA_LOG: 'kafka',
      KAFKA_BROKERS: requireKafka().join(','),
      EPHEMERA_KAFKA_TOPIC: `ephemera.rebuild.${ulid().toLowerCase()}`,
      EPHEMERA_KAFKA_PARTITIONS: '3',
      EPHEMERA_NODE_ID: `node-${ulid().toLowerCase()}`,
    };
    const services = await createServices(loadConfig({ ...env, EPHEMERA_DATA_DIR: join(dir, 'first') }));
    let before: Awaited<ReturnType<typeof readModelDigest>>;
    try {
      const attestor = new SimulatedAttestor(join(dir, 'first'));
      // Appended a few events at a time, interleaved: the consumer sees other batches than the rebuild will.
      const streams = [];
      for (let i = 0; i < 6; i++) streams.push((await variedCertificate(i, attestor)).events);
      const open = sampleStream();
      const closedLater = sampleStream();
      streams.push(open, closedLater);
      for (let at = 0; streams.some((s) => at < s.length); at += 3) {
        for (const stream of streams) if (at < stream.length) await services.log.append(stream.slice(at, at + 3));
      }
      await services.log.append([
        EventChain.resume(closedLater.at(-1)!).next('execution.aborted', { reason: 'executor_restarted', last_seq: closedLater.length - 1, error_code: null }),
      ]);
      await services.feed!.caughtUp();
      before = await readModelDigest(await services.readModel.store());
      expect(before.rows).toMatchObject({ certificates: 8 });
      expect(before.rows.events).toBe(streams.reduce((n, s) => n + s.length, 0) + 1);
    } finally {
      await services.close();
    }

    const cli = (...args: string[]) => {
      const run = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), ...args, '--json'], {
        env: { ...process.env, ...env, EPHEMERA_DATA_DIR: join(dir, 'second') },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      return JSON.parse(run.stdout);
    };
    const rebuilt = cli('projections', 'rebuild');
    // No sequencer wrote to this topic's tlog ledger: the follower's log is rebuilt empty.
    expect(rebuilt).toEqual({ events: before.rows.events, digest: before.digest, tlog: { size: 0, root: null } });
    expect(cli('projections', 'digest')).toEqual(before);
  }, 180_000);
});
