/** The event envelope: its closed shape, the code each problem gets, and the chain that writes it. */
import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { EventChain, SUPPORTED_VERSIONS, computeEventHash, genesisHash, parseEnvelope, sealEnvelope } from './envelope.js';
import { hashUtf8 } from './hash.js';
import { STREAM_EXECUTION_ID, data, runEvents } from './testing/stream.js';

const valid = () => structuredClone(runEvents()[1]!) as unknown as Record<string, unknown>;
const HASH = hashUtf8('x');
const failureOf = (value: unknown, where?: string) => {
  try {
    parseEnvelope(value, where);
    return null;
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return { code: error.code, message: error.message, field: error.fields.field };
  }
};
const withMember = (name: string, value: unknown) => ({ ...valid(), [name]: value });

describe('parseEnvelope', () => {
  describe('when the envelope is well formed', () => {
    it('returns it as it is', () => {
      const e = valid();
      expect(parseEnvelope(e)).toBe(e);
    });

    it('reads both supported versions', () => {
      expect(SUPPORTED_VERSIONS).toEqual([1, 2]);
      expect(failureOf(withMember('v', 1))).toBeNull();
    });
  });

  describe('when the envelope is not an object', () => {
    it.each([[null], [[]], ['event'], [new Date(0)]])('refuses %j with EVENTS_INVALID_ENVELOPE at the event itself', (value) => {
      expect(failureOf(value, 'events[3]')).toEqual({ code: 'EVENTS_INVALID_ENVELOPE', message: 'events[3]: expected an object', field: 'events[3]' });
    });

    it('names the event "event" when no place is given', () => {
      expect(failureOf(null)).toEqual({ code: 'EVENTS_INVALID_ENVELOPE', message: 'event: expected an object', field: 'event' });
    });
  });

  describe('when a member is unknown or missing', () => {
    it('refuses a member outside the envelope with EVENTS_UNKNOWN_MEMBER', () => {
      expect(failureOf(withMember('extra', 1), 'events[0]')).toEqual({
        code: 'EVENTS_UNKNOWN_MEMBER',
        message: 'events[0].extra: not a member of an event envelope',
        field: 'events[0].extra',
      });
    });

    it.each(['v', 'execution_id', 'seq', 'type', 'at', 'prev', 'data', 'hash'])('refuses an envelope without %s with EVENTS_INVALID_ENVELOPE', (name) => {
      const e = valid();
      delete e[name];
      expect(failureOf(e)).toEqual({ code: 'EVENTS_INVALID_ENVELOPE', message: `event.${name}: missing member`, field: `event.${name}` });
    });
  });

  describe('when the version is not supported', () => {
    it.each([[3], [0], ['2'], [null]])('refuses v = %j with EVENTS_UNSUPPORTED_VERSION', (v) => {
      expect(failureOf(withMember('v', v))).toEqual({
        code: 'EVENTS_UNSUPPORTED_VERSION',
        message: 'event.v: expected a supported version (1, 2)',
        field: 'event.v',
      });
    });
  });

  describe('when a member has the wrong form', () => {
    it.each([
      ['execution_id', `${STREAM_EXECUTION_ID}X`, 'expected a ULID'],
      ['execution_id', `X${STREAM_EXECUTION_ID}`, 'expected a ULID'],
      ['execution_id', [STREAM_EXECUTION_ID], 'expected a ULID'],
      ['seq', '1', 'expected an integer'],
      ['seq', -1, 'expected a non-negative integer'],
      ['type', 'dataset.exploded', 'unknown event type'],
      ['type', 'toString', 'unknown event type'],
      ['prev', `${HASH}0`, 'expected sha256:<64 lowercase hex>'],
      ['prev', `x${HASH}`, 'expected sha256:<64 lowercase hex>'],
      ['prev', [HASH], 'expected sha256:<64 lowercase hex>'],
      ['hash', `${HASH}0`, 'expected sha256:<64 lowercase hex>'],
      ['hash', `x${HASH}`, 'expected sha256:<64 lowercase hex>'],
      ['hash', [HASH], 'expected sha256:<64 lowercase hex>'],
    ])('refuses %s = %j with EVENTS_INVALID_ENVELOPE', (name, value, reason) => {
      expect(failureOf(withMember(name, value))).toEqual({ code: 'EVENTS_INVALID_ENVELOPE', message: `event.${name}: ${reason}`, field: `event.${name}` });
    });

    it.each([[1.5], [2 ** 53]])('refuses seq = %s with EVENTS_NOT_SAFE_INTEGER', (seq) => {
      expect(failureOf(withMember('seq', seq))).toEqual({
        code: 'EVENTS_NOT_SAFE_INTEGER',
        message: `event.seq: expected an exact integer, found ${seq}`,
        field: 'event.seq',
      });
    });

    it.each([['2026-02-01T13:15:00Z'], ['2026-02-30T13:15:00.000Z'], [1]])('refuses at = %j with EVENTS_BAD_TIMESTAMP', (at) => {
      expect(failureOf(withMember('at', at))).toEqual({
        code: 'EVENTS_BAD_TIMESTAMP',
        message: 'event.at: expected an RFC 3339 UTC time with milliseconds on a real calendar date',
        field: 'event.at',
      });
    });

    it("checks the data against its type's schema, naming the member", () => {
      expect(failureOf(withMember('data', { ...data.loaded(), medium: 'disk' }), 'events[1]')).toEqual({
        code: 'EVENTS_INVALID_ENVELOPE',
        message: 'events[1].data.medium: expected "tmpfs"',
        field: 'events[1].data.medium',
      });
      expect(failureOf(withMember('data', { ...data.loaded(), extra: 1 }))).toMatchObject({ code: 'EVENTS_UNKNOWN_MEMBER', field: 'event.data.extra' });
    });

    it("checks version-1 data against version 1's schema", () => {
      const created = structuredClone(runEvents()[2]!) as unknown as Record<string, unknown>;
      expect(failureOf({ ...created, data: { isolation: {}, limits: {}, network: {}, runtime: {} } })).toMatchObject({
        code: 'EVENTS_INVALID_ENVELOPE',
        field: 'event.data.isolation.tool',
      });
      expect(failureOf({ ...created, v: 1, data: { isolation: {}, limits: {}, network: {}, runtime: {} } })).toBeNull();
    });
  });
});

describe('EventChain', () => {
  describe('when events are appended', () => {
    it('links the first to the genesis hash, then each to the one before, numbering them', () => {
      const chain = new EventChain(STREAM_EXECUTION_ID, () => new Date('2026-02-01T13:15:00.000Z'));
      const first = chain.next('execution.requested', data.requested());
      const second = chain.next('dataset.loaded', data.loaded());
      expect([first.seq, first.prev, first.v]).toEqual([0, genesisHash(STREAM_EXECUTION_ID), 2]);
      expect([second.seq, second.prev]).toEqual([1, first.hash]);
      expect(first.hash).toBe(computeEventHash(first));
      expect(chain.length).toBe(2);
      expect(chain.formatVersion).toBe(2);
    });

    it('uses the wall clock when given none', () => {
      const before = Date.now();
      const at = Date.parse(new EventChain(STREAM_EXECUTION_ID).next('execution.requested', data.requested()).at);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(Date.now());
    });

    it('takes an explicit time', () => {
      expect(new EventChain(STREAM_EXECUTION_ID).next('execution.requested', data.requested(), '2026-01-01T00:00:00.000Z').at).toBe('2026-01-01T00:00:00.000Z');
    });
  });

  describe('when the clock steps back', () => {
    it('holds the time at the last one written', () => {
      const times = ['2026-02-01T13:15:00.500Z', '2026-02-01T13:15:00.100Z', '2026-02-01T13:15:00.900Z'];
      let i = 0;
      const chain = new EventChain(STREAM_EXECUTION_ID, () => new Date(times[i++]!));
      const ats = [
        chain.next('execution.requested', data.requested()),
        chain.next('dataset.loaded', data.loaded()),
        chain.next('sandbox.created', data.created()),
      ].map((e) => e.at);
      expect(ats).toEqual(['2026-02-01T13:15:00.500Z', '2026-02-01T13:15:00.500Z', '2026-02-01T13:15:00.900Z']);
    });
  });

  describe('when a stream is resumed after its last event', () => {
    it('continues its seq, link, time and version', () => {
      const [requested] = runEvents();
      const v1 = sealEnvelope({ ...requested!, v: 1, seq: 4, at: '2026-02-01T13:16:00.000Z' });
      const chain = EventChain.resume(v1, () => new Date('2026-02-01T13:15:00.000Z'));
      expect([chain.length, chain.formatVersion, chain.now()]).toEqual([5, 1, '2026-02-01T13:16:00.000Z']);
      const next = chain.next('dataset.loaded', data.loaded());
      expect([next.seq, next.prev, next.v, next.at, next.execution_id]).toEqual([5, v1.hash, 1, '2026-02-01T13:16:00.000Z', STREAM_EXECUTION_ID]);
      expect(chain.length).toBe(6);
    });
  });
});
