/**
 * The tlog ledger's records (docs/transparency.md §10): the sequencer's
 * decisions, written to the ledger before anything is published, so that
 * every node projects the same tree. A record is the UTF-8 of its JCS; read
 * strictly (bounded, exact members, its own JCS byte for byte), since a
 * follower reads them from a shared topic anyone with write access can feed.
 */
import { canonicalize, parseStrictJson } from '../events/index.js';
import { EphemeraError } from '../errors.js';
import type { Registered } from '../error-codes.js';
import { decodeBase64, encodeBase64 } from './lines.js';
import { NOTE_MAX_BYTES } from './note.js';

export const TLOG_BATCH_TYPE = 'ephemera.tlog-batch';
export const TLOG_COSIGNATURES_TYPE = 'ephemera.tlog-cosignatures';
/** A record is at most this: under Kafka's default max.message.bytes (1 MiB) with room for the framing. */
export const TLOG_RECORD_MAX_BYTES = 900 * 1024;

export interface TlogBatchRecord {
  type: typeof TLOG_BATCH_TYPE;
  v: 1;
  origin: string;
  first_index: number;
  /** base64 of each leaf entry (the JCS of a leaf, §8), in log order. */
  entries: string[];
  /** The signed checkpoint note of the tree grown by these entries. */
  checkpoint: string;
}

export interface TlogCosignaturesRecord {
  type: typeof TLOG_COSIGNATURES_TYPE;
  v: 1;
  origin: string;
  size: number;
  /** Verified cosignature lines ("— name base64\n" each) for the checkpoint of this size. */
  cosignatures: string;
}

export type TlogRecord = TlogBatchRecord | TlogCosignaturesRecord;
export type RecordErrorCode = Registered<'TLOG_RECORD_MALFORMED'>;

export function encodeTlogRecord(record: TlogRecord): string {
  return canonicalize(record);
}

/** The batch record of entries (raw bytes) and a checkpoint. */
export function batchRecord(origin: string, firstIndex: number, entries: readonly Uint8Array[], checkpoint: string): TlogBatchRecord {
  return { type: TLOG_BATCH_TYPE, v: 1, origin, first_index: firstIndex, entries: entries.map(encodeBase64), checkpoint };
}

/** A batch's entries as bytes (each checked to be canonical base64). */
export function batchEntries(record: TlogBatchRecord): Uint8Array[] {
  return record.entries.map((text) => decodeBase64(text) ?? malformed('an entry is not canonical base64'));
}

const BATCH_MEMBERS = ['checkpoint', 'entries', 'first_index', 'origin', 'type', 'v'];
const COSIGNATURES_MEMBERS = ['cosignatures', 'origin', 'size', 'type', 'v'];

export function parseTlogRecord(text: string): TlogRecord {
  if (text.length > TLOG_RECORD_MAX_BYTES) malformed(`a record is at most ${TLOG_RECORD_MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch (cause) {
    malformed('not strict JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed('not an object');
  const record = value as Record<string, unknown>;
  const names = Object.keys(record).sort();
  const expected = record.type === TLOG_BATCH_TYPE ? BATCH_MEMBERS : record.type === TLOG_COSIGNATURES_TYPE ? COSIGNATURES_MEMBERS : null;
  if (expected === null || record.v !== 1) malformed('not a v1 tlog record');
  if (names.length !== expected.length || names.some((name, i) => name !== expected[i])) malformed('not exactly the members of its type');
  if (typeof record.origin !== 'string' || record.origin.length === 0 || record.origin.includes('\n')) malformed('origin is not one line');
  if (record.type === TLOG_BATCH_TYPE) {
    if (!isIndex(record.first_index)) malformed('first_index is not a leaf index');
    if (!Array.isArray(record.entries) || record.entries.length === 0 || record.entries.some((e) => typeof e !== 'string'))
      malformed('entries is not a non-empty list of base64 strings');
    if (typeof record.checkpoint !== 'string' || record.checkpoint.length > NOTE_MAX_BYTES) malformed('checkpoint is not a note text');
  } else {
    if (!isIndex(record.size) || record.size === 0) malformed('size is not a tree size');
    if (typeof record.cosignatures !== 'string' || record.cosignatures.length > NOTE_MAX_BYTES) malformed('cosignatures is not signature lines');
  }
  if (encodeTlogRecord(record as unknown as TlogRecord) !== text) malformed('not the JCS of its record');
  return record as unknown as TlogRecord;
}

const isIndex = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

function malformed(message: string, cause?: unknown): never {
  throw new EphemeraError<RecordErrorCode>('TLOG_RECORD_MALFORMED', message, cause === undefined ? {} : { cause });
}
