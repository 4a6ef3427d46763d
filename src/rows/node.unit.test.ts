import { describe, expect, it } from 'vitest';
import { nobleRowCrypto, rowSaltKey } from './commitment.js';
import { nodeRowCrypto } from './node.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('nodeRowCrypto', () => {
  it("gives @noble/hashes' salts and leaf hashes: indexes past 2^32, empty, short, long and very long records", () => {
    const prk = rowSaltKey(new Uint8Array(32).fill(9));
    for (const index of [0, 1, 255, 2 ** 32 - 1, 2 ** 32 + 5, 2 ** 40 + 3])
      expect(hex(nodeRowCrypto.salt(prk, index))).toBe(hex(nobleRowCrypto.salt(prk, index)));
    const salt = nobleRowCrypto.salt(prk, 3);
    for (const length of [0, 1, 70, 300, 16 * 1024, 16 * 1024 + 1, 100_000]) {
      const record = new Uint8Array(length).map((_, i) => i * 31);
      expect(hex(nodeRowCrypto.leafHash(2 ** 33 + length, salt, record))).toBe(hex(nobleRowCrypto.leafHash(2 ** 33 + length, salt, record)));
    }
  });

  it('follows a salt key changed in place, and a second key alongside', () => {
    const prk = rowSaltKey(new Uint8Array(32).fill(1));
    const other = rowSaltKey(new Uint8Array(32).fill(2));
    expect(hex(nodeRowCrypto.salt(prk, 7))).toBe(hex(nobleRowCrypto.salt(prk, 7)));
    expect(hex(nodeRowCrypto.salt(other, 7))).toBe(hex(nobleRowCrypto.salt(other, 7)));
    prk.fill(0);
    expect(hex(nodeRowCrypto.salt(prk, 7))).toBe(hex(nobleRowCrypto.salt(prk, 7)));
  });
});
