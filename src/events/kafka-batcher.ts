/**
 * Group commit for the Kafka log: steps that arrive while a produce request is
 * in flight go out together in the next one.
 *
 * Why: kafkajs' idempotent producer sends one request at a time per broker
 * (it holds a broker lock around each request to keep sequence numbers in
 * order), never merges concurrent send() calls, and has no linger. So
 * concurrent executions queued one broker round trip each. Here each step
 * still travels whole in one acknowledged request (one record batch in its
 * partition, so it lands atomically) and its promise settles only once that
 * request is acknowledged; what changes is that one request carries the steps
 * of every execution that was waiting. There is no timer: an idle log sends a
 * step at once, a busy one batches exactly as much as piled up during the
 * previous round trip.
 *
 * Order within an execution is kept because its steps all go to one
 * partition, in submission order, one request at a time.
 */
import type { Message, RecordMetadata } from 'kafkajs';

/** Where one step landed: its partition and the offset of its first message. */
export interface Placed {
  partition: number;
  firstOffset: bigint;
}

interface Pending {
  partition: number;
  messages: Message[];
  bytes: number;
  resolve(placed: Placed): void;
  reject(cause: unknown): void;
}

export interface BatchLimits {
  /** Bytes per request (values, keys and headers, plus a record's framing); a single step above it goes alone. */
  maxBytes: number;
  /** Messages per request; a single step above it goes alone. */
  maxMessages: number;
}

/** Half the broker's default message.max.bytes (1 MiB per partition batch). */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxBytes: 512 * 1024, maxMessages: 2000 };
/** What a record adds to its key, value and headers in a batch (lengths, attributes, deltas), rounded up. */
const RECORD_FRAMING = 64;
/** A record batch's own header, rounded up. */
const BATCH_FRAMING = 1024;

/**
 * Limits for a topic whose record batches may hold `maxMessageBytes` (its max.message.bytes): steps that each fit
 * alone must still fit once they share a request, so the request stays under it, whatever the default.
 */
export function batchLimitsFor(maxMessageBytes: number | null): BatchLimits {
  if (maxMessageBytes === null || !Number.isSafeInteger(maxMessageBytes) || maxMessageBytes <= BATCH_FRAMING) return DEFAULT_BATCH_LIMITS;
  return { ...DEFAULT_BATCH_LIMITS, maxBytes: Math.min(DEFAULT_BATCH_LIMITS.maxBytes, maxMessageBytes - BATCH_FRAMING) };
}

export class ProduceBatcher {
  private queue: Pending[] = [];
  private draining = false;

  constructor(
    /** One acknowledged produce request (acks = all) of these messages, each with its partition. */
    private readonly send: (messages: Message[]) => Promise<RecordMetadata[]>,
    private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS,
  ) {}

  /** Resolves once the request carrying these messages, sent to `partition`, is acknowledged. */
  submit(partition: number, messages: Message[]): Promise<Placed> {
    const bytes = messages.reduce((sum, m) => sum + recordBytes(m), 0);
    // The partition is stamped on each message so kafkajs cannot place it elsewhere than where settle() counts it.
    const stamped = messages.map((m) => ({ ...m, partition }));
    const placed = new Promise<Placed>((resolve, reject) => this.queue.push({ partition, messages: stamped, bytes, resolve, reject }));
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
    return placed;
  }

  private async drain(): Promise<void> {
    // Let the steps submitted in the same turn of the event loop join the first request.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        try {
          const acknowledged = await this.send(batch.flatMap((p) => p.messages));
          settle(batch, acknowledged);
        } catch (cause) {
          for (const p of batch) p.reject(cause);
        }
      }
    } finally {
      // In the same synchronous stretch as the empty-queue check: a step submitted from here on starts a new drain.
      this.draining = false;
    }
  }

  /** The longest prefix of the queue within the limits, at least one step. */
  private take(): Pending[] {
    let bytes = 0;
    let messages = 0;
    let n = 0;
    for (const p of this.queue) {
      if (n > 0 && (bytes + p.bytes > this.limits.maxBytes || messages + p.messages.length > this.limits.maxMessages)) break;
      bytes += p.bytes;
      messages += p.messages.length;
      n += 1;
    }
    return this.queue.splice(0, n);
  }
}

/** Each step's first offset: its partition's base offset plus the messages before it in that partition. */
function settle(batch: Pending[], acknowledged: RecordMetadata[]): void {
  const next = new Map<number, bigint>();
  for (const meta of acknowledged) next.set(meta.partition, BigInt(meta.baseOffset ?? '-1'));
  for (const p of batch) {
    const firstOffset = next.get(p.partition);
    if (firstOffset === undefined || firstOffset < 0n) {
      p.reject(new Error(`the broker acknowledged no offset for partition ${p.partition}`));
      continue;
    }
    next.set(p.partition, firstOffset + BigInt(p.messages.length));
    p.resolve({ partition: p.partition, firstOffset });
  }
}

function recordBytes(m: Message): number {
  let bytes = RECORD_FRAMING + byteLength(m.value) + byteLength(m.key ?? null);
  for (const [name, value] of Object.entries(m.headers ?? {}))
    bytes += Buffer.byteLength(name) + byteLength(typeof value === 'string' || Buffer.isBuffer(value) ? value : null);
  return bytes;
}

function byteLength(value: Buffer | string | null): number {
  if (value === null) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}
