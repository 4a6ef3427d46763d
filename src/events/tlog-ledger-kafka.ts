/**
 * The tlog ledger on Kafka: the topic `<events topic>.tlog`, one partition
 * (one order for every node), never expired; produced idempotently with
 * acks=all, the offset the position. Kafka cannot refuse a second sequencer's
 * batch; the projection applies a batch only at its own size and ignores the
 * rest, which stay in the topic as evidence.
 */
import kafkajs, { type Kafka, type Producer } from 'kafkajs';
import { EphemeraError } from '../errors.js';
import { scanTopic } from './kafka-scan.js';
import { REQUIRED_PRODUCER_SETTINGS } from './kafka-settings.js';
import { decodeUtf8Strict } from './strict-json.js';
import type { TlogLedger, TlogLedgerErrorCode, TlogLedgerRecord } from './tlog-ledger.js';

// kafkajs is CommonJS: read what Node's ESM loader does not name off the default export (see kafka.ts).
const { ConfigResourceTypes } = kafkajs;

export const tlogTopicOf = (eventsTopic: string) => `${eventsTopic}.tlog`;
/** Room for the largest record (src/tlog/records.ts: 900 KiB) and Kafka's framing. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

export class KafkaTlogLedger implements TlogLedger {
  readonly kind = 'kafka' as const;

  private constructor(
    private readonly kafka: Kafka,
    readonly topic: string,
    private readonly producer: Producer,
  ) {}

  static async open(kafka: Kafka, topic: string, replicationFactor = 1): Promise<KafkaTlogLedger> {
    const admin = kafka.admin();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { retries: REQUIRED_PRODUCER_SETTINGS.retries, initialRetryTime: 100, maxRetryTime: 2000 },
      allowAutoTopicCreation: false,
    });
    try {
      await admin.connect();
      if (!(await admin.listTopics()).includes(topic)) {
        await admin
          .createTopics({
            waitForLeaders: true,
            topics: [
              {
                topic,
                numPartitions: 1,
                replicationFactor,
                configEntries: [
                  { name: 'retention.ms', value: '-1' },
                  { name: 'retention.bytes', value: '-1' },
                  { name: 'cleanup.policy', value: 'delete' },
                  { name: 'max.message.bytes', value: String(MAX_MESSAGE_BYTES) },
                ],
              },
            ],
          })
          .catch((cause: unknown) => {
            // Two nodes starting together: the other one created it.
            if ((cause as { type?: unknown }).type !== 'TOPIC_ALREADY_EXISTS') throw cause;
          });
      }
      const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.length;
      if (partitions !== 1) throw new Error(`the tlog topic ${topic} has ${partitions} partitions, not 1`);
      await assertConfigured(admin, topic);
      await producer.connect();
    } catch (cause) {
      await producer.disconnect().catch(() => undefined);
      throw new EphemeraError<TlogLedgerErrorCode>('LOG_UNAVAILABLE', `the tlog topic ${topic} is not usable`, { cause });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    return new KafkaTlogLedger(kafka, topic, producer);
  }

  async append(text: string, _firstIndex: number | null): Promise<number> {
    try {
      const [meta] = await this.producer.send({ topic: this.topic, acks: -1, messages: [{ value: text, partition: 0 }] });
      return Number(meta!.baseOffset);
    } catch (cause) {
      throw new EphemeraError<TlogLedgerErrorCode>('LOG_APPEND_FAILED', 'Kafka did not acknowledge the tlog record', { cause });
    }
  }

  async readFrom(afterPosition: number, limit: number): Promise<TlogLedgerRecord[]> {
    const high = await this.highWatermark();
    const from = afterPosition + 1;
    const to = Math.min(high - 1, afterPosition + limit);
    if (to < from) return [];
    try {
      const scanned = await scanTopic(this.kafka, this.topic, new Map([[0, { from: BigInt(from), to: BigInt(to) }]]), () => true);
      return scanned.map(({ message }) => ({ position: Number(message.offset), text: recordText(message.value) }));
    } catch (cause) {
      throw new EphemeraError<TlogLedgerErrorCode>('LOG_UNAVAILABLE', 'cannot read the tlog topic', { cause });
    }
  }

  /** The offset the next record will get. */
  private async highWatermark(): Promise<number> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const offsets = await admin.fetchTopicOffsets(this.topic);
      return Number(offsets.find((o) => o.partition === 0)?.high ?? 0);
    } catch (cause) {
      throw new EphemeraError<TlogLedgerErrorCode>('LOG_UNAVAILABLE', 'cannot read the tlog topic offsets', { cause });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.producer.disconnect().catch(() => undefined);
  }
}

/**
 * A message's text. Bytes that are not UTF-8 (anyone who may write the topic can send them) become '', which is no
 * record: the projection ignores it and lists its position. Refusing the read instead stopped every node at it.
 */
export function recordText(value: Buffer | null): string {
  if (value === null) return '';
  try {
    return decodeUtf8Strict(value);
  } catch {
    return '';
  }
}

/** A topic made by someone else must still never expire records. */
async function assertConfigured(admin: kafkajs.Admin, topic: string): Promise<void> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'cleanup.policy'] }],
  });
  const entries = described.resources[0]?.configEntries ?? [];
  const value = (name: string) => entries.find((entry) => entry.configName === name)?.configValue;
  if (value('retention.ms') !== '-1' || value('cleanup.policy') !== 'delete') throw new Error(`the tlog topic ${topic} may expire or compact records`);
}
