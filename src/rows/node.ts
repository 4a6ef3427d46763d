/**
 * node:crypto for row commitments on the server: the same bytes as the default (@noble/hashes), without building
 * each leaf in memory first (the record is hashed where it lies in the dataset).
 */
import { createHash, createHmac } from 'node:crypto';
import { nodeSha256 } from '../events/node-hash.js';
import { ROW_LEAF_LABEL, SALT_INFO, type RowCrypto } from './commitment.js';

const ONE = Buffer.from([1]);
const LEAF_PREFIX = Buffer.concat([Buffer.from([0x00]), Buffer.from(ROW_LEAF_LABEL)]);

function u64be(index: number): Buffer {
  const out = Buffer.allocUnsafe(8);
  out.writeUInt32BE(Math.floor(index / 2 ** 32), 0);
  out.writeUInt32BE(index >>> 0, 4);
  return out;
}

export const nodeRowCrypto: RowCrypto = {
  hmacSha256: (key, data) => new Uint8Array(createHmac('sha256', key).update(data).digest()),
  salt: (prk, index) => new Uint8Array(createHmac('sha256', prk).update(SALT_INFO).update(u64be(index)).update(ONE).digest()),
  leafHash: (index, salt, record) => new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(u64be(index)).update(salt).update(record).digest()),
  sha256: nodeSha256,
};
