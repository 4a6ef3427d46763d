/**
 * Event envelope (docs/design.md §3, docs/verification.md §5).
 *
 *   { v, execution_id, seq, type, at, prev, data, hash }     v = 2 written today; 1 still read
 *
 *   hash    = SHA-256("ephemera/v1/event\n" ‖ JCS(envelope without hash))
 *   genesis = SHA-256("ephemera/v1/genesis\n" ‖ execution_id)   (prev of seq 0)
 *
 * The tags name the hashing scheme, which both versions share; `v` itself is
 * hashed, so a stream cannot be relabelled to another version's rules.
 * JCS is RFC 8785; all strings hashed as UTF-8.
 */
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { canonicalCopy, canonicalScalar, canonicalize, canonicalizeWithout } from './jcs.js';
import { hashUtf8With, nobleSha256, type Hash, type Sha256 } from './hash.js';
import { parseStrictJsonText } from './strict-json.js';
import { isHashText, isPlainObject, isTimestamp, type Problem, type ProblemKind } from './schema.js';
import { checkSealingRules } from './sealing-rules.js';
import { eventDataSchemas, eventDataSchemasV1, isEventType, type EventData, type EventType } from './types.js';

export const EVENT_HASH_TAG = 'ephemera/v1/event\n';
export const GENESIS_TAG = 'ephemera/v1/genesis\n';
/** The envelope version this code writes. */
export const ENVELOPE_VERSION = 2;
export const SUPPORTED_VERSIONS: readonly (1 | 2)[] = [1, 2];

/** ULID: 26 characters of Crockford base32 (the one copy: certificate ids and routes build on it). */
export const ULID = '[0-9A-HJKMNP-TV-Z]{26}';
export const EXECUTION_ID_PATTERN = new RegExp(`^${ULID}$`);
/** A ULID as `ulid()` makes it and `decodeTime` reads it: the first character at most 7 (48 bits of time). What a route or a client accepts as an execution id it may be asked about. */
export const RUN_ID = '[0-7][0-9A-HJKMNP-TV-Z]{25}';
export const RUN_ID_PATTERN = new RegExp(`^${RUN_ID}$`);
const ENVELOPE_MEMBERS = new Set(['v', 'execution_id', 'seq', 'type', 'at', 'prev', 'data', 'hash']);

export type EventEnvelope<T extends EventType = EventType> = {
  [K in T]: {
    v: 1 | 2;
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

export type EnvelopeErrorCode = Registered<
  'EVENTS_INVALID_ENVELOPE' | 'EVENTS_UNKNOWN_MEMBER' | 'EVENTS_NOT_SAFE_INTEGER' | 'EVENTS_BAD_TIMESTAMP' | 'EVENTS_UNSUPPORTED_VERSION'
>;
const CODE_BY_KIND: Record<ProblemKind, EnvelopeErrorCode> = {
  unknown_member: 'EVENTS_UNKNOWN_MEMBER',
  not_safe_integer: 'EVENTS_NOT_SAFE_INTEGER',
  timestamp: 'EVENTS_BAD_TIMESTAMP',
  invalid: 'EVENTS_INVALID_ENVELOPE',
};

export function genesisHash(executionId: string, sha256: Sha256 = nobleSha256): Hash {
  return hashUtf8With(sha256, GENESIS_TAG + executionId);
}

export function computeEventHash(envelope: UnhashedEnvelope | EventEnvelope, sha256: Sha256 = nobleSha256): Hash {
  return hashUtf8With(sha256, EVENT_HASH_TAG + canonicalizeWithout(envelope as Record<string, unknown>, 'hash'));
}

/** The raw 32 bytes of an event's hash (the Merkle leaf's input), computed from its content. */
export function eventDigest(envelope: UnhashedEnvelope | EventEnvelope, sha256: Sha256 = nobleSha256): Uint8Array {
  return sha256(EVENT_HASH_TAG + canonicalizeWithout(envelope as Record<string, unknown>, 'hash'));
}

/**
 * The same digest from an event's own text, when that text is already exactly
 * its JCS form (strict-json.ts tracks that while reading): the `hash` member is
 * cut out of it instead of the envelope being serialized again. In JCS the
 * top-level `hash` sorts after `data` and `execution_id`, and nothing after it
 * (`prev`, `seq`, `type`, `v`) can hold that text, so it is the last
 * `,"hash":"` of the text. Null when the text has no such member (the event
 * is malformed; its schema check will say how).
 */
export function eventDigestOfCanonicalText(text: string, sha256: Sha256 = nobleSha256): Uint8Array | null {
  const input = hashInputOfCanonicalText(text);
  return input === null ? null : sha256(input);
}

/** eventDigestOfCanonicalText as `sha256:<hex>` text, what a verifier compares with the event's `hash` (no bytes made when `sha256` writes hex). */
export function eventHashOfCanonicalText(text: string, sha256: Sha256 = nobleSha256): Hash | null {
  const input = hashInputOfCanonicalText(text);
  return input === null ? null : hashUtf8With(sha256, input);
}

function hashInputOfCanonicalText(text: string): string | null {
  const at = text.lastIndexOf(HASH_MEMBER);
  const value = at > 0 ? text.slice(at + HASH_MEMBER.length, at + HASH_MEMBER.length + 71) : '';
  if (!isHashText(value) || text.charCodeAt(at + HASH_MEMBER.length + 71) !== 0x22) return null;
  return EVENT_HASH_TAG + text.slice(0, at) + text.slice(at + HASH_MEMBER.length + 72);
}

const HASH_MEMBER = ',"hash":"';

/**
 * The JCS text (hash included) of each frozen event sealed or read here, made
 * with it, so the two agree for good; no copy of an event (spread,
 * structuredClone, JSON) is in it. A WeakMap, not a member: the verifier
 * refuses any object with a member JSON would not show, symbols included
 * (verify/json-value.ts), and the executor verifies its own events as objects.
 */
const canonicalTexts = new WeakMap<object, string>();

/**
 * An event's canonical (JCS) text: the one made when it was sealed, so the
 * logs and projections write the bytes that were hashed without serializing
 * the event again; for an event from anywhere else (parsed from a log or a
 * certificate), made now.
 */
export function canonicalText(event: EventEnvelope): string {
  return canonicalTexts.get(event) ?? canonicalize(event);
}

/**
 * An event read back as text (from a log), parsed strictly. When the text is
 * already the value's canonical form (what the logs write), the value is
 * frozen and keeps the text, so what is projected from it is the stored bytes,
 * not a new serialization. The value is not checked as an envelope here.
 */
export function parseEventText(text: string): unknown {
  const { value, canonical } = parseStrictJsonText(text);
  if (!canonical || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  deepFreeze(value);
  canonicalTexts.set(value, text);
  return value;
}

function deepFreeze(value: object): void {
  for (const member of Object.values(value)) if (typeof member === 'object' && member !== null) deepFreeze(member);
  Object.freeze(value);
}

/**
 * Hashes an event and returns it sealed: a frozen copy (its data deep-copied
 * and frozen too) whose canonical text is made in the same walk and kept for
 * canonicalText. The text is made once: the hash is taken of it with `hash`
 * left out, and the member is then put in its place (JCS sorts the envelope's
 * members at, data, execution_id, hash, prev, seq, type, v).
 */
export function sealEnvelope<T extends EventType>(unhashed: UnhashedEnvelope<T>, sha256: Sha256 = nobleSha256): EventEnvelope<T> {
  const { v, execution_id, seq, type, at, prev } = unhashed;
  const { text: dataText, copy: data } = canonicalCopy(unhashed.data);
  const head = `{"at":${canonicalScalar(at)},"data":${dataText},"execution_id":${canonicalScalar(execution_id)},`;
  const tail = `"prev":${canonicalScalar(prev)},"seq":${canonicalScalar(seq)},"type":${canonicalScalar(type)},"v":${canonicalScalar(v)}}`;
  const input = EVENT_HASH_TAG + head + tail;
  const hash = hashUtf8With(sha256, input);
  // The text is cut from the hashed input, which hashing made one flat string: a long stream keeps three pieces per event, not the dozens of pieces head and tail were built from.
  const split = EVENT_HASH_TAG.length + head.length;
  const text = `${input.slice(EVENT_HASH_TAG.length, split)}"hash":"${hash}",${input.slice(split)}`;
  const event = Object.freeze({ v, execution_id, seq, type, at, prev, data, hash }) as EventEnvelope<T>;
  canonicalTexts.set(event, text);
  return event;
}

/**
 * Checks the shape of one envelope and its type's data schema for its
 * version. Does not check the hash or the chain (chain.ts). Throws an
 * EVENTS_* error naming the first bad member.
 */
export function parseEnvelope(value: unknown, where = 'event'): EventEnvelope {
  const problem = envelopeProblem(value, where);
  if (problem) {
    const unsupported = problem.kind === 'invalid' && problem.path === `${where}.v` && problem.reason !== 'missing member';
    const code = unsupported ? 'EVENTS_UNSUPPORTED_VERSION' : CODE_BY_KIND[problem.kind];
    throw new EphemeraError(code, `${problem.path}: ${problem.reason}`, { fields: { field: problem.path } });
  }
  checkSealingRules(value as EventEnvelope, where);
  return value as EventEnvelope;
}

/** The last execution id found to be a ULID: every event of a stream repeats it. */
let lastGoodId = '';

function envelopeProblem(value: unknown, p: string): Problem | null {
  const bad = (member: string, reason: string): Problem => ({ kind: 'invalid', path: `${p}.${member}`, reason });
  if (!isPlainObject(value)) return { kind: 'invalid', path: p, reason: 'expected an object' };
  for (const key of Object.keys(value))
    if (!ENVELOPE_MEMBERS.has(key)) return { kind: 'unknown_member', path: `${p}.${key}`, reason: 'not a member of an event envelope' };
  for (const key of ENVELOPE_MEMBERS) if (!Object.hasOwn(value, key)) return bad(key, 'missing member');
  const v = value.v;
  if (v !== 1 && v !== 2) return bad('v', `expected a supported version (${SUPPORTED_VERSIONS.join(', ')})`);
  if (typeof value.execution_id !== 'string' || (value.execution_id !== lastGoodId && !EXECUTION_ID_PATTERN.test(value.execution_id)))
    return bad('execution_id', 'expected a ULID');
  lastGoodId = value.execution_id;
  if (typeof value.seq !== 'number') return bad('seq', 'expected an integer');
  if (!Number.isSafeInteger(value.seq)) return { kind: 'not_safe_integer', path: `${p}.seq`, reason: `expected an exact integer, found ${value.seq}` };
  if (value.seq < 0) return bad('seq', 'expected a non-negative integer');
  if (!isEventType(value.type)) return bad('type', 'unknown event type');
  if (!isTimestamp(value.at)) return { kind: 'timestamp', path: `${p}.at`, reason: 'expected an RFC 3339 UTC time with milliseconds on a real calendar date' };
  if (!isHashText(value.prev)) return bad('prev', 'expected sha256:<64 lowercase hex>');
  if (!isHashText(value.hash)) return bad('hash', 'expected sha256:<64 lowercase hex>');
  const schemas = v === 2 ? eventDataSchemas : eventDataSchemasV1;
  return schemas[value.type].check(value.data, `${p}.data`);
}

/** The last millisecond the system clock was read at, and its RFC 3339 text: events come many to a millisecond, and formatting a date costs more than hashing an event. */
let lastMs = Number.NaN;
let lastIso = '';

function systemNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}

/**
 * Assigns seq, prev and time to the events of one execution, in order.
 * Times never decrease along a stream (a verifier rejects it): a clock that
 * steps back is held at the last time written.
 */
export class EventChain {
  private seq = 0;
  private head: Hash;
  private lastAt = '';
  private version: 1 | 2 = ENVELOPE_VERSION;

  /** `sha256`: @noble/hashes by default (the browser); the server passes node:crypto's (node-hash.ts), several times faster. */
  constructor(
    readonly executionId: string,
    /** Absent: the system clock. */
    private readonly clock?: () => Date,
    private readonly sha256: Sha256 = nobleSha256,
  ) {
    this.head = genesisHash(executionId, sha256);
  }

  /** Continues a stream after its last event (read back from a log), in that stream's version. */
  static resume(last: EventEnvelope, clock?: () => Date, sha256?: Sha256): EventChain {
    const chain = new EventChain(last.execution_id, clock, sha256);
    chain.seq = last.seq + 1;
    chain.head = last.hash;
    chain.lastAt = last.at;
    chain.version = last.v;
    return chain;
  }

  get length(): number {
    return this.seq;
  }

  get formatVersion(): 1 | 2 {
    return this.version;
  }

  /** The time the next event will carry: now, or the last time written if the clock went back. */
  now(): string {
    const at = this.clock ? this.clock().toISOString() : systemNow();
    return at < this.lastAt ? this.lastAt : at;
  }

  next<T extends EventType>(type: T, data: EventData[T], at: string = this.now()): EventEnvelope<T> {
    const event = sealEnvelope<T>(
      { v: this.version, execution_id: this.executionId, seq: this.seq, type, at, prev: this.head, data } as UnhashedEnvelope<T>,
      this.sha256,
    );
    this.seq += 1;
    this.head = event.hash;
    this.lastAt = at;
    return event;
  }
}
