/**
 * The Kafka backend against a real broker (scripts/kafka/start.sh; CI starts
 * it in .ci/setup.d/20-kafka.sh and exports KAFKA_BROKERS).
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { describeEventLogContract, sampleStream } from './eventlog.contract.js';
import { KafkaEventLog } from './kafka.js';
import { verifyStream } from './chain.js';
import { EventChain, sealEnvelope, type EventEnvelope } from './envelope.js';
import { requireKafka } from './kafka-testing.js';

const brokers = () => requireKafka();
const topic = `ephemera.test.${ulid().toLowerCase()}`;

/** A valid stream of `length` events: a run's opening events, then file records of its tool call. */
function longStream(length: number): EventEnvelope[] {
  const head = sampleStream().slice(0, 4);
  const chain = EventChain.resume(head[3]!);
  const files = Array.from({ length: length - 4 }, (_, i) => chain.next('file.accessed', { call_id: 'c1', op: 'read', path: `/work/${i}`, count: 1 }));
  return [...head, ...files];
}

describeEventLogContract('kafka', {
  open: () => KafkaEventLog.open({ brokers: brokers(), topic }),
  reopen: () => KafkaEventLog.open({ brokers: brokers(), topic }),
});

describe('KafkaEventLog', () => {
  beforeAll(() => void brokers());

  describe('when the producer settings are weaker than required (THREATS D28)', () => {
    it.each([[{ idempotent: false }], [{ acks: 1 }], [{ maxInFlightRequests: 5 }], [{ retries: 0 }]])(
      '%j refuses to start with LOG_MISCONFIGURED',
      async (weaker) => {
        const producer = { idempotent: true, acks: -1, maxInFlightRequests: 1, retries: 5, requestTimeoutMs: 10_000, ...weaker };
        await expect(KafkaEventLog.open({ brokers: brokers(), topic, producer })).rejects.toMatchObject({ code: 'LOG_MISCONFIGURED' });
      },
    );
  });

  describe('when nothing listens at the brokers address', () => {
    it('fails with LOG_UNAVAILABLE', async () => {
      await expect(
        KafkaEventLog.open({
          brokers: ['127.0.0.1:1'],
          topic,
          connectionTimeoutMs: 500,
          producer: { idempotent: true, acks: -1, maxInFlightRequests: 1, retries: 1, requestTimeoutMs: 1000 },
        }),
      ).rejects.toMatchObject({ code: 'LOG_UNAVAILABLE' });
    });
  });

  describe('when many executions append concurrently (steps share produce requests)', () => {
    it('acknowledges only what the topic holds, and keeps each stream whole, in order and gap-free', async () => {
      const partitioned = `ephemera.test.${ulid().toLowerCase()}`;
      const log = await KafkaEventLog.open({ brokers: brokers(), topic: partitioned, partitions: 3 });
      const admin = log.kafka.admin();
      await admin.connect();
      const inTopic = async () => (await admin.fetchTopicOffsets(partitioned)).reduce((sum, p) => sum + Number(p.high), 0);
      const streams = Array.from({ length: 40 }, (_, n) => longStream(8 + (n % 5) * 6));
      let acknowledged = 0;
      const checks: Promise<void>[] = [];
      try {
        await Promise.all(
          streams.map(async (stream, n) => {
            for (let at = 0, step = 1; at < stream.length; at += step, step = (step % 5) + 1) {
              const batch = stream.slice(at, at + step);
              await log.append(batch);
              acknowledged += batch.length;
              // Acknowledged means in the topic: the high watermarks already cover every event acknowledged so far.
              if (n % 8 === 0) {
                const floor = acknowledged;
                checks.push(inTopic().then((held) => void expect(held).toBeGreaterThanOrEqual(floor)));
              }
            }
          }),
        );
        await Promise.all(checks);
        expect(await inTopic()).toBe(streams.reduce((sum, s) => sum + s.length, 0));
        // Through the offsets this log was acknowledged, and through a fresh log that scans the whole topic.
        for (const stream of streams.slice(0, 10)) expect(await log.readStream(stream[0]!.execution_id)).toEqual(stream);
      } finally {
        await admin.disconnect();
        await log.close();
      }
      const fresh = await KafkaEventLog.open({ brokers: brokers(), topic: partitioned });
      try {
        for (const stream of streams.slice(10, 14)) {
          const stored = await fresh.readStream(stream[0]!.execution_id);
          expect(stored).toEqual(stream);
          expect(() => verifyStream(stored)).not.toThrow();
        }
      } finally {
        await fresh.close();
      }
    });
  });

  describe('when partitions were added while an execution was open (a recovery continues it)', () => {
    it('continues the stream in the partition that holds it, not where its key hashes now', async () => {
      const grown = `ephemera.test.${ulid().toLowerCase()}`;
      const meta = (n: number) =>
        Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0, offlineReplicas: [] }));
      const partitioner = Partitioners.DefaultPartitioner();
      const partitionOf = (key: string, n: number) => partitioner({ topic: grown, partitionMetadata: meta(n), message: { key, value: null } });
      // An execution stored in partition 1 of 2 whose key hashes to partition 0 of 5: read by partition, a stream
      // continued there would come back out of order.
      let id = ulid();
      while (!(partitionOf(id, 2) === 1 && partitionOf(id, 5) === 0)) id = ulid();
      const stream = sampleStream(id);
      const before = await KafkaEventLog.open({ brokers: brokers(), topic: grown, partitions: 2 });
      try {
        await before.append(stream.slice(0, 3));
        const admin = before.kafka.admin();
        await admin.connect();
        await admin.createPartitions({ topicPartitions: [{ topic: grown, count: 5 }] });
        await admin.disconnect();
      } finally {
        await before.close();
      }
      const after = await KafkaEventLog.open({ brokers: brokers(), topic: grown });
      try {
        await after.append(stream.slice(3));
        expect(await after.readStream(id)).toEqual(stream);
      } finally {
        await after.close();
      }
    });
  });

  describe("when the topic's record batches are bounded below the default (max.message.bytes)", () => {
    it('keeps shared requests under the bound: steps that fit alone are never failed together', async () => {
      const bounded = `ephemera.test.${ulid().toLowerCase()}`;
      const admin = new Kafka({ brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: bounded, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '20000' }] }],
      });
      await admin.disconnect();
      const log = await KafkaEventLog.open({ brokers: brokers(), topic: bounded });
      try {
        // Eight executions at once, each step about 4 KB: one request holding all eight would be over 20000 bytes.
        const streams = Array.from({ length: 8 }, () => {
          const head = sampleStream().slice(0, 4);
          const chain = EventChain.resume(head[3]!);
          return [...head, chain.next('file.accessed', { call_id: 'c1', op: 'read', path: `/work/${'x'.repeat(4000)}`, count: 1 })];
        });
        await Promise.all(streams.map((stream) => log.append(stream.slice(0, 4))));
        await Promise.all(streams.map((stream) => log.append(stream.slice(4))));
        for (const stream of streams) expect(await log.readStream(stream[0]!.execution_id)).toEqual(stream);
      } finally {
        await log.close();
      }
    });
  });

  describe('when a produce request fails', () => {
    it('fails its step, and sends the next steps through a new producer (a new producer id, so no reused sequence numbers)', async () => {
      const log = await KafkaEventLog.open({ brokers: brokers(), topic: `ephemera.test.${ulid().toLowerCase()}` });
      const producerOf = () => (log as unknown as { producer: object }).producer;
      try {
        const first = producerOf();
        // Past the broker's message.max.bytes (1 MiB by default): refused by the broker, not by us.
        const huge = longStream(5);
        const chain = EventChain.resume(huge[3]!);
        huge[4] = chain.next('file.accessed', { call_id: 'c1', op: 'read', path: `/work/${'x'.repeat(1_200_000)}`, count: 1 });
        await log.append(huge.slice(0, 4));
        await expect(log.append([huge[4]!])).rejects.toMatchObject({ code: 'LOG_APPEND_FAILED' });
        expect(producerOf()).toBe(first); // renewed on the next request, not in the failure's path
        const next = longStream(6);
        await log.append(next);
        expect(producerOf()).not.toBe(first);
        expect(await log.readStream(next[0]!.execution_id)).toEqual(next);
      } finally {
        await log.close();
      }
    });
  });

  describe('when messages are written straight to the topic (THREATS D34)', () => {
    const forge = async (
      mutate: (stream: ReturnType<typeof sampleStream>) => ReturnType<typeof sampleStream>,
      text: (json: string, seq: number) => string | Buffer = (json) => json,
    ) => {
      const stream = sampleStream();
      const producer = (await KafkaEventLog.open({ brokers: brokers(), topic })).kafka.producer();
      await producer.connect();
      await producer.send({ topic, messages: mutate(stream).map((e) => ({ key: e.execution_id, value: text(JSON.stringify(e), e.seq) })) });
      await producer.disconnect();
      const log = await KafkaEventLog.open({ brokers: brokers(), topic });
      try {
        return await log.readStream(stream[0]!.execution_id);
      } finally {
        await log.close();
      }
    };

    it.each([
      [
        'a modified event',
        (s: ReturnType<typeof sampleStream>) => [s[0]!, { ...s[1]!, data: { ...s[1]!.data, bytes: 9 } }, ...s.slice(2)],
        'EVENTS_HASH_MISMATCH',
        1,
      ],
      ['a duplicated event', (s: ReturnType<typeof sampleStream>) => [s[0]!, s[1]!, s[1]!, ...s.slice(2)], 'EVENTS_SEQ_GAP', 2],
      ['reordered events', (s: ReturnType<typeof sampleStream>) => [s[0]!, s[2]!, s[1]!, ...s.slice(3)], 'EVENTS_SEQ_GAP', 1],
      [
        'a forged event with a recomputed hash',
        (s: ReturnType<typeof sampleStream>) => [s[0]!, s[1]!, sealEnvelope({ ...s[2]!, prev: s[0]!.hash }), ...s.slice(3)],
        'EVENTS_CHAIN_BROKEN',
        2,
      ],
    ])('reads back %s as it is, and verification names the seq', async (_label, mutate, code, seq) => {
      const stored = await forge(mutate as never);
      expect(() => verifyStream(stored)).toThrow(expect.objectContaining({ code, fields: expect.objectContaining({ seq }) }));
    });

    it.each([
      [
        'a member named twice (JSON.parse would keep the last)',
        (json: string) => json.replace('"medium":"tmpfs"', '"medium":"disk","medium":"tmpfs"'),
        'JSON_DUPLICATE_MEMBER',
      ],
      [
        'bytes that are not UTF-8',
        (json: string) => Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.from([0xff]), Buffer.from('}')]),
        'JSON_INVALID_UTF8',
      ],
      ['a number spelled 3.0', (json: string) => json.replace('"bytes":3', '"bytes":3.0'), 'JSON_NUMBER_NOT_CANONICAL'],
    ])('refuses to read %s, through the strict reader', async (_label, rewrite, code) => {
      await expect(
        forge(
          (s) => s,
          (json, seq) => (seq === 1 ? rewrite(json) : json),
        ),
      ).rejects.toMatchObject({ code });
    });
  });
});
