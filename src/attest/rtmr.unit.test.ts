/** RTMR3 replay: runtime events recomputed from their fields, other imr-3 events taken by digest, other registers ignored. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DSTACK_RUNTIME_EVENT_TYPE } from '../events/index.js';
import { replayRtmr3, runtimeEvent, runtimeEventDigest, type EventLogEntry } from './rtmr.js';

const sha384 = (...parts: Buffer[]) => createHash('sha384').update(Buffer.concat(parts)).digest();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const extend = (digests: Buffer[]) => digests.reduce((mr, d) => sha384(mr, d), Buffer.alloc(48));

describe('runtimeEventDigest', () => {
  it('is SHA-384 of the type (u32 little-endian), ":", the event name, ":" and the payload bytes', () => {
    const type = Buffer.alloc(4);
    type.writeUInt32LE(DSTACK_RUNTIME_EVENT_TYPE);
    expect(hex(runtimeEventDigest({ event_type: DSTACK_RUNTIME_EVENT_TYPE, event: 'app-id', event_payload: 'abcd' }))).toBe(
      hex(sha384(type, Buffer.from(':app-id:'), Buffer.from([0xab, 0xcd]))),
    );
    expect(runtimeEvent('app-id', 'abcd')).toEqual({
      imr: 3,
      event_type: DSTACK_RUNTIME_EVENT_TYPE,
      event: 'app-id',
      event_payload: 'abcd',
      digest: hex(sha384(type, Buffer.from(':app-id:'), Buffer.from([0xab, 0xcd]))),
    });
  });
});

describe('replayRtmr3', () => {
  describe('when the log holds runtime events of imr 3', () => {
    it('extends 48 zero bytes with each digest in order and finds the compose hash', () => {
      const log = [runtimeEvent('app-id', 'aa'), runtimeEvent('compose-hash', 'BB'.repeat(32)), runtimeEvent('instance-id', 'cc')];
      const replay = replayRtmr3(log);
      expect(hex(replay.rtmr3)).toBe(hex(extend(log.map((e) => Buffer.from(e.digest, 'hex')))));
      expect(replay).toMatchObject({ badDigestAt: null, composeHash: 'bb'.repeat(32) });
    });

    it('replays an empty log to zeros, without a compose hash', () => {
      expect(replayRtmr3([])).toMatchObject({ rtmr3: new Uint8Array(48), badDigestAt: null, composeHash: null });
    });
  });

  describe('when the log holds events of other registers', () => {
    it('leaves them out, compose hash included', () => {
      const boot: EventLogEntry = { ...runtimeEvent('compose-hash', 'dd'.repeat(32)), imr: 0 };
      const log = [boot, runtimeEvent('app-id', 'aa')];
      expect(replayRtmr3(log)).toMatchObject({ rtmr3: replayRtmr3([log[1]!]).rtmr3, badDigestAt: null, composeHash: null });
    });
  });

  describe('when an imr-3 event is not a runtime event', () => {
    it('takes its recorded digest as it is, in any case', () => {
      const digest = 'EF'.repeat(48);
      const replay = replayRtmr3([{ imr: 3, event_type: 1, digest, event: 'other', event_payload: '' }]);
      expect(replay).toMatchObject({ rtmr3: new Uint8Array(extend([Buffer.from(digest, 'hex')])), badDigestAt: null, composeHash: null });
    });
  });

  describe('when recorded digests lie', () => {
    it('names the first that is not what its fields give, and still replays the true digests', () => {
      const log = [
        runtimeEvent('app-id', 'aa'),
        { ...runtimeEvent('x', 'bb'), digest: '00'.repeat(48) },
        { ...runtimeEvent('y', 'cc'), digest: '11'.repeat(48) },
      ];
      const replay = replayRtmr3(log);
      expect(replay.badDigestAt).toBe(1);
      expect(hex(replay.rtmr3)).toBe(hex(replayRtmr3([runtimeEvent('app-id', 'aa'), runtimeEvent('x', 'bb'), runtimeEvent('y', 'cc')]).rtmr3));
    });

    it('accepts a true digest written in uppercase', () => {
      const e = runtimeEvent('app-id', 'aa');
      expect(replayRtmr3([{ ...e, digest: e.digest.toUpperCase() }]).badDigestAt).toBeNull();
    });
  });

  describe('when the compose hash is followed by other events', () => {
    it('keeps the compose hash', () => {
      expect(replayRtmr3([runtimeEvent('compose-hash', 'ab'.repeat(32)), runtimeEvent('instance-id', 'cd')]).composeHash).toBe('ab'.repeat(32));
    });
  });
});
