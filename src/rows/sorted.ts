/**
 * Sorted commitments (docs/row-proofs.md §8): the records committed in the order of a key, so that two adjacent
 * leaves prove that no record has a key between theirs. The key rules here are used by both sides: the executor
 * sorting and the checker reading the neighbours' keys back from the disclosed records. Isomorphic.
 */
import { concatBytes, decodeUtf8Strict, utf8ToBytes } from '../events/index.js';
import { EphemeraError } from '../errors.js';
import { commitInOrder, nobleRowCrypto, type RowCommitment, type RowCrypto } from './commitment.js';
import { splitRecords, type RowsErrorCode } from './records.js';
import { countRecords, firstRecord } from './stream.js';

export type SortableFormat = 'csv' | 'json';
/**
 * The most records a sorted commitment takes (docs/row-proofs.md §8): sorting holds a view, a key and a leaf hash
 * per record (about 600 bytes with their objects), so a dataset of line ends would otherwise turn megabytes of
 * input into gigabytes. Beyond it: too_many_records, counted before anything is held.
 */
export const MAX_SORTED_RECORDS = 1_000_000;
/** What sorting holds per record, for the executor's admission (admission.ts). */
export const SORTED_BYTES_PER_RECORD = 600;

/** The longest sort key name (the event's `rows.sorted_by` bound). */
export const MAX_SORT_KEY_NAME = 256;

const LF = 0x0a;
const QUOTE = 0x22;
const COMMA = 0x2c;

/**
 * Whether `sortedBy` can sort `dataset` as far as its first record tells (the csv header names it once; the first
 * json record has it as a string member): what `ephemera run` checks before it spends a run on a mistyped key.
 */
export function sortKeyFits(format: SortableFormat, dataset: Uint8Array, sortedBy: string): boolean {
  const first = firstRecord(format, dataset);
  if (first === null) return false;
  try {
    const keyOf = sortKeyReader(format, first, sortedBy);
    return format === 'csv' || keyOf(first) !== null;
  } catch {
    return false;
  }
}

/** The first tree index holding a data record: a csv header stays at 0. */
export const firstDataIndex = (format: SortableFormat) => (format === 'csv' ? 1 : 0);

/** Well-formed UTF-16 (no lone surrogate), so that a string and its UTF-8 bytes are one and the same key. */
export const isWellFormed = (text: string) => !/\p{Surrogate}/u.test(text);

/**
 * The records split from `dataset` and sorted by `sortedBy` (header first for csv; then by key, bytewise, ties in
 * input order), committed at tree indexes 0, 1, …. `order[i]` is the input index of the record at tree index i.
 * ROWS_UNSPLITTABLE (`sort_key_invalid`) when a record has no such key.
 */
export function commitSorted(
  format: SortableFormat,
  dataset: Uint8Array,
  secret: Uint8Array,
  sortedBy: string,
  crypto: RowCrypto = nobleRowCrypto,
): { commitment: RowCommitment; order: number[]; records: Uint8Array[]; keys: Uint8Array[]; leafHashes: Uint8Array[] } {
  if (format !== 'csv' && format !== 'json') sortKeyInvalid('only csv and json records have a sort key');
  if (countRecords(format, dataset, MAX_SORTED_RECORDS) > MAX_SORTED_RECORDS)
    throw new EphemeraError<RowsErrorCode>('ROWS_UNSPLITTABLE', `a sorted commitment takes at most ${MAX_SORTED_RECORDS} records`, {
      fields: { reason: 'too_many_records' },
    });
  const input = splitRecords(format, dataset);
  const keyOf = sortKeyReader(format, input[0]!, sortedBy);
  const first = firstDataIndex(format);
  const inputKeys = input.map((record, i) => {
    if (i < first) return new Uint8Array(0);
    const key = keyOf(record);
    return key ?? sortKeyInvalid(`record ${i} has no string value for the sort key`);
  });
  const data = Array.from({ length: input.length - first }, (_, i) => i + first);
  data.sort((a, b) => compareBytes(inputKeys[a]!, inputKeys[b]!) || a - b);
  const order = [...Array.from({ length: first }, (_, i) => i), ...data];
  const records = order.map((i) => input[i]!);
  const { root, leafHashes } = commitInOrder(records, secret, crypto);
  return {
    commitment: { format, count: records.length, root, sorted_by: sortedBy },
    order,
    records,
    keys: order.map((i) => inputKeys[i]!),
    leafHashes,
  };
}

/**
 * How to read a data record's key: csv by the column the header names `sortedBy` (exactly once, after unquoting),
 * json by the object's member. Throws sort_key_invalid when the header (csv) or the name does not allow one.
 */
export function sortKeyReader(format: SortableFormat, header: Uint8Array, sortedBy: string): (record: Uint8Array) => Uint8Array | null {
  if (sortedBy === '' || sortedBy.length > MAX_SORT_KEY_NAME || !isWellFormed(sortedBy))
    sortKeyInvalid(`the sort key's name is 1 to ${MAX_SORT_KEY_NAME} characters of well-formed text`);
  if (format === 'json') return (record) => jsonKey(record, sortedBy);
  const name = utf8ToBytes(sortedBy);
  const named = (csvFields(header) ?? []).flatMap((field, i) => (compareBytes(field, name) === 0 ? [i] : []));
  if (named.length !== 1) sortKeyInvalid('the csv header does not name the sort key exactly once');
  const column = named[0]!;
  return (record) => csvFields(record)?.[column] ?? null;
}

/**
 * The fields of one csv record as splitRecords gives it (RFC 4180: a field that starts with `"` is quoted, `""` in
 * it is a quote), unquoted; null when the bytes are not exactly one record.
 */
export function csvFields(record: Uint8Array): Uint8Array[] | null {
  const fields: Uint8Array[] = [];
  const n = record.length;
  let i = 0;
  for (;;) {
    if (record[i] === QUOTE) {
      const parts: Uint8Array[] = [];
      let start = ++i;
      for (;;) {
        if (i >= n) return null;
        if (record[i] !== QUOTE) i++;
        else if (record[i + 1] === QUOTE) {
          parts.push(record.subarray(start, i + 1)); // keep one of the two quotes
          i += 2;
          start = i;
        } else break;
      }
      parts.push(record.subarray(start, i));
      fields.push(parts.length === 1 ? parts[0]! : concatBytes(...parts));
      i++; // past the closing quote
      if (i < n && record[i] !== COMMA) return null;
    } else {
      const start = i;
      while (i < n && record[i] !== COMMA) {
        // A line end outside quotes ends a record, so it is not inside one.
        if (record[i] === QUOTE || record[i] === LF) return null;
        i++;
      }
      fields.push(record.subarray(start, i));
    }
    if (i >= n) return fields;
    i++; // past the comma: another field follows, perhaps empty
  }
}

/** A json record's key: the object's own member `name` (as JSON.parse reads it: a name given twice, the last), a well-formed string. */
function jsonKey(record: Uint8Array, name: string): Uint8Array | null {
  let value: unknown;
  try {
    value = JSON.parse(decodeUtf8Strict(record));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, name)) return null;
  const key = (value as Record<string, unknown>)[name];
  return typeof key === 'string' && isWellFormed(key) ? utf8ToBytes(key) : null;
}

/** Bytewise, unsigned: for UTF-8 the order of code points. A prefix comes first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The tree index of the first data record whose key is not below `key` (`keys` in tree order; count when none). */
export function lowerBound(keys: readonly Uint8Array[], first: number, key: Uint8Array): number {
  let lo = first;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// Messages name indexes only: never a record's or a key's bytes (dataset text stays out of errors).
function sortKeyInvalid(message: string): never {
  throw new EphemeraError<RowsErrorCode>('ROWS_UNSPLITTABLE', message, { fields: { reason: 'sort_key_invalid' } });
}
