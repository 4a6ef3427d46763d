/** report_data: the Merkle root, then a hash binding the execution, the tree size and (version 2) the sealing time. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { REPORT_TAG, REPORT_TAG_V1, reportData, reportDataHex, reportDataV1 } from './report-data.js';

const ROOT = new Uint8Array(32).map((_, i) => i);
const ID = '01JD7ZX3Q4M5N6P7R8S9T0VWXY';
const AT = '2026-02-01T13:15:00.123Z';
const sha256 = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const u64be = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

describe('reportData', () => {
  describe('when given a root, an execution, a tree size and the sealing time (version 2)', () => {
    it('is the root followed by SHA-256 of the tag, the id, the size as u64 big-endian and the time', () => {
      const out = reportData(ROOT, ID, 300, AT);
      expect(REPORT_TAG).toBe('ephemera/v2/report\n');
      expect(Buffer.from(out.subarray(0, 32))).toEqual(Buffer.from(ROOT));
      expect(Buffer.from(out.subarray(32))).toEqual(sha256(REPORT_TAG, ID, u64be(300), AT));
      expect(reportDataHex(ROOT, ID, 300, AT)).toBe(Buffer.from(out).toString('hex'));
    });

    it('changes with each of them', () => {
      const hex = (r: Uint8Array) => Buffer.from(r).toString('hex');
      const base = hex(reportData(ROOT, ID, 300, AT));
      expect(hex(reportData(ROOT, ID, 301, AT))).not.toBe(base);
      expect(hex(reportData(ROOT, ID, 300, '2026-02-01T13:15:00.124Z'))).not.toBe(base);
      expect(hex(reportData(ROOT, '01JD7ZX3Q4M5N6P7R8S9T0VWXZ', 300, AT))).not.toBe(base);
    });
  });

  describe('when the certificate is of version 1', () => {
    it('binds the id and the tree size under the version-1 tag, without the time', () => {
      const out = reportDataV1(ROOT, ID, 2 ** 40 + 5);
      expect(REPORT_TAG_V1).toBe('ephemera/v1/report\n');
      expect(Buffer.from(out.subarray(0, 32))).toEqual(Buffer.from(ROOT));
      expect(Buffer.from(out.subarray(32))).toEqual(sha256(REPORT_TAG_V1, ID, u64be(2 ** 40 + 5)));
    });
  });

  describe('when the root is not 32 bytes', () => {
    it.each([31, 33])('refuses %i bytes in either version', (n) => {
      expect(() => reportData(new Uint8Array(n), ID, 1, AT)).toThrow(new TypeError('merkle root must be 32 bytes'));
      expect(() => reportDataV1(new Uint8Array(n), ID, 1)).toThrow(new TypeError('merkle root must be 32 bytes'));
    });
  });
});
