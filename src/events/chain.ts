/**
 * Verifies one execution's stream, one event at a time (docs/verification.md
 * §5): envelope schema for its version, one version and one execution per
 * stream, seq contiguity, times that never decrease, every event hash
 * recomputed, every prev link (genesis for seq 0), and the lifecycle order.
 * The first bad event is named by its index and member. Constant work per
 * event; memory grows only with the set of call ids.
 * Pure and isomorphic: used by the executor's read-back and by the verifier.
 */
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { hexToBytes, nobleSha256, type Hash, type Sha256 } from './hash.js';
import { computeEventHash, genesisHash, parseEnvelope, type EventEnvelope } from './envelope.js';
import { Lifecycle } from './lifecycle.js';

/** Hard cap on stream length (THREATS E40); verifiers set lower ones of their own. */
export const MAX_STREAM_EVENTS = 2_000_000;

export type ChainErrorCode = Registered<
  | 'EVENTS_EMPTY_STREAM'
  | 'EVENTS_STREAM_TOO_LONG'
  | 'EVENTS_WRONG_EXECUTION'
  | 'EVENTS_VERSION_MISMATCH'
  | 'EVENTS_SEQ_GAP'
  | 'EVENTS_TIME_DECREASES'
  | 'EVENTS_HASH_MISMATCH'
  | 'EVENTS_CHAIN_BROKEN'
  | 'EVENTS_LIFECYCLE_VIOLATION'
>;

export class StreamChecker {
  readonly lifecycle = new Lifecycle();
  private count = 0;
  private last: EventEnvelope | null = null;
  private head: Hash | null = null;

  constructor(private readonly options: { executionId?: string; sha256?: Sha256; maxEvents?: number } = {}) {}

  get length(): number {
    return this.count;
  }

  get lastEvent(): EventEnvelope | null {
    return this.last;
  }

  /** The raw bytes of the last event's hash, as recomputed (what its Merkle leaf hashes): it matched the event's own. */
  get lastDigest(): Uint8Array {
    // The head passed the envelope's check (sha256:<64 lowercase hex>): decoded without checking it again.
    return this.head === null ? new Uint8Array(0) : hexToBytes(this.head.slice(7));
  }

  /**
   * Checks the next event of the stream; returns it typed. `recomputed`: the
   * hash of its content when a reader computed it already (from its text), as
   * `sha256:<hex>`: compared as text, no bytes are made for it.
   */
  push(value: unknown, recomputed?: Hash): EventEnvelope {
    const i = this.count;
    const max = this.options.maxEvents ?? MAX_STREAM_EVENTS;
    if (i >= max) throw new EphemeraError('EVENTS_STREAM_TOO_LONG', `more than ${max} events`, { fields: { field: 'events' } });
    const event = parseEnvelope(value, `events[${i}]`);
    const fail = (code: ChainErrorCode, member: string, why: string): never => {
      throw new EphemeraError(code, `events[${i}].${member}: ${why}`, { fields: { seq: i, field: `events[${i}].${member}` } });
    };
    const sha256 = this.options.sha256 ?? nobleSha256;
    const previous = this.last;
    const executionId = previous?.execution_id ?? this.options.executionId ?? event.execution_id;
    if (event.execution_id !== executionId) fail('EVENTS_WRONG_EXECUTION', 'execution_id', 'belongs to another execution');
    if (previous && event.v !== previous.v) fail('EVENTS_VERSION_MISMATCH', 'v', `version ${event.v} in a stream of version ${previous.v}`);
    if (event.seq !== i) fail('EVENTS_SEQ_GAP', 'seq', `expected seq ${i}, found ${event.seq}`);
    if (previous && event.at < previous.at) fail('EVENTS_TIME_DECREASES', 'at', `${event.at} is earlier than the event before it (${previous.at})`);
    const computed = recomputed ?? computeEventHash(event, sha256);
    if (computed !== event.hash) fail('EVENTS_HASH_MISMATCH', 'hash', 'hash does not match the content');
    if (event.prev !== (this.head ?? genesisHash(executionId, sha256))) fail('EVENTS_CHAIN_BROKEN', 'prev', 'prev does not link to the previous event');
    this.lifecycle.apply(event);
    this.count += 1;
    this.last = event;
    this.head = event.hash;
    return event;
  }
}

export interface VerifiedStream {
  events: EventEnvelope[];
  lifecycle: Lifecycle;
  head: Hash;
}

/** Verifies a whole stream held in memory (the executor's read-back, replay). */
export function verifyStream(input: readonly unknown[], expectedExecutionId?: string, sha256?: Sha256): VerifiedStream {
  if (input.length === 0) throw new EphemeraError('EVENTS_EMPTY_STREAM', 'the stream has no events', { fields: { field: 'events' } });
  const checker = new StreamChecker({ executionId: expectedExecutionId, sha256 });
  const events = input.map((value) => checker.push(value));
  return { events, lifecycle: checker.lifecycle, head: checker.lastEvent!.hash };
}
