/**
 * Row commitments and disclosure proofs (docs/row-proofs.md §2–4): a salt
 * per record from the run's secret (HKDF-SHA256), a leaf binding index, salt
 * and record, the RFC 6962 tree over them, and proofs that disclose chosen
 * records and nothing of the others. Isomorphic: the proof is checked with
 * the certificate's commitment alone, in Node or a browser.
 */
import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, nobleSha256, type Sha256, concatBytes, hexToBytes, parseStrictJson, utf8ToBytes, decodeUtf8Strict } from '../events/index.js';
import { leafHash, verifyInclusion } from '../attest/merkle.js';
import { EphemeraError } from '../errors.js';
import type { Registered } from '../error-codes.js';
import { TileBuilder, TiledTree, formatTilePath } from '../tlog/index.js';
import { ROW_FORMATS, splitRecords, type RowFormat } from './records.js';

export const ROW_SALT_LABEL = 'ephemera/v1/row-salt';
export const ROW_LEAF_LABEL = 'ephemera/v1/row\n';
export const SECRET_BYTES = 32;
export const MAX_PROOF_ROWS = 10_000;
export const MAX_RECORD_BYTES = 1024 * 1024;
const MAX_PROOF_HASHES = 64;

export type RowProofErrorCode = Registered<
  'ROWS_PROOF_MALFORMED' | 'ROWS_PROOF_WRONG_CERTIFICATE' | 'ROWS_PROOF_INDEX_INVALID' | 'ROWS_PROOF_INVALID' | 'ROWS_PROOF_RECORD_INVALID' | 'ROWS_BAD_INPUT'
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
}

export interface RowProof {
  type: 'ephemera.row-proof';
  v: 1;
  certificate_id: string;
  format: RowFormat;
  count: number;
  root: string;
  rows: { index: number; record: string; salt: string; proof: string[] }[];
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
  const prk = rowSaltKey(secret, crypto);
  const leafHashes = records.map((record, i) => crypto.leafHash(i, crypto.salt(prk, i), record));
  const builder = new TileBuilder(crypto.sha256);
  builder.append(leafHashes);
  return { commitment: { format, count: records.length, root: bytesToHex(builder.root()) }, records, leafHashes };
}

/** A proof disclosing the records at `indexes` (each once, in the order given) of a dataset the caller holds with its secret (`crypto`: node.ts on a server, for speed). */
export async function proveRecords(
  input: { certificateId: string; format: RowFormat; dataset: Uint8Array; secret: Uint8Array },
  indexes: readonly number[],
  crypto: RowCrypto = nobleRowCrypto,
): Promise<RowProof> {
  const { commitment, records, leafHashes } = commitRecords(input.format, input.dataset, input.secret, crypto);
  if (indexes.length === 0 || indexes.length > MAX_PROOF_ROWS) fail('ROWS_BAD_INPUT', `a proof discloses 1 to ${MAX_PROOF_ROWS} records`);
  if (new Set(indexes).size !== indexes.length) fail('ROWS_PROOF_INDEX_INVALID', 'an index is asked for twice');
  for (const index of indexes)
    if (!Number.isSafeInteger(index) || index < 0 || index >= records.length) fail('ROWS_PROOF_INDEX_INVALID', `no record ${index} in ${records.length}`);
  const tree = inMemoryTree(leafHashes);
  const prk = rowSaltKey(input.secret, crypto);
  const rows = [];
  for (const index of indexes)
    rows.push({
      index,
      record: base64(records[index]!),
      salt: bytesToHex(rowSalt(prk, index, crypto)),
      proof: (await tree.inclusionProof(index)).map(bytesToHex),
    });
  return { type: 'ephemera.row-proof', v: 1, certificate_id: input.certificateId, format: input.format, count: commitment.count, root: commitment.root, rows };
}

/** Reads a proof file strictly (closed members, bounds first): ROWS_PROOF_MALFORMED. */
export function parseRowProof(input: string | Uint8Array): RowProof {
  const text = typeof input === 'string' ? input : decode(input);
  if (text.length > MAX_PROOF_ROWS * (MAX_RECORD_BYTES * 1.4 + 6000)) fail('ROWS_PROOF_MALFORMED', 'the proof is larger than its bound');
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (cause) {
    fail('ROWS_PROOF_MALFORMED', 'the proof is not strict JSON', cause);
  }
  const proof = value as Record<string, unknown>;
  exactly(proof, ['certificate_id', 'count', 'format', 'root', 'rows', 'type', 'v'], 'the proof');
  if (proof.type !== 'ephemera.row-proof' || proof.v !== 1) fail('ROWS_PROOF_MALFORMED', 'not a v1 row proof');
  if (typeof proof.certificate_id !== 'string' || !/^cert_[0-9A-HJKMNP-TV-Z]{26}$/.test(proof.certificate_id))
    fail('ROWS_PROOF_MALFORMED', 'certificate_id is not one');
  if (!ROW_FORMATS.includes(proof.format as RowFormat)) fail('ROWS_PROOF_MALFORMED', 'format is not csv, json or txt');
  if (!Number.isSafeInteger(proof.count) || (proof.count as number) < 1) fail('ROWS_PROOF_MALFORMED', 'count is not a record count');
  if (!isHex64(proof.root)) fail('ROWS_PROOF_MALFORMED', 'root is not 64 lowercase hex');
  if (!Array.isArray(proof.rows) || proof.rows.length === 0 || proof.rows.length > MAX_PROOF_ROWS)
    fail('ROWS_PROOF_MALFORMED', `rows is not 1 to ${MAX_PROOF_ROWS} records`);
  for (const [i, row] of (proof.rows as unknown[]).entries()) {
    const r = row as Record<string, unknown>;
    exactly(r, ['index', 'proof', 'record', 'salt'], `rows[${i}]`);
    if (!Number.isSafeInteger(r.index) || (r.index as number) < 0) fail('ROWS_PROOF_MALFORMED', `rows[${i}].index is not an index`);
    if (typeof r.record !== 'string' || r.record.length > Math.ceil(MAX_RECORD_BYTES / 3) * 4 || fromBase64(r.record) === null)
      fail('ROWS_PROOF_MALFORMED', `rows[${i}].record is not canonical base64 of at most ${MAX_RECORD_BYTES} bytes`);
    if (!isHex64(r.salt)) fail('ROWS_PROOF_MALFORMED', `rows[${i}].salt is not 64 lowercase hex`);
    if (!Array.isArray(r.proof) || r.proof.length > MAX_PROOF_HASHES || !r.proof.every(isHex64))
      fail('ROWS_PROOF_MALFORMED', `rows[${i}].proof is not a list of hashes`);
  }
  return proof as unknown as RowProof;
}

/**
 * Checks a proof against the commitment a certificate carries: the same count and root, each index in range and
 * once, each record a record of its format, and its salted leaf proved into the root. Returns the records.
 */
export function checkRowProof(proof: RowProof, commitment: RowCommitment & { certificate_id: string }): { index: number; record: Uint8Array }[] {
  if (
    proof.certificate_id !== commitment.certificate_id ||
    proof.format !== commitment.format ||
    proof.count !== commitment.count ||
    proof.root !== commitment.root
  )
    fail('ROWS_PROOF_WRONG_CERTIFICATE', "the proof's certificate, format, count or root is not the certificate's");
  const seen = new Set<number>();
  const root = hexToBytes(proof.root);
  return proof.rows.map((row, i) => {
    if (row.index >= proof.count) fail('ROWS_PROOF_INDEX_INVALID', `rows[${i}]: no record ${row.index} in ${proof.count}`);
    if (seen.has(row.index)) fail('ROWS_PROOF_INDEX_INVALID', `rows[${i}]: record ${row.index} twice`);
    seen.add(row.index);
    const record = fromBase64(row.record)!;
    checkRecordForm(proof.format, record, i);
    try {
      verifyInclusion(leafHash(rowLeaf(row.index, hexToBytes(row.salt), record)), row.index, proof.count, row.proof.map(hexToBytes), root);
    } catch (cause) {
      fail('ROWS_PROOF_INVALID', `rows[${i}]: record ${row.index} does not prove into the root`, cause);
    }
    return { index: row.index, record };
  });
}

/** A disclosed record must be one record of its format: what the splitter could have produced. */
function checkRecordForm(format: RowFormat, record: Uint8Array, i: number): void {
  const bad = () => fail('ROWS_PROOF_RECORD_INVALID', `rows[${i}]: the record is not one ${format} record as the splitter gives it`);
  if (format === 'txt') {
    if (record.includes(0x0a)) bad();
    return;
  }
  let text: string;
  try {
    text = decodeUtf8Strict(record);
  } catch {
    return bad();
  }
  if (format === 'json') {
    // Exactly one JSON value, trimmed, as the splitter gives it (an array element may span lines; a line may not).
    try {
      JSON.parse(text);
    } catch {
      bad();
    }
    if (text.trim() !== text) bad();
    return;
  }
  // csv: empty (an empty line), or exactly one record of the splitter.
  if (record.length === 0) return;
  try {
    const records = splitRecords('csv', record);
    if (records.length !== 1 || records[0]!.length !== record.length) bad();
  } catch {
    bad();
  }
}

function inMemoryTree(leafHashes: Uint8Array[]): TiledTree {
  const tiles = new Map<string, Uint8Array>();
  const builder = new TileBuilder();
  for (const tile of builder.append(leafHashes)) tiles.set(formatTilePath(tile), tile.data);
  return new TiledTree({ size: builder.size, root: builder.root() }, async (path) => tiles.get(path)!);
}

const isHex64 = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);

function exactly(value: unknown, members: readonly string[], where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('ROWS_PROOF_MALFORMED', `${where} is not an object`);
  const names = Object.keys(value).sort();
  if (names.length !== members.length || names.some((name, i) => name !== members[i]))
    fail('ROWS_PROOF_MALFORMED', `${where} does not have exactly its members`);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
/** Canonical base64 only (what `base64` writes), else null. */
function fromBase64(text: string): Uint8Array | null {
  if (!BASE64.test(text)) return null;
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return base64(bytes) === text ? bytes : null;
}

function decode(bytes: Uint8Array): string {
  try {
    return decodeUtf8Strict(bytes);
  } catch (cause) {
    return fail('ROWS_PROOF_MALFORMED', 'the proof is not UTF-8', cause);
  }
}

function fail(code: RowProofErrorCode, message: string, cause?: unknown): never {
  throw new EphemeraError<RowProofErrorCode>(code, message, cause === undefined ? {} : { cause });
}
