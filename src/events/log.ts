/**
 * The append-only event log. Backends: `sqlite` (embedded default) and
 * `kafka` (scale-out). Every backend passes eventlog.contract.ts.
 */
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { genesisHash, type EventEnvelope } from './envelope.js';

export interface EventLog {
  readonly kind: 'sqlite' | 'kafka';
  /**
   * Appends the events of one step as one durable, acknowledged batch
   * (SQLite commit with synchronous=FULL / Kafka acks=all). The batch must
   * continue the execution's stored stream (seq and prev); otherwise nothing
   * is written and EVENTS_SEQ_CONFLICT is thrown. Resolves only once durable.
   */
  append(events: readonly EventEnvelope[]): Promise<void>;
  /** One execution's events in seq order, exactly as stored (empty if unknown). */
  readStream(executionId: string): Promise<EventEnvelope[]>;
  /** Waits for every pending append, then releases the backend. */
  close(): Promise<void>;
}

/** An event with its position in a totally ordered log (SQLite rowid). */
export interface PositionedEvent {
  position: number;
  event: EventEnvelope;
}

/** A log that can be tailed by position: what the projector uses on SQLite. */
export interface TailableEventLog extends EventLog {
  readFrom(afterPosition: number, limit: number): Promise<PositionedEvent[]>;
}

export type LogErrorCode = Registered<'EVENTS_SEQ_CONFLICT' | 'LOG_UNAVAILABLE' | 'LOG_APPEND_FAILED' | 'LOG_MISCONFIGURED'>;

/**
 * Checks that `batch` is one execution's contiguous continuation of a stream
 * whose last stored event is `last` (undefined: empty stream).
 */
export function assertContinues(last: Pick<EventEnvelope, 'seq' | 'hash'> | undefined, batch: readonly EventEnvelope[]): void {
  if (batch.length === 0) return;
  const executionId = batch[0]!.execution_id;
  let expectedSeq = last ? last.seq + 1 : 0;
  let expectedPrev = last ? last.hash : genesisHash(executionId);
  for (const event of batch) {
    if (event.execution_id !== executionId || event.seq !== expectedSeq || event.prev !== expectedPrev) {
      throw new EphemeraError<LogErrorCode>('EVENTS_SEQ_CONFLICT', `append does not continue the stream at seq ${expectedSeq}`, {
        fields: { execution_id: executionId, expected_seq: expectedSeq, seq: event.seq },
      });
    }
    expectedSeq += 1;
    expectedPrev = event.hash;
  }
}
