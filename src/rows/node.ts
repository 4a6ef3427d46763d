/**
 * node:crypto for row commitments on the server: the same bytes as the default (@noble/hashes), faster. With
 * small records each node:crypto call costs more than the hashing it does (SHA-NI), so a record takes as few calls
 * as the bytes allow, each as cheap as it can be: its salt's HMAC as two one-shot SHA-256 over the key's pads kept
 * per salt key, its leaf as one over a reused buffer, and every digest handed back as a latin1 string copied into
 * bytes here, which costs half of what node:crypto takes to hand back a Buffer (docs/row-proofs.md §5).
 */
import * as crypto from 'node:crypto';
import type { Sha256 } from '../events/index.js';
import { ROW_LEAF_LABEL, SALT_INFO, type RowCrypto } from './commitment.js';

const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: Uint8Array | string, encoding: 'binary' | 'hex') => string }).hash;
const digestLatin1 = oneShot
  ? (data: Uint8Array | string) => oneShot('sha256', data, 'binary')
  : (data: Uint8Array | string) => crypto.createHash('sha256').update(data).digest('binary');

/** SHA-256 of `data` written into `into` at `at`. */
function digestInto(data: Uint8Array | string, into: Uint8Array, at: number): void {
  const digest = digestLatin1(data);
  for (let i = 0; i < 32; i++) into[at + i] = digest.charCodeAt(i);
}

function sha256(data: Uint8Array | string): Uint8Array {
  const out = new Uint8Array(32);
  digestInto(data, out, 0);
  return out;
}

const BLOCK = 64;
const SALT_INDEX_AT = BLOCK + SALT_INFO.length;
const LEAF_PREFIX = Buffer.concat([Buffer.from([0x00]), Buffer.from(ROW_LEAF_LABEL)]);
const LEAF_INDEX_AT = LEAF_PREFIX.length;
const LEAF_SALT_AT = LEAF_INDEX_AT + 8;
const LEAF_RECORD_AT = LEAF_SALT_AT + 32;
/** A record longer than this is hashed where it lies (createHash with updates) instead of copied. */
const LEAF_BUFFER_RECORD = 16 * 1024;

/**
 * HMAC-SHA256(prk, SALT_INFO ‖ u64be(i) ‖ 0x01) = SHA-256(opad ‖ SHA-256(ipad ‖ SALT_INFO ‖ u64be(i) ‖ 0x01)),
 * with both messages laid out once per salt key. Kept per key object (a WeakMap: gone with the key).
 */
interface SaltPads {
  inner: Buffer;
  outer: Buffer;
}
const padsByKey = new WeakMap<Uint8Array, SaltPads>();

function padsFor(prk: Uint8Array): SaltPads {
  let pads = padsByKey.get(prk);
  // The key's bytes are checked each time: a caller may have changed (zeroed) them in place.
  if (pads === undefined || !padsMatch(pads, prk)) {
    if (prk.length > BLOCK) throw new RangeError('a salt key is at most one block');
    const inner = Buffer.alloc(SALT_INDEX_AT + 8 + 1, 0x36);
    const outer = Buffer.alloc(BLOCK + 32, 0x5c);
    for (let i = 0; i < prk.length; i++) {
      inner[i]! ^= prk[i]!;
      outer[i]! ^= prk[i]!;
    }
    inner.set(SALT_INFO, BLOCK);
    inner[SALT_INDEX_AT + 8] = 0x01;
    pads = { inner, outer };
    padsByKey.set(prk, pads);
  }
  return pads;
}

function padsMatch(pads: SaltPads, prk: Uint8Array): boolean {
  for (let i = 0; i < prk.length; i++) if ((pads.inner[i]! ^ 0x36) !== prk[i]) return false;
  return true;
}

function writeU64(into: Buffer, at: number, index: number): void {
  into.writeUInt32BE(Math.floor(index / 2 ** 32), at);
  into.writeUInt32BE(index >>> 0, at + 4);
}

let leafBuffer = Buffer.alloc(LEAF_RECORD_AT + 256);
leafBuffer.set(LEAF_PREFIX, 0);

function salt(prk: Uint8Array, index: number): Uint8Array {
  const { inner, outer } = padsFor(prk);
  writeU64(inner, SALT_INDEX_AT, index);
  digestInto(inner, outer, BLOCK);
  return sha256(outer);
}

function leafHash(index: number, saltBytes: Uint8Array, record: Uint8Array): Uint8Array {
  if (record.length > LEAF_BUFFER_RECORD) {
    const at = Buffer.allocUnsafe(8);
    writeU64(at, 0, index);
    return new Uint8Array(crypto.createHash('sha256').update(LEAF_PREFIX).update(at).update(saltBytes).update(record).digest());
  }
  if (leafBuffer.length < LEAF_RECORD_AT + record.length) {
    leafBuffer = Buffer.alloc(LEAF_RECORD_AT + LEAF_BUFFER_RECORD);
    leafBuffer.set(LEAF_PREFIX, 0);
  }
  const end = LEAF_RECORD_AT + record.length;
  writeU64(leafBuffer, LEAF_INDEX_AT, index);
  leafBuffer.set(saltBytes, LEAF_SALT_AT);
  leafBuffer.set(record, LEAF_RECORD_AT);
  const hash = sha256(leafBuffer.subarray(0, end));
  // The dataset is forgotten with the run: no copy of a record or its salt stays behind in this buffer.
  leafBuffer.fill(0, LEAF_SALT_AT, end);
  return hash;
}

/** The pads are the salt key XORed with constants: zeroed and dropped with the key. */
function forget(prk: Uint8Array): void {
  const pads = padsByKey.get(prk);
  pads?.inner.fill(0);
  pads?.outer.fill(0);
  padsByKey.delete(prk);
}

export const nodeRowCrypto: RowCrypto = {
  hmacSha256: (key, data) => new Uint8Array(crypto.createHmac('sha256', key).update(data).digest()),
  salt,
  leafHash,
  forget,
  /** The tree's inner nodes. */
  sha256: Object.assign(sha256, {
    hex: oneShot
      ? (data: Uint8Array | string) => oneShot('sha256', data, 'hex')
      : (data: Uint8Array | string) => crypto.createHash('sha256').update(data).digest('hex'),
  }) satisfies Sha256,
};
