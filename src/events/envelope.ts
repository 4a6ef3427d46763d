/**
 * Event envelope, version 1 (DESIGN §3).
 *
 *   { v: 1, execution_id, seq, type, at, prev, data, hash }
 *
 *   hash    = SHA-256("ephemera/v1/event\n" ‖ JCS(envelope without hash))
 *   genesis = SHA-256("ephemera/v1/genesis\n" ‖ execution_id)   (prev of seq 0)
 *
 * JCS is RFC 8785; all strings hashed as UTF-8.
 */
import { EphemeraError } from '../errors.js';
import { canonicalize } from './jcs.js';
import { hashUtf8, type Hash } from './hash.js';
import { isPlainObject } from './schema.js';
import { eventDataSchemas, isEventType, type EventData, type EventType } from './types.js';

export const EVENT_HASH_TAG = 'ephemera/v1/event\n';
export const GENESIS_TAG = 'ephemera/v1/genesis\n';
export const ENVELOPE_VERSION = 1;

/** ULID: 26 characters of Crockford base32. */
export const EXECUTION_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export type EventEnvelope<T extends EventType = EventType> = {
  [K in T]: {
    v: 1;
    execution_id: string;
    seq: number;
    type: K;
    at: string;
    prev: Hash;
    data: EventData[K];
    hash: Hash;
  };
}[T];

export type UnhashedEnvelope<T extends EventType = EventType> = Omit<EventEnvelope<T>, 'hash'>;

export function genesisHash(executionId: string): Hash {
  return hashUtf8(GENESIS_TAG, executionId);
}

export function computeEventHash(envelope: UnhashedEnvelope | EventEnvelope): Hash {
  const { hash: _ignored, ...unhashed } = envelope as EventEnvelope;
  return hashUtf8(EVENT_HASH_TAG, canonicalize(unhashed));
}

export function sealEnvelope<T extends EventType>(unhashed: UnhashedEnvelope<T>): EventEnvelope<T> {
  return { ...unhashed, hash: computeEventHash(unhashed) } as EventEnvelope<T>;
}

/**
 * Checks the shape of one envelope and its type's data schema. Does not check
 * the hash or the chain (see chain.ts). Throws EVENTS_INVALID_ENVELOPE naming
 * the first bad field.
 */
export function parseEnvelope(value: unknown, where = 'event'): EventEnvelope {
  const problem = envelopeProblem(value, where);
  if (problem) throw new EphemeraError('EVENTS_INVALID_ENVELOPE', problem, { fields: { field: problem.split(':')[0] } });
  return value as EventEnvelope;
}

function envelopeProblem(value: unknown, p: string): string | null {
  if (!isPlainObject(value)) return `${p}: expected an object`;
  const allowed = new Set(['v', 'execution_id', 'seq', 'type', 'at', 'prev', 'data', 'hash']);
  for (const key of Object.keys(value)) if (!allowed.has(key)) return `${p}.${key}: unknown field`;
  if (value.v !== ENVELOPE_VERSION) return `${p}.v: expected 1`;
  if (typeof value.execution_id !== 'string' || !EXECUTION_ID_PATTERN.test(value.execution_id)) return `${p}.execution_id: expected a ULID`;
  if (!Number.isSafeInteger(value.seq) || (value.seq as number) < 0) return `${p}.seq: expected a non-negative integer`;
  if (!isEventType(value.type)) return `${p}.type: unknown event type`;
  if (typeof value.at !== 'string' || !AT_PATTERN.test(value.at) || Number.isNaN(Date.parse(value.at))) return `${p}.at: expected RFC 3339 UTC with milliseconds`;
  if (typeof value.prev !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(value.prev)) return `${p}.prev: expected sha256:<64 hex>`;
  if (typeof value.hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(value.hash)) return `${p}.hash: expected sha256:<64 hex>`;
  return eventDataSchemas[value.type].check(value.data, `${p}.data`);
}

/** Assigns seq, prev and time to the events of one execution, in order. */
export class EventChain {
  private seq = 0;
  private head: Hash;

  constructor(
    readonly executionId: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.head = genesisHash(executionId);
  }

  /** Continues a stream after its last event (read back from a log). */
  static resume(last: EventEnvelope, clock?: () => Date): EventChain {
    const chain = new EventChain(last.execution_id, clock);
    chain.seq = last.seq + 1;
    chain.head = last.hash;
    return chain;
  }

  get length(): number {
    return this.seq;
  }

  next<T extends EventType>(type: T, data: EventData[T]): EventEnvelope<T> {
    const event = sealEnvelope<T>({
      v: 1,
      execution_id: this.executionId,
      seq: this.seq,
      type,
      at: this.clock().toISOString(),
      prev: this.head,
      data,
    } as UnhashedEnvelope<T>);
    this.seq += 1;
    this.head = event.hash;
    return event;
  }
}
