import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { TLOG_RECORD_MAX_BYTES, batchEntries, batchRecord, encodeTlogRecord, parseTlogRecord, type TlogRecord } from './records.js';

const batch = batchRecord('log.example/x', 7, [new Uint8Array([1, 2, 3]), new Uint8Array(0)], 'log.example/x\n9\nAAAA\n\n— sig\n');
const cosignatures: TlogRecord = { type: 'ephemera.tlog-cosignatures', v: 1, origin: 'log.example/x', size: 9, cosignatures: '— w AAAA\n' };

const code = (f: () => unknown) => {
  try {
    f();
    return null;
  } catch (error) {
    return isEphemeraError(error) ? error.code : String(error);
  }
};

describe('tlog ledger records', () => {
  it('read back what they write, entries as bytes', () => {
    expect(parseTlogRecord(encodeTlogRecord(batch))).toEqual(batch);
    expect(parseTlogRecord(encodeTlogRecord(cosignatures))).toEqual(cosignatures);
    expect(batchEntries(batch)).toEqual([new Uint8Array([1, 2, 3]), new Uint8Array(0)]);
  });

  it.each([
    ['not JSON', '{'],
    ['another type', encodeTlogRecord({ ...batch, type: 'ephemera.other' } as never)],
    ['v2', encodeTlogRecord({ ...batch, v: 2 } as never)],
    ['a member more', encodeTlogRecord({ ...batch, extra: 1 } as never)],
    ['a member less', JSON.stringify({ checkpoint: 'x', entries: ['AA=='], origin: 'o', type: 'ephemera.tlog-batch', v: 1 })],
    ['a negative first_index', encodeTlogRecord({ ...batch, first_index: -1 })],
    ['a fractional first_index', encodeTlogRecord({ ...batch, first_index: 1.5 })],
    ['no entries', encodeTlogRecord({ ...batch, entries: [] })],
    ['a non-string entry', encodeTlogRecord({ ...batch, entries: [1] } as never)],
    ['an origin with a newline', encodeTlogRecord({ ...batch, origin: 'a\nb' })],
    ['size 0 cosigned', encodeTlogRecord({ ...cosignatures, size: 0 } as never)],
    ['not its JCS (spaces)', JSON.stringify(JSON.parse(encodeTlogRecord(batch)), null, 1)],
    [
      'not its JCS (member order)',
      JSON.stringify({ v: 1, type: batch.type, origin: batch.origin, first_index: 7, entries: batch.entries, checkpoint: batch.checkpoint }),
    ],
    ['too large', encodeTlogRecord({ ...batch, checkpoint: 'x'.repeat(TLOG_RECORD_MAX_BYTES) })],
  ])('refuses %s: TLOG_RECORD_MALFORMED', (_name, text) => {
    expect(code(() => parseTlogRecord(text))).toBe('TLOG_RECORD_MALFORMED');
  });

  it('refuses an entry that is not canonical base64', () => {
    expect(code(() => batchEntries({ ...batch, entries: ['AB=='] }))).toBe('TLOG_RECORD_MALFORMED');
    expect(code(() => batchEntries({ ...batch, entries: ['%%%%'] }))).toBe('TLOG_RECORD_MALFORMED');
  });
});
