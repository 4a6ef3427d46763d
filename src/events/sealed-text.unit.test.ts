/**
 * Canonical bytes once (issue 17): a sealed event carries the JCS text it was
 * hashed from, and the logs write that text. The text must be exactly JCS of
 * the event, for every event and for good: the event is a frozen copy, copies
 * of it do not take the text along, and the fast JCS paths equal a plain
 * reference implementation on any value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonValue } from '../verify/json-value.js';
import { DEFAULT_VERIFY_LIMITS } from '../verify/limits.js';
import { richEvents } from '../verify/testing/conformance.js';
import { EventChain, canonicalText, computeEventHash, parseEventText, sealEnvelope, type EventEnvelope } from './envelope.js';
import { nobleSha256 } from './hash.js';
import { canonicalCopy, canonicalize } from './jcs.js';
import { nodeSha256 } from './node-hash.js';
import { STREAM_EXECUTION_ID, data } from './testing/stream.js';

/** RFC 8785 as plainly as it can be written: Array.prototype.sort and JSON.stringify for every string. */
function reference(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const record = value as Record<string, unknown>;
  const names = Object.keys(record)
    .filter((name) => record[name] !== undefined)
    .sort();
  return `{${names.map((name) => `${JSON.stringify(name)}:${reference(record[name])}`).join(',')}}`;
}

const isDeeplyFrozen = (value: unknown): boolean =>
  typeof value !== 'object' || value === null || (Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen));

/** Strings that need every escape JCS knows, and names that sort differently by code unit than by code point. */
const awkwardString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.constantFrom('"', '\\', '\u0000', '\u001f', '\b\t\n\f\r', '\u2028', '/', 'é', '😀', '\ufb33', '\ud800', '\udfff', '__proto__', ''),
);
/** Values shaped as event data: flat-ish records of strings, integers, booleans and null, sometimes nested, sometimes wide. */
const eventShaped = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    awkwardString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(awkwardString, tie('value'), { maxKeys: 6 }),
    fc.dictionary(fc.string(), tie('value'), { minKeys: 17, maxKeys: 40 }),
  ),
})).value;

describe('the JCS fast paths', () => {
  it('write exactly what the reference writes, for any JSON value and any event-shaped value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), eventShaped), (value) => {
        const expected = reference(value);
        expect(canonicalize(value)).toBe(expected);
        expect(canonicalCopy(value).text).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('copy a value deeply, frozen, without its undefined members, keeping a __proto__ member as an own member', () => {
    fc.assert(
      fc.property(eventShaped, (value) => {
        const { text, copy } = canonicalCopy(value);
        expect(copy).toEqual(value);
        expect(isDeeplyFrozen(copy)).toBe(true);
        expect(canonicalize(copy)).toBe(text);
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
      { numRuns: 300 },
    );
    const { text, copy } = canonicalCopy(JSON.parse('{"b":1,"__proto__":{"x":1},"a":[1]}') as Record<string, unknown>);
    expect(text).toBe('{"__proto__":{"x":1},"a":[1],"b":1}');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['b', '__proto__', 'a']);
    expect(canonicalCopy({ b: 1, a: undefined }).copy).toStrictEqual({ b: 1 });
  });
});

describe('a sealed event', () => {
  const events = richEvents() as EventEnvelope[];

  it('carries the JCS text of itself, from which its hash was taken, for every event type', () => {
    for (const event of events) {
      const text = canonicalText(event);
      expect(text).toBe(reference(event));
      expect(text).toBe(canonicalize(JSON.parse(JSON.stringify(event))));
      expect(event.hash).toBe(computeEventHash(structuredClone(event)));
    }
  });

  it('is frozen throughout, so its text cannot come to disagree with it', () => {
    const [event] = events as [EventEnvelope<'execution.requested'>];
    expect(isDeeplyFrozen(event)).toBe(true);
    expect(() => {
      (event as { seq: number }).seq = 7;
    }).toThrow(TypeError);
    expect(() => {
      (event.data as { dataset_bytes: number }).dataset_bytes = 7;
    }).toThrow(TypeError);
    expect(canonicalText(event)).toBe(canonicalize(event));
  });

  it('is a copy of the data it was given: later changes to that data, or a getter read again, change nothing', () => {
    let reads = 0;
    const given = {
      call_id: 'c1',
      op: 'read',
      count: 1,
      get path() {
        reads += 1;
        return `/work/${reads}`;
      },
    };
    const event = new EventChain(STREAM_EXECUTION_ID).next('file.accessed', given as never);
    given.count = 2;
    expect(event.data).toEqual({ call_id: 'c1', op: 'read', count: 1, path: '/work/1' });
    expect(canonicalText(event)).toBe(canonicalize(event));
    expect(reads).toBe(1); // read once, by the walk that made both the copy and the text
  });

  it('refuses an array an element getter shrinks mid-walk, rather than a text that is not its copy', () => {
    const items: unknown[] = [1, 2, 3];
    Object.defineProperty(items, 0, { enumerable: true, get: () => ((items.length = 1), 1) });
    expect(() => canonicalCopy({ a: items })).toThrow(expect.objectContaining({ code: 'EVENTS_NOT_CANONICALIZABLE' }));
  });

  it('does not pass its text on to copies, which are serialized as they now stand', () => {
    const [event] = events as [EventEnvelope];
    for (const copy of [{ ...event }, structuredClone(event), JSON.parse(JSON.stringify(event)) as EventEnvelope]) {
      (copy as { seq: number }).seq = 99;
      expect(canonicalText(copy)).toBe(canonicalize(copy));
      expect(canonicalText(copy)).toContain('"seq":99');
    }
    // An object that only inherits from the event has none of its members, nor its text.
    expect(canonicalText(Object.create(event) as EventEnvelope)).toBe('{}');
    expect(Object.keys(event)).toEqual(['v', 'execution_id', 'seq', 'type', 'at', 'prev', 'data', 'hash']);
    // Nothing on the event itself: the verifier refuses an object with members JSON would not show, symbols included.
    expect(Reflect.ownKeys(event)).toEqual(['v', 'execution_id', 'seq', 'type', 'at', 'prev', 'data', 'hash']);
    expect(() => checkJsonValue(events, DEFAULT_VERIFY_LIMITS)).not.toThrow();
  });

  it('is the same whichever SHA-256 seals it (node:crypto on the server, @noble/hashes in the browser)', () => {
    const clock = () => new Date('2026-02-01T13:15:00.000Z');
    const seal = (sha256: typeof nobleSha256) => {
      const chain = new EventChain(STREAM_EXECUTION_ID, clock, sha256);
      return [chain.next('execution.requested', data.requested()), chain.next('dataset.loaded', data.loaded())].map(canonicalText);
    };
    expect(seal(nodeSha256)).toEqual(seal(nobleSha256));
    const resumed = EventChain.resume(sealEnvelope({ ...events[0]!, data: events[0]!.data } as never, nodeSha256), clock, nodeSha256);
    expect(resumed.next('dataset.loaded', data.loaded()).prev).toBe(events[0]!.hash);
  });

  it('refuses data that has no canonical form instead of sealing it', () => {
    const chain = new EventChain(STREAM_EXECUTION_ID);
    expect(() => chain.next('file.accessed', { call_id: 'c', op: 'read', path: '/p', count: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'EVENTS_NOT_CANONICALIZABLE' }),
    );
    expect(chain.length).toBe(0);
  });
});

describe('an event read back as text (parseEventText)', () => {
  const events = richEvents() as EventEnvelope[];

  it('keeps its text when that text is canonical, frozen as a sealed event is', () => {
    for (const event of events) {
      const text = canonicalText(event);
      const read = parseEventText(text) as EventEnvelope;
      expect(read).toEqual(event);
      expect(isDeeplyFrozen(read)).toBe(true);
      expect(canonicalText(read)).toBe(text);
    }
  });

  it('is an ordinary value when the text is not canonical, serialized afresh', () => {
    const [event] = events as [EventEnvelope];
    const read = parseEventText(JSON.stringify(event)) as EventEnvelope;
    expect(Object.isFrozen(read)).toBe(false);
    expect(canonicalText(read)).toBe(canonicalText(event));
  });

  it('reads as strictly as parseStrictJson', () => {
    expect(() => parseEventText('{"a":1,"a":2}')).toThrow(expect.objectContaining({ code: 'JSON_DUPLICATE_MEMBER' }));
    expect(() => parseEventText('{"a":1.0}')).toThrow(expect.objectContaining({ code: 'JSON_NUMBER_NOT_CANONICAL' }));
  });
});
