/**
 * The projection consumer group on Kafka: reads every event of the topic and
 * hands each batch to the projections (the local mirror the certificate routes
 * read; the ClickHouse projector plugs in the same way). Offsets are
 * committed by hand, each batch's only after it was applied (autoCommit off:
 * kafkajs would otherwise commit on its own schedule), so a crash replays at
 * most the batch in hand; the projections are idempotent, so that redelivery
 * changes nothing. A batch that fails to apply is not committed: kafkajs
 * retries it from the last committed offset.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { decodeUtf8Strict, parseEnvelope, parseEventText, type EventEnvelope } from '../../events/index.js';

export type ProjectBatch = (events: EventEnvelope[]) => Promise<void> | void;

export interface KafkaFeed {
  /** Resolves once the group has caught up with the offsets that existed when called. */
  caughtUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startKafkaFeed(kafka: Kafka, topic: string, groupId: string, project: ProjectBatch): Promise<KafkaFeed> {
  // A shorter session than kafkajs' 30 s: a node restarted after a crash rejoins its own group once its dead member
  // is dropped, so it catches up sooner (the broker's group.min.session.timeout.ms is 6 s by default).
  const consumer: Consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 2000 });
  const position = new Map<number, bigint>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      const events: EventEnvelope[] = [];
      for (const message of batch.messages) {
        try {
          events.push(parseEnvelope(parseEventText(decodeUtf8Strict(message.value ?? new Uint8Array(0)))));
        } catch {
          // Not an envelope: skipped by the projections; a raw read of the topic still shows it to auditors.
        }
      }
      await project(events);
      const last = batch.messages.at(-1);
      if (last) {
        const next = BigInt(last.offset) + 1n;
        resolveOffset(last.offset);
        await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: next.toString() }]);
        position.set(batch.partition, next);
      }
      await heartbeat();
    },
  });
  return {
    async caughtUp(timeoutMs = 30_000) {
      const admin = kafka.admin();
      await admin.connect();
      const high = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
      const deadline = Date.now() + timeoutMs;
      while (!high.every((o) => BigInt(o.high) <= (position.get(o.partition) ?? BigInt(o.low)))) {
        if (Date.now() > deadline) throw new Error('the projection consumer did not catch up in time');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () => consumer.disconnect(),
  };
}
