/**
 * What the events topic holds, read straight from the broker with kafkajs (no node's projection in between):
 * every message from each partition's start to its end, grouped by key (the execution id), in offset order.
 */
import { Kafka, logLevel } from 'kafkajs';
import type { EventEnvelope } from '../../src/events/index.js';
import { parseEventText } from '../../src/events/envelope.js';
import { scanTopic, type Bounds } from '../../src/events/kafka-scan.js';

export interface TopicStream {
  partition: number;
  events: EventEnvelope[];
}

export async function readTopic(brokers: readonly string[], topic: string): Promise<Map<string, TopicStream>> {
  const kafka = new Kafka({ clientId: 'ephemera-test-scan', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let bounds: Bounds;
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    bounds = new Map(offsets.map((o) => [o.partition, { from: BigInt(o.low), to: BigInt(o.high) - 1n }]));
  } finally {
    await admin.disconnect();
  }
  const streams = new Map<string, TopicStream>();
  for (const { partition, message } of await scanTopic(kafka, topic, bounds, () => true)) {
    const key = message.key?.toString('utf8') ?? '';
    const stream = streams.get(key) ?? { partition, events: [] };
    if (stream.partition !== partition) throw new Error(`execution ${key} is on partitions ${stream.partition} and ${partition}: its order is not kept`);
    // Parsed, not validated: the verifier judges each stream as a whole.
    stream.events.push(parseEventText(message.value!.toString('utf8')) as EventEnvelope);
    streams.set(key, stream);
  }
  return streams;
}
