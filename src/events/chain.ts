/**
 * Verifies one execution's stream: envelope schemas, seq contiguity, every
 * event hash recomputed, every prev link (genesis for seq 0), and the
 * lifecycle order. The first bad event is named by its seq and field.
 * Pure and isomorphic: used by the executor's read-back and by the verifier.
 */
import { EphemeraError } from '../errors.js';
import type { Hash } from './hash.js';
import { computeEventHash, genesisHash, parseEnvelope, type EventEnvelope } from './envelope.js';
import { evolve, initialLifecycle, type LifecycleState } from './lifecycle.js';

export interface VerifiedStream {
  events: EventEnvelope[];
  state: LifecycleState;
  head: Hash;
}

/** Hard cap on stream length checked before any hashing (THREATS E40). */
export const MAX_STREAM_EVENTS = 2_000_000;

export function verifyStream(input: readonly unknown[], expectedExecutionId?: string): VerifiedStream {
  if (input.length === 0) throw new EphemeraError('EVENTS_EMPTY_STREAM', 'the stream has no events', { fields: { field: 'events' } });
  if (input.length > MAX_STREAM_EVENTS) throw new EphemeraError('EVENTS_STREAM_TOO_LONG', `more than ${MAX_STREAM_EVENTS} events`, { fields: { field: 'events' } });
  const executionId = expectedExecutionId ?? (input[0] as { execution_id?: unknown })?.execution_id;
  let state = initialLifecycle;
  let head = typeof executionId === 'string' ? genesisHash(executionId) : ('' as Hash);
  const events: EventEnvelope[] = [];

  for (let i = 0; i < input.length; i++) {
    const event = parseEnvelope(input[i], `events[${i}]`);
    const fail = (code: string, field: string, why: string): never => {
      throw new EphemeraError(code, `events[${i}]: ${why}`, { fields: { seq: i, field: `events[${i}].${field}` } });
    };
    if (event.execution_id !== executionId) fail('EVENTS_WRONG_EXECUTION', 'execution_id', 'belongs to another execution');
    if (event.seq !== i) fail('EVENTS_SEQ_GAP', 'seq', `expected seq ${i}, found ${event.seq}`);
    if (computeEventHash(event) !== event.hash) fail('EVENTS_HASH_MISMATCH', 'hash', 'hash does not match the content');
    if (event.prev !== head) fail('EVENTS_CHAIN_BROKEN', 'prev', 'prev does not link to the previous event');
    state = evolve(state, event);
    head = event.hash;
    events.push(event);
  }
  return { events, state, head };
}
