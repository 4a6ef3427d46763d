/** The stream checker: one execution, one version, contiguous seq, times that never decrease, every hash and link. */
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { StreamChecker, verifyStream, MAX_STREAM_EVENTS } from './chain.js';
import { computeEventHash, genesisHash, type EventEnvelope } from './envelope.js';
import { nobleSha256 } from './hash.js';
import { STREAM_EXECUTION_ID, runEvents } from './testing/stream.js';

const OTHER_ID = '01JD7ZX3Q4M5N6P7R8S9T0VWXZ';
const copy = (events: readonly EventEnvelope[]) => structuredClone(events) as EventEnvelope[];
const rehash = (e: EventEnvelope) => {
  e.hash = computeEventHash(e);
};
const failureOf = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return { code: error.code, message: error.message, fields: error.fields };
  }
};

describe('StreamChecker', () => {
  describe('when the stream is intact', () => {
    it('returns each event and follows the stream', () => {
      const events = runEvents();
      const checker = new StreamChecker();
      expect([checker.length, checker.lastEvent]).toEqual([0, null]);
      for (const e of events) expect(checker.push(e)).toBe(e);
      expect([checker.length, checker.lastEvent, checker.lifecycle.phase]).toEqual([events.length, events.at(-1), 'destroyed']);
    });

    it('hashes with the SHA-256 it is given', () => {
      let calls = 0;
      const checker = new StreamChecker({
        sha256: (d) => {
          calls += 1;
          return nobleSha256(d);
        },
      });
      checker.push(runEvents()[0]);
      expect(calls).toBe(2); // the event's hash and the genesis link
    });
  });

  describe('when the stream is longer than its limit', () => {
    it('refuses the event past the limit with EVENTS_STREAM_TOO_LONG', () => {
      const events = runEvents();
      const checker = new StreamChecker({ maxEvents: 2 });
      checker.push(events[0]);
      checker.push(events[1]);
      expect(failureOf(() => checker.push(events[2]))).toEqual({ code: 'EVENTS_STREAM_TOO_LONG', message: 'more than 2 events', fields: { field: 'events' } });
    });

    it('has a hard cap of two million events by default', () => {
      expect(MAX_STREAM_EVENTS).toBe(2_000_000);
    });
  });

  describe('when an event breaks a rule', () => {
    const pushAll = (events: readonly EventEnvelope[], options?: ConstructorParameters<typeof StreamChecker>[0]) => () => {
      const checker = new StreamChecker(options);
      for (const e of events) checker.push(e);
    };

    it('names a malformed envelope by its index', () => {
      const events = copy(runEvents());
      (events[1] as { seq: unknown }).seq = 'one';
      expect(failureOf(pushAll(events))).toMatchObject({ code: 'EVENTS_INVALID_ENVELOPE', fields: { field: 'events[1].seq' } });
    });

    it('refuses a stream of another execution than expected', () => {
      expect(failureOf(pushAll(runEvents(), { executionId: OTHER_ID }))).toEqual({
        code: 'EVENTS_WRONG_EXECUTION',
        message: 'events[0].execution_id: belongs to another execution',
        fields: { seq: 0, field: 'events[0].execution_id' },
      });
    });

    it('refuses an event of another execution inside the stream', () => {
      const events = copy(runEvents());
      events[2]!.execution_id = OTHER_ID;
      rehash(events[2]!);
      expect(failureOf(pushAll(events))).toMatchObject({ code: 'EVENTS_WRONG_EXECUTION', fields: { seq: 2, field: 'events[2].execution_id' } });
    });

    it('refuses a change of version inside the stream', () => {
      const events = copy(runEvents());
      (events[1] as { v: number }).v = 1;
      rehash(events[1]!);
      expect(failureOf(pushAll(events))).toEqual({
        code: 'EVENTS_VERSION_MISMATCH',
        message: 'events[1].v: version 1 in a stream of version 2',
        fields: { seq: 1, field: 'events[1].v' },
      });
    });

    it('refuses a gap in seq', () => {
      const events = copy(runEvents());
      events[1]!.seq = 2;
      rehash(events[1]!);
      expect(failureOf(pushAll(events))).toEqual({
        code: 'EVENTS_SEQ_GAP',
        message: 'events[1].seq: expected seq 1, found 2',
        fields: { seq: 1, field: 'events[1].seq' },
      });
    });

    it('refuses a time earlier than the event before, and accepts an equal one', () => {
      const events = copy(runEvents());
      events[2]!.at = events[1]!.at;
      rehash(events[2]!);
      events[3]!.prev = events[2]!.hash;
      events[3]!.at = '2026-02-01T13:14:59.999Z';
      rehash(events[3]!);
      expect(failureOf(pushAll(events))).toEqual({
        code: 'EVENTS_TIME_DECREASES',
        message: `events[3].at: 2026-02-01T13:14:59.999Z is earlier than the event before it (${events[2]!.at})`,
        fields: { seq: 3, field: 'events[3].at' },
      });
    });

    it("refuses an event whose hash is not its content's", () => {
      const events = copy(runEvents());
      (events[1]!.data as { bytes: number }).bytes = 1;
      expect(failureOf(pushAll(events))).toEqual({
        code: 'EVENTS_HASH_MISMATCH',
        message: 'events[1].hash: hash does not match the content',
        fields: { seq: 1, field: 'events[1].hash' },
      });
    });

    it('refuses a broken link, and a first event not linked to the genesis', () => {
      const events = copy(runEvents());
      events[1]!.prev = events[0]!.prev;
      rehash(events[1]!);
      expect(failureOf(pushAll(events))).toEqual({
        code: 'EVENTS_CHAIN_BROKEN',
        message: 'events[1].prev: prev does not link to the previous event',
        fields: { seq: 1, field: 'events[1].prev' },
      });
      const first = copy(runEvents());
      first[0]!.prev = genesisHash(OTHER_ID);
      rehash(first[0]!);
      expect(failureOf(pushAll(first))).toMatchObject({ code: 'EVENTS_CHAIN_BROKEN', fields: { field: 'events[0].prev' } });
    });

    it('refuses an event out of lifecycle order', () => {
      const [requested, , created] = copy(runEvents());
      created!.seq = 1;
      created!.prev = requested!.hash;
      rehash(created!);
      expect(failureOf(pushAll([requested!, created!]))).toMatchObject({ code: 'EVENTS_LIFECYCLE_VIOLATION', fields: { field: 'events[1].type' } });
    });
  });
});

describe('verifyStream', () => {
  describe('when the stream is intact', () => {
    it('returns the events, the lifecycle and the head', () => {
      const events = runEvents();
      const verified = verifyStream(events, STREAM_EXECUTION_ID, nobleSha256);
      expect(verified.events).toEqual(events);
      expect(verified.lifecycle.phase).toBe('destroyed');
      expect(verified.head).toBe(events.at(-1)!.hash);
    });
  });

  describe('when the stream is empty', () => {
    it('fails with EVENTS_EMPTY_STREAM', () => {
      expect(failureOf(() => verifyStream([]))).toEqual({ code: 'EVENTS_EMPTY_STREAM', message: 'the stream has no events', fields: { field: 'events' } });
    });
  });

  describe('when the stream belongs to another execution than expected', () => {
    it('fails with EVENTS_WRONG_EXECUTION', () => {
      expect(failureOf(() => verifyStream(runEvents(), OTHER_ID))?.code).toBe('EVENTS_WRONG_EXECUTION');
    });
  });
});
