/**
 * Disclosure and absence proofs (docs/row-proofs.md §4, §8): records disclosed with their salts and inclusion
 * paths, and keys proven absent from a sorted commitment by two adjacent disclosed records. Checked with the
 * certificate's commitment alone, in Node or a browser: no dataset, no secret.
 */
import { bytesToHex, decodeUtf8Strict, hexToBytes, parseStrictJson, utf8ToBytes } from '../events/index.js';
import { leafHash, verifyInclusion } from '../attest/merkle.js';
import { EphemeraError } from '../errors.js';
import { TileBuilder, TiledTree, formatTilePath } from '../tlog/index.js';
import {
  MAX_PROOF_ROWS,
  MAX_RECORD_BYTES,
  commitRecords,
  rowLeaf,
  rowSalt,
  rowSaltKey,
  type RowCommitment,
  type RowCrypto,
  type RowProofErrorCode,
  forgetSaltKey,
  nobleRowCrypto,
} from './commitment.js';
import { ROW_FORMATS, splitRecords, type RowFormat } from './records.js';
import { MAX_SORT_KEY_NAME, commitSorted, compareBytes, firstDataIndex, isWellFormed, lowerBound, sortKeyReader, type SortableFormat } from './sorted.js';

/** At most this many keys proven absent in one proof. */
export const MAX_ABSENT_KEYS = 10_000;
/** The longest key proven absent, in UTF-8 bytes. */
export const MAX_ABSENT_KEY_BYTES = 64 * 1024;
const MAX_PROOF_HASHES = 64;

/** One disclosed record: its tree index, bytes (base64), salt and RFC 6962 inclusion path. */
export interface ProvenRow {
  index: number;
  record: string;
  salt: string;
  proof: string[];
}

/** A key proven absent: the adjacent records whose keys enclose it (null at an edge of the sorted records). */
export interface AbsentKey {
  key: string;
  below: ProvenRow | null;
  above: ProvenRow | null;
}

export interface RowProof {
  type: 'ephemera.row-proof';
  v: 1;
  certificate_id: string;
  format: RowFormat;
  count: number;
  root: string;
  sorted_by: string | null;
  rows: ProvenRow[];
  absent: AbsentKey[];
}

export interface ProveInput {
  certificateId: string;
  format: RowFormat;
  dataset: Uint8Array;
  secret: Uint8Array;
  /** The commitment's sort key (§8); null or absent: records in input order. */
  sortedBy?: string | null;
  /** The hashing (node.ts on a server, for speed); default @noble/hashes. */
  crypto?: RowCrypto;
  /**
   * Also disclose every record whose sort key is exactly one of these (a sorted commitment): the submitter knows
   * a record by its key, not by its position in key order. A key no record has is ROWS_BAD_INPUT.
   */
  withKeys?: readonly string[];
}

/**
 * A proof disclosing the records at tree `indexes` (each once, in the order given) and proving each of `absent`
 * absent, from a dataset the caller holds with its secret. Absence needs a sorted commitment; for csv the header
 * (index 0) is then disclosed too, first in `rows` unless asked for. A key that is present is ROWS_KEY_PRESENT.
 */
export async function proveRecords(input: ProveInput, asked: readonly number[], absent: readonly string[] = []): Promise<RowProof> {
  let indexes = asked;
  const sortedBy = input.sortedBy ?? null;
  const withKeys = input.withKeys ?? [];
  if (indexes.length > MAX_PROOF_ROWS || (indexes.length === 0 && absent.length === 0 && withKeys.length === 0))
    fail('ROWS_BAD_INPUT', `a proof discloses 1 to ${MAX_PROOF_ROWS} records, or proves keys absent`);
  checkAbsentKeys(absent, 'ROWS_BAD_INPUT');
  checkAbsentKeys(withKeys, 'ROWS_BAD_INPUT', 'asked');
  if ((absent.length > 0 || withKeys.length > 0) && sortedBy === null) fail('ROWS_BAD_INPUT', 'only a sorted commitment has keys to prove by');
  const committed =
    sortedBy === null
      ? { ...commitRecords(input.format, input.dataset, input.secret, input.crypto), keys: [] }
      : commitSorted(input.format as SortableFormat, input.dataset, input.secret, sortedBy, input.crypto);
  const { commitment, records, leafHashes, keys } = committed;
  if (new Set(indexes).size !== indexes.length) fail('ROWS_PROOF_INDEX_INVALID', 'an index is asked for twice');
  if (withKeys.length > 0)
    indexes = [...indexes, ...positionsOf(keys, firstDataIndex(input.format as SortableFormat), withKeys).filter((i) => !indexes.includes(i))];
  if (indexes.length > MAX_PROOF_ROWS) fail('ROWS_BAD_INPUT', `a proof discloses at most ${MAX_PROOF_ROWS} records`);
  for (const index of indexes)
    if (!Number.isSafeInteger(index) || index < 0 || index >= records.length) fail('ROWS_PROOF_INDEX_INVALID', `no record ${index} in ${records.length}`);

  const tree = inMemoryTree(leafHashes);
  const prk = rowSaltKey(input.secret, input.crypto);
  const row = async (index: number): Promise<ProvenRow> => ({
    index,
    record: base64(records[index]!),
    salt: bytesToHex(rowSalt(prk, index, input.crypto)),
    proof: (await tree.inclusionProof(index)).map(bytesToHex),
  });
  // The csv header names the key column: disclosed with any proof by key.
  const byKey = absent.length > 0 || withKeys.length > 0;
  const withHeader = byKey && input.format === 'csv' && !indexes.includes(0) ? [0, ...indexes] : indexes;
  try {
    const rows = await Promise.all(withHeader.map(row));
    const first = firstDataIndex(input.format as SortableFormat);
    const absences = await Promise.all(
      absent.map(async (key, i) => {
        const at = lowerBound(keys, first, utf8ToBytes(key));
        if (at < keys.length && compareBytes(keys[at]!, utf8ToBytes(key)) === 0) fail('ROWS_KEY_PRESENT', `absent[${i}]: record ${at} has that key`);
        return { key, below: at > first ? await row(at - 1) : null, above: at < keys.length ? await row(at) : null };
      }),
    );
    return { type: 'ephemera.row-proof', v: 1, certificate_id: input.certificateId, ...commitment, rows, absent: absences };
  } finally {
    forgetSaltKey(prk, input.crypto ?? nobleRowCrypto);
  }
}

/** The positions (in key order) of every record whose key is one of `wanted`; ROWS_BAD_INPUT names a key none has. */
function positionsOf(keys: readonly Uint8Array[], first: number, wanted: readonly string[]): number[] {
  return wanted.flatMap((key, i) => {
    const k = utf8ToBytes(key);
    const found: number[] = [];
    for (let at = lowerBound(keys, first, k); at < keys.length && compareBytes(keys[at]!, k) === 0; at++) found.push(at);
    if (found.length === 0) fail('ROWS_BAD_INPUT', `key ${i}: no record has it (prove it absent instead)`);
    return found;
  });
}

/** A proof that each of `keys` is absent from a sorted commitment (proveRecords with no rows asked for). */
export function proveAbsence(input: ProveInput & { sortedBy: string }, keys: readonly string[]): Promise<RowProof> {
  return proveRecords(input, [], keys);
}

/** The largest proof a reader takes (the CLI and the page refuse a bigger file before reading it all). */
export const MAX_PROOF_BYTES = 256 * 1024 * 1024;

/** Reads a proof file strictly (closed members, bounds first): ROWS_PROOF_MALFORMED. */
export function parseRowProof(input: string | Uint8Array): RowProof {
  const text = typeof input === 'string' ? input : decode(input);
  if (text.length > MAX_PROOF_BYTES) fail('ROWS_PROOF_MALFORMED', `the proof is larger than ${MAX_PROOF_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (cause) {
    fail('ROWS_PROOF_MALFORMED', 'the proof is not strict JSON', cause);
  }
  const proof = value as Record<string, unknown>;
  exactly(proof, ['absent', 'certificate_id', 'count', 'format', 'root', 'rows', 'sorted_by', 'type', 'v'], 'the proof');
  if (proof.type !== 'ephemera.row-proof' || proof.v !== 1) fail('ROWS_PROOF_MALFORMED', 'not a v1 row proof');
  if (typeof proof.certificate_id !== 'string' || !/^cert_[0-9A-HJKMNP-TV-Z]{26}$/.test(proof.certificate_id))
    fail('ROWS_PROOF_MALFORMED', 'certificate_id is not one');
  if (!ROW_FORMATS.includes(proof.format as RowFormat)) fail('ROWS_PROOF_MALFORMED', 'format is not csv, json or txt');
  if (!Number.isSafeInteger(proof.count) || (proof.count as number) < 1) fail('ROWS_PROOF_MALFORMED', 'count is not a record count');
  if (!isHex64(proof.root)) fail('ROWS_PROOF_MALFORMED', 'root is not 64 lowercase hex');
  const sortedBy = proof.sorted_by;
  if (
    sortedBy !== null &&
    (typeof sortedBy !== 'string' || sortedBy === '' || sortedBy.length > MAX_SORT_KEY_NAME || !isWellFormed(sortedBy) || proof.format === 'txt')
  )
    fail('ROWS_PROOF_MALFORMED', `sorted_by is not null or a csv or json key name of 1 to ${MAX_SORT_KEY_NAME} characters`);
  if (!Array.isArray(proof.absent) || proof.absent.length > MAX_ABSENT_KEYS) fail('ROWS_PROOF_MALFORMED', `absent is not 0 to ${MAX_ABSENT_KEYS} keys`);
  if (!Array.isArray(proof.rows) || proof.rows.length > MAX_PROOF_ROWS || (proof.rows.length === 0 && proof.absent.length === 0))
    fail('ROWS_PROOF_MALFORMED', `rows is not 1 to ${MAX_PROOF_ROWS} records (or none, with keys absent)`);
  for (const [i, row] of (proof.rows as unknown[]).entries()) checkRowShape(row, `rows[${i}]`);
  for (const [i, entry] of (proof.absent as unknown[]).entries()) {
    const a = entry as Record<string, unknown>;
    exactly(a, ['above', 'below', 'key'], `absent[${i}]`);
    if (typeof a.key !== 'string') fail('ROWS_PROOF_MALFORMED', `absent[${i}].key is not a string`);
    if (a.below !== null) checkRowShape(a.below, `absent[${i}].below`);
    if (a.above !== null) checkRowShape(a.above, `absent[${i}].above`);
  }
  checkAbsentKeys(
    (proof.absent as AbsentKey[]).map((a) => a.key),
    'ROWS_PROOF_MALFORMED',
  );
  return proof as unknown as RowProof;
}

function checkRowShape(row: unknown, where: string): void {
  const r = row as Record<string, unknown>;
  exactly(r, ['index', 'proof', 'record', 'salt'], where);
  if (!Number.isSafeInteger(r.index) || (r.index as number) < 0) fail('ROWS_PROOF_MALFORMED', `${where}.index is not an index`);
  if (typeof r.record !== 'string' || r.record.length > Math.ceil(MAX_RECORD_BYTES / 3) * 4 || fromBase64(r.record) === null)
    fail('ROWS_PROOF_MALFORMED', `${where}.record is not canonical base64 of at most ${MAX_RECORD_BYTES} bytes`);
  if (!isHex64(r.salt)) fail('ROWS_PROOF_MALFORMED', `${where}.salt is not 64 lowercase hex`);
  if (!Array.isArray(r.proof) || r.proof.length > MAX_PROOF_HASHES || !r.proof.every(isHex64))
    fail('ROWS_PROOF_MALFORMED', `${where}.proof is not a list of hashes`);
}

/** Keys to prove absent: bounded, well-formed text (one UTF-8 spelling each), each once. */
function checkAbsentKeys(keys: readonly string[], code: 'ROWS_BAD_INPUT' | 'ROWS_PROOF_MALFORMED', what = 'absent'): void {
  if (keys.length > MAX_ABSENT_KEYS) fail(code, `at most ${MAX_ABSENT_KEYS} ${what} keys`);
  for (const [i, key] of keys.entries())
    if (typeof key !== 'string' || !isWellFormed(key) || utf8ToBytes(key).length > MAX_ABSENT_KEY_BYTES)
      fail(code, `${what} key ${i} is not well-formed text of at most ${MAX_ABSENT_KEY_BYTES} bytes`);
  if (new Set(keys).size !== keys.length) fail(code, `an ${what} key is given twice`);
}

/**
 * Checks a proof against the commitment a certificate carries: the same certificate, count, root and sort key;
 * each disclosed record in range, once, a record of its format, and proved into the root; each absent key
 * enclosed by two adjacent proved records of a sorted commitment (or one, at an edge). Returns what it proves.
 */
export function checkRowProof(
  proof: RowProof,
  commitment: RowCommitment & { certificate_id: string },
): { rows: { index: number; record: Uint8Array }[]; absent: string[] } {
  const differs = (['certificate_id', 'format', 'count', 'root', 'sorted_by'] as const).filter((member) => proof[member] !== commitment[member]);
  if (differs.length > 0)
    fail(
      'ROWS_PROOF_WRONG_CERTIFICATE',
      proof.certificate_id === commitment.certificate_id
        ? `the proof's ${differs.join(', ')} ${differs.length === 1 ? 'is' : 'are'} not the certificate's (${commitment.count} ${commitment.format} records, root ${commitment.root.slice(0, 16)}…)`
        : `the proof is for ${proof.certificate_id}, not for ${commitment.certificate_id}`,
    );
  if (proof.absent.length > 0 && commitment.sorted_by === null)
    fail('ROWS_PROOF_WRONG_CERTIFICATE', "the proof proves keys absent, but the certificate's records are not sorted");
  const root = hexToBytes(proof.root);
  const seen = new Set<number>();
  const rows = proof.rows.map((row, i) => {
    if (seen.has(row.index)) fail('ROWS_PROOF_INDEX_INVALID', `rows[${i}]: record ${row.index} twice`);
    seen.add(row.index);
    return { index: row.index, record: checkProvenRow(proof, root, row, `rows[${i}]`) };
  });
  if (proof.absent.length === 0) return { rows, absent: [] };
  return { rows, absent: checkAbsences(proof, root, rows) };
}

/** A disclosed record's bytes, once its index is in range, its form its format's and its leaf proved into the root. */
function checkProvenRow(proof: RowProof, root: Uint8Array, row: ProvenRow, where: string): Uint8Array {
  if (row.index >= proof.count) fail('ROWS_PROOF_INDEX_INVALID', `${where}: no record ${row.index} in ${proof.count}`);
  const record = fromBase64(row.record)!;
  checkRecordForm(proof.format, record, where);
  try {
    verifyInclusion(leafHash(rowLeaf(row.index, hexToBytes(row.salt), record)), row.index, proof.count, row.proof.map(hexToBytes), root);
  } catch (cause) {
    fail('ROWS_PROOF_INVALID', `${where}: record ${row.index} does not prove into the root`, cause);
  }
  return record;
}

/** §8: each key strictly between the keys of two adjacent data records, or beyond the first or last one. */
function checkAbsences(proof: RowProof, root: Uint8Array, rows: { index: number; record: Uint8Array }[]): string[] {
  const format = proof.format as SortableFormat;
  const first = firstDataIndex(format);
  const header = rows.find((row) => row.index === 0)?.record;
  if (format === 'csv' && header === undefined) fail('ROWS_PROOF_ABSENCE_INVALID', 'the csv header (record 0) is not disclosed, so no column is the key');
  let keyOf: (record: Uint8Array) => Uint8Array | null;
  try {
    keyOf = sortKeyReader(format, header ?? new Uint8Array(0), proof.sorted_by!);
  } catch (cause) {
    return fail('ROWS_PROOF_ABSENCE_INVALID', 'the csv header does not name the sort key exactly once', cause);
  }
  return proof.absent.map(({ key, below, above }, i) => {
    const where = `absent[${i}]`;
    const bad = (why: string): never => fail('ROWS_PROOF_ABSENCE_INVALID', `${where}: ${why}`);
    const k = utf8ToBytes(key);
    const neighbour = (row: ProvenRow | null, side: 'below' | 'above') => {
      if (row === null) return null;
      const record = checkProvenRow(proof, root, row, `${where}.${side}`);
      if (row.index < first) bad(`the ${side} neighbour is the header, not a data record`);
      return keyOf(record) ?? bad(`the ${side} neighbour has no sort key`);
    };
    const low = neighbour(below, 'below');
    const high = neighbour(above, 'above');
    if (below === null && above === null && proof.count !== first) bad('no neighbour, yet there are data records');
    if (below === null && above !== null && above.index !== first) bad(`no record below, yet the one above is not the first (${first})`);
    if (above === null && below !== null && below.index !== proof.count - 1) bad('no record above, yet the one below is not the last');
    if (below !== null && above !== null && above.index !== below.index + 1) bad('the neighbours are not adjacent');
    if ((low !== null && compareBytes(low, k) === 0) || (high !== null && compareBytes(high, k) === 0))
      fail('ROWS_KEY_PRESENT', `${where}: a neighbour has the key, so it is present`);
    if ((low !== null && compareBytes(low, k) > 0) || (high !== null && compareBytes(k, high) > 0)) bad('the key is not between its neighbours');
    return key;
  });
}

/** A disclosed record must be one record of its format: what the splitter could have produced. */
function checkRecordForm(format: RowFormat, record: Uint8Array, where: string): void {
  const bad = () => fail('ROWS_PROOF_RECORD_INVALID', `${where}: the record is not one ${format} record as the splitter gives it`);
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
