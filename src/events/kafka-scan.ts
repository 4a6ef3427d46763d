/**
 * Reads raw messages of one topic between given offsets with a throw-away
 * consumer (kafkajs has no manual assignment without a group): it joins its
 * own group, seeks each partition to its start, collects until every
 * partition reached its end, and leaves. Nothing is committed.
 */
import type { Kafka, KafkaMessage } from 'kafkajs';
import { ulid } from 'ulid';

export type Bounds = Map<number, { from: bigint; to: bigint }>;

/** A message kept by a scan, with the partition it was read from. */
export interface ScannedMessage {
  partition: number;
  message: KafkaMessage;
}

export async function scanTopic(
  kafka: Kafka,
  topic: string,
  bounds: Bounds,
  keep: (message: KafkaMessage) => boolean,
  timeoutMs = 30_000,
): Promise<ScannedMessage[]> {
  // A fresh broker answers "coordinator loading" for a moment: retriable, so try again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await scanOnce(kafka, topic, bounds, keep, timeoutMs);
    } catch (error) {
      if (attempt >= 5 || (error as { retriable?: boolean }).retriable !== true) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function scanOnce(kafka: Kafka, topic: string, bounds: Bounds, keep: (message: KafkaMessage) => boolean, timeoutMs: number): Promise<ScannedMessage[]> {
  const wanted = new Map([...bounds].filter(([, b]) => b.to >= b.from));
  if (wanted.size === 0) return [];
  const consumer = kafka.consumer({
    groupId: `ephemera-scan-${ulid()}`,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 50,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
  });
  const found = new Map<number, KafkaMessage[]>();
  let finish!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((resolve, reject) => ((finish = resolve), (fail = reject)));
  const reached = new Set<number>();
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [partition, b] of wanted) consumer.seek({ topic, partition, offset: String(b.from) });
    });
    consumer.on(consumer.events.CRASH, (e) => fail(e.payload.error));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const b = wanted.get(batch.partition);
        if (!b) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset < b.from || offset > b.to) continue;
          if (keep(message)) (found.get(batch.partition) ?? found.set(batch.partition, []).get(batch.partition)!).push(message);
          if (offset === b.to) reached.add(batch.partition);
        }
        if (reached.size === wanted.size) finish();
      },
    });
    const timer = setTimeout(() => fail(new Error('scan timed out')), timeoutMs);
    try {
      await done;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return [...found.entries()].sort(([a], [b]) => a - b).flatMap(([partition, messages]) => messages.map((message) => ({ partition, message })));
}
