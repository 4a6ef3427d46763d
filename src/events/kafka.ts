/**
 * Kafka event log (kafkajs). One topic; message key = execution_id (one
 * execution stays ordered in one partition); headers `type` and `seq`; value =
 * the envelope as JSON (docs/design.md §3).
 *
 * Kafka cannot check seq and prev on the broker, so this backend enforces
 * continuation itself: one writer per execution, whose head it keeps in
 * memory (seeded from the topic when unknown). LIMITATION: two executors
 * writing the same execution concurrently are not detected at append time;
 * the verifier rejects such a stream (duplicate or broken links) instead.
 *
 * An append resolves only once every in-sync replica acknowledged it; any
 * error fails it closed (LOG_APPEND_FAILED) and closes that execution's
 * stream in this process. Appends of concurrent executions share produce
 * requests (kafka-batcher.ts); each execution is pinned to the partition its
 * key hashes to when the log opens, so its order survives added partitions.
 * readStream returns exactly what the topic holds for the key, in offset order, forged messages included, so the verifier can
 * name the bad seq.
 */
import kafkajs, {
  Kafka,
  logLevel,
  Partitioners,
  type Producer,
  type Admin,
  type LogEntry,
  type Message,
  type PartitionMetadata,
  type RecordMetadata,
} from 'kafkajs';
import { EphemeraError } from '../errors.js';
import { canonicalText, parseEventText, type EventEnvelope } from './envelope.js';
import type { Hash } from './hash.js';
import { assertContinues, type EventLog } from './log.js';
import { decodeUtf8Strict } from './strict-json.js';
import { assertProducerSettings, REQUIRED_PRODUCER_SETTINGS, type ProducerSettings } from './kafka-settings.js';
import { scanTopic, type Bounds, type ScannedMessage } from './kafka-scan.js';
import { batchLimitsFor, ProduceBatcher, type BatchLimits } from './kafka-batcher.js';

// kafkajs is CommonJS, and Node's ESM loader finds only some of its exports by name (not this one): read it off the
// default export, or `ephemera serve` on Kafka fails to load under plain Node (vitest's interop hides it).
const { ConfigResourceTypes } = kafkajs;
/** How often a retriable offsets refusal is asked again (100, 200, 400, 800 ms apart) before it counts. */
const OFFSET_ATTEMPTS = 5;

export interface KafkaLogOptions {
  brokers: readonly string[];
  topic: string;
  clientId?: string;
  partitions?: number;
  replicationFactor?: number;
  producer?: ProducerSettings;
  connectionTimeoutMs?: number;
}

/**
 * An open execution's last event, its partition, and the offsets of its events
 * when this process was acknowledged all of them (null: resumed from a scan).
 */
type Head = { seq: number; hash: Hash; partition: number; offsets: { first: bigint; last: bigint } | null };

/** kafkajs log lines carry broker and protocol text, never message values; drop everything below ERROR. */
const quietLogger =
  () =>
  ({ level, log }: LogEntry) => {
    if (level <= logLevel.ERROR) process.stderr.write(`kafkajs: ${log.message}\n`);
  };

export class KafkaEventLog implements EventLog {
  readonly kind = 'kafka' as const;
  private readonly heads = new Map<string, Head>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly batcher: ProduceBatcher;
  private readonly partitioner = Partitioners.DefaultPartitioner();

  private producer: Producer;
  private renewProducer = false;

  private constructor(
    readonly kafka: Kafka,
    readonly topic: string,
    private readonly makeProducer: () => Producer,
    producer: Producer,
    private readonly partitions: PartitionMetadata[],
    limits: BatchLimits,
  ) {
    this.producer = producer;
    this.batcher = new ProduceBatcher((messages) => this.produce(messages), limits);
  }

  /**
   * One acknowledged produce request. After a failed one, kafkajs rolls its sequence numbers back although the
   * broker may have written that batch (an acknowledgement lost, the retries spent): a next request under the
   * same producer id would reuse those numbers, and the broker would drop it as a duplicate while answering
   * success. So whatever is sent after a failure goes through a new producer, with a new producer id.
   */
  private async produce(messages: Message[]): Promise<RecordMetadata[]> {
    if (this.renewProducer) {
      await this.producer.disconnect().catch(() => undefined);
      this.producer = this.makeProducer();
      await this.producer.connect(); // if this fails, so does the request, and the next one tries again
      this.renewProducer = false;
    }
    try {
      return await this.producer.send({ topic: this.topic, acks: -1, messages });
    } catch (cause) {
      this.renewProducer = true;
      throw cause;
    }
  }

  static async open(options: KafkaLogOptions): Promise<KafkaEventLog> {
    const settings = options.producer ?? REQUIRED_PRODUCER_SETTINGS;
    assertProducerSettings(settings);
    const kafka = new Kafka({
      clientId: options.clientId ?? 'ephemera',
      brokers: [...options.brokers],
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      requestTimeout: settings.requestTimeoutMs,
      retry: { retries: settings.retries, initialRetryTime: 100, maxRetryTime: 2000 },
      logLevel: logLevel.ERROR,
      logCreator: quietLogger,
    });
    const makeProducer = () =>
      kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        retry: { retries: settings.retries, initialRetryTime: 100, maxRetryTime: 2000 },
        allowAutoTopicCreation: false,
      });
    const producer = makeProducer();
    const admin = kafka.admin();
    let partitions: PartitionMetadata[];
    let limits: BatchLimits;
    try {
      await admin.connect();
      await ensureTopic(admin, options.topic, options.partitions ?? 1, options.replicationFactor ?? 1);
      partitions = (await admin.fetchTopicMetadata({ topics: [options.topic] })).topics[0]!.partitions;
      limits = batchLimitsFor(await maxMessageBytes(admin, options.topic));
      await producer.connect();
    } catch (cause) {
      await producer.disconnect().catch(() => undefined);
      throw new EphemeraError('LOG_UNAVAILABLE', `the Kafka log is not reachable at ${options.brokers.join(',')}`, { cause });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    return new KafkaEventLog(kafka, options.topic, makeProducer, producer, partitions, limits);
  }

  async append(events: readonly EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    const executionId = events[0]!.execution_id;
    let head = this.heads.get(executionId);
    if (!head && events[0]!.seq > 0) {
      // A stream this process did not start (a recovery after a restart): continue it where it is stored, which is
      // not where the key hashes now if partitions were added since.
      const stored = await this.storedStream(executionId);
      const last = stored.events.at(-1);
      if (last) head = { seq: last.seq, hash: last.hash, partition: stored.partition!, offsets: null };
    }
    assertContinues(head, events);
    const partition = head?.partition ?? this.partitionOf(executionId);
    const sending = this.batcher.submit(
      partition,
      events.map((e) => ({ key: e.execution_id, value: canonicalText(e), headers: { type: e.type, seq: String(e.seq) } })),
    );
    this.inFlight.add(sending);
    try {
      const { firstOffset } = await sending;
      const last = events[events.length - 1]!;
      const offsets = head === undefined || head.offsets ? { first: head?.offsets?.first ?? firstOffset, last: firstOffset + BigInt(events.length - 1) } : null;
      this.heads.set(executionId, { seq: last.seq, hash: last.hash, partition, offsets });
      if (last.type === 'certificate.sealed' || last.type === 'execution.aborted') this.heads.delete(executionId);
    } catch (cause) {
      this.heads.delete(executionId);
      throw new EphemeraError('LOG_APPEND_FAILED', 'Kafka did not acknowledge the append; the run fails closed', {
        cause,
        fields: { execution_id: executionId },
      });
    } finally {
      this.inFlight.delete(sending);
    }
  }

  /** The partition kafkajs' default (Java-compatible murmur2) partitioner gives the key, over the partitions seen at open. */
  private partitionOf(executionId: string): number {
    return this.partitioner({ topic: this.topic, partitionMetadata: this.partitions, message: { key: executionId, value: null } });
  }

  async readStream(executionId: string): Promise<EventEnvelope[]> {
    return (await this.storedStream(executionId)).events;
  }

  /** One execution's events as stored, and the partition holding the last of them (null when there is none). */
  private async storedStream(executionId: string): Promise<{ events: EventEnvelope[]; partition: number | null }> {
    const head = this.heads.get(executionId);
    let bounds: Bounds;
    if (head?.offsets) {
      // Read back exactly the offsets this process was acknowledged (docs/design.md §3, THREATS D32).
      bounds = new Map([[head.partition, { from: head.offsets.first, to: head.offsets.last }]]);
    } else {
      bounds = await this.wholeTopic();
    }
    const key = Buffer.from(executionId);
    let scanned: ScannedMessage[];
    try {
      scanned = await scanTopic(this.kafka, this.topic, bounds, (m) => m.key !== null && key.equals(m.key));
    } catch (cause) {
      throw new EphemeraError('LOG_UNAVAILABLE', 'cannot read the stream back from Kafka', { cause });
    }
    return {
      events: scanned.map(({ message }) => parseEventText(decodeUtf8Strict(message.value!)) as EventEnvelope),
      partition: scanned.at(-1)?.partition ?? null,
    };
  }

  /**
   * Every partition from its first to its last offset. A retriable refusal (a partition just added, its leader
   * not yet known to the broker asked: NOT_LEADER_FOR_PARTITION) is asked again, a few times, before it counts.
   */
  private async wholeTopic(): Promise<Bounds> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      for (let attempt = 1; ; attempt++) {
        try {
          const offsets = await admin.fetchTopicOffsets(this.topic);
          return new Map(offsets.map((o) => [o.partition, { from: BigInt(o.low), to: BigInt(o.high) - 1n }]));
        } catch (cause) {
          if (attempt >= OFFSET_ATTEMPTS || (cause as { retriable?: unknown }).retriable !== true) throw cause;
          await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        }
      }
    } catch (cause) {
      throw new EphemeraError('LOG_UNAVAILABLE', 'cannot read topic offsets from Kafka', { cause });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
    await this.producer.disconnect().catch(() => undefined);
  }
}

/** The topic's max.message.bytes (a record batch's bound), as the broker reports it; null when it does not. */
async function maxMessageBytes(admin: Admin, topic: string): Promise<number | null> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
  });
  const value = described.resources[0]?.configEntries.find((entry) => entry.configName === 'max.message.bytes')?.configValue;
  return value === undefined || !/^\d+$/.test(value) ? null : Number(value);
}

async function ensureTopic(admin: Admin, topic: string, partitions: number, replicationFactor: number): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        numPartitions: partitions,
        replicationFactor,
        // The log is the source of truth: never expire or compact it.
        configEntries: [
          { name: 'retention.ms', value: '-1' },
          { name: 'retention.bytes', value: '-1' },
          { name: 'cleanup.policy', value: 'delete' },
        ],
      },
    ],
  });
}
