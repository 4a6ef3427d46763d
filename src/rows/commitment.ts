/**
 * Row commitments (docs/row-proofs.md §2–3): a salt per record from the run's secret (HKDF-SHA256), a leaf binding
 * index, salt and record, and the RFC 6962 tree over them. Proofs are in proof.ts, sorted commitments in sorted.ts.
 * Isomorphic.
 */
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, nobleSha256, type Sha256, concatBytes, utf8ToBytes } from '../events/index.js';
import { leafHash } from '../attest/merkle.js';
import { EphemeraError } from '../errors.js';
import type { Registered } from '../error-codes.js';
import { TileBuilder } from '../tlog/index.js';
import { splitRecords, type RowFormat } from './records.js';

export const ROW_SALT_LABEL = 'ephemera/v1/row-salt';
export const ROW_LEAF_LABEL = 'ephemera/v1/row\n';
export const SECRET_BYTES = 32;
export const MAX_PROOF_ROWS = 10_000;
export const MAX_RECORD_BYTES = 1024 * 1024;

export type RowProofErrorCode = Registered<
  | 'ROWS_PROOF_MALFORMED'
  | 'ROWS_PROOF_WRONG_CERTIFICATE'
  | 'ROWS_PROOF_INDEX_INVALID'
  | 'ROWS_PROOF_INVALID'
  | 'ROWS_PROOF_RECORD_INVALID'
  | 'ROWS_PROOF_ABSENCE_INVALID'
  | 'ROWS_KEY_PRESENT'
  | 'ROWS_BAD_INPUT'
>;

/**
 * The hashing a commitment is made with: @noble/hashes by default (browser), node:crypto on the server (node.ts).
 * Each gives the same bytes: the salt of record i (§2) and the RFC 6962 hash of its leaf.
 */
export interface RowCrypto {
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  salt(prk: Uint8Array, index: number): Uint8Array;
  leafHash(index: number, salt: Uint8Array, record: Uint8Array): Uint8Array;
  sha256: Sha256;
  /** Drops whatever was derived from a salt key and kept for speed (node.ts: its HMAC pads). */
  forget?(prk: Uint8Array): void;
}

/** The salt key derives every record's salt: as secret as the secret. Zeroed, with what the hashing kept of it. */
export function forgetSaltKey(prk: Uint8Array, crypto: RowCrypto): void {
  crypto.forget?.(prk);
  prk.fill(0);
}

export const nobleRowCrypto: RowCrypto = {
  hmacSha256: (key, data) => hmac(sha256, key, data),
  salt: (prk, index) => hmac(sha256, prk, concatBytes(SALT_INFO, u64be(index), ONE)),
  leafHash: (index, salt, record) => leafHash(rowLeaf(index, salt, record)),
  sha256: nobleSha256,
};

export interface RowCommitment {
  format: RowFormat;
  count: number;
  /** The RFC 6962 root over the salted leaves, 64 lowercase hex. */
  root: string;
  /** null: records in input order; else the key they are sorted by (§8). */
  sorted_by: string | null;
}

export const SALT_INFO = utf8ToBytes(`${ROW_SALT_LABEL}\n`);
const ONE = new Uint8Array([1]);

export const u64be = (i: number) => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(i));
  return out;
};

/** HKDF-Extract(salt = ROW_SALT_LABEL, ikm = secret): the key every record's salt comes from. */
export function rowSaltKey(secret: Uint8Array, crypto: RowCrypto = nobleRowCrypto): Uint8Array {
  if (secret.length !== SECRET_BYTES) fail('ROWS_BAD_INPUT', `the row secret is ${SECRET_BYTES} bytes`);
  return crypto.hmacSha256(utf8ToBytes(ROW_SALT_LABEL), secret);
}

/** HKDF-Expand(prk, info = ROW_SALT_LABEL ‖ "\n" ‖ u64be(i), 32): record i's salt. */
export function rowSalt(prk: Uint8Array, index: number, crypto: RowCrypto = nobleRowCrypto): Uint8Array {
  return crypto.salt(prk, index);
}

/** The leaf data of record i: label ‖ u64be(i) ‖ salt ‖ record. Its RFC 6962 leaf hash is what the tree holds. */
export function rowLeaf(index: number, salt: Uint8Array, record: Uint8Array): Uint8Array {
  return concatBytes(utf8ToBytes(ROW_LEAF_LABEL), u64be(index), salt, record);
}

/** The records' leaf hashes and the tree's root, the records split from the dataset by its format. */
export function commitRecords(
  format: RowFormat,
  dataset: Uint8Array,
  secret: Uint8Array,
  crypto: RowCrypto = nobleRowCrypto,
): { commitment: RowCommitment; records: Uint8Array[]; leafHashes: Uint8Array[] } {
  const records = splitRecords(format, dataset);
  const { root, leafHashes } = commitInOrder(records, secret, crypto);
  return { commitment: { format, count: records.length, root, sorted_by: null }, records, leafHashes };
}

/** The leaf hashes of `records` at tree indexes 0, 1, … and their root (64 hex). */
export function commitInOrder(
  records: readonly Uint8Array[],
  secret: Uint8Array,
  crypto: RowCrypto = nobleRowCrypto,
): { root: string; leafHashes: Uint8Array[] } {
  const prk = rowSaltKey(secret, crypto);
  const leafHashes = records.map((record, i) => crypto.leafHash(i, crypto.salt(prk, i), record));
  forgetSaltKey(prk, crypto);
  const builder = new TileBuilder(crypto.sha256);
  builder.append(leafHashes);
  return { root: bytesToHex(builder.root()), leafHashes };
}

function fail(code: RowProofErrorCode, message: string, cause?: unknown): never {
  throw new EphemeraError<RowProofErrorCode>(code, message, cause === undefined ? {} : { cause });
}
