/**
 * A dataset's records (docs/row-proofs.md §1): CSV records per RFC 4180, a
 * JSON array's elements or JSON Lines' values (their JCS), text lines. The
 * bytes returned are what each leaf commits. Isomorphic.
 */
import { decodeUtf8Strict, utf8ToBytes } from '../events/index.js';
import { EphemeraError } from '../errors.js';
import type { Registered } from '../error-codes.js';

export const ROW_FORMATS = ['csv', 'json', 'txt'] as const;
export type RowFormat = (typeof ROW_FORMATS)[number];
/** Indexes are written as u64be, but a proof names them as JSON numbers: stay well inside 2^53. */
export const MAX_RECORDS = 2 ** 32 - 1;

export type RowsErrorCode = Registered<'ROWS_UNSPLITTABLE'>;
export type UnsplittableReason = 'csv_quoting' | 'json_invalid' | 'not_utf8' | 'empty' | 'too_many_records' | 'sort_key_invalid';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

/** Every record of `bytes` in order, or ROWS_UNSPLITTABLE with `fields.reason`. */
export function splitRecords(format: RowFormat, bytes: Uint8Array): Uint8Array[] {
  if (bytes.length === 0) unsplittable('empty', 'an empty dataset has no records');
  let text: string;
  try {
    text = decodeUtf8Strict(bytes);
  } catch {
    return unsplittable(format === 'json' ? 'json_invalid' : 'not_utf8', 'the dataset is not UTF-8');
  }
  const records = format === 'csv' ? csvRecords(bytes) : format === 'txt' ? lines(bytes) : jsonRecords(text, bytes);
  // An empty JSON array: no records, like an empty file (a commitment has at least one record).
  if (records.length === 0) unsplittable('empty', 'the dataset has no records');
  if (records.length > MAX_RECORDS) unsplittable('too_many_records', `more than ${MAX_RECORDS} records`);
  return records;
}

/** Lines ending at LF or CRLF (the terminator not kept); a final terminator adds no empty line. */
function lines(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    out.push(bytes.subarray(start, i > start && bytes[i - 1] === CR ? i - 1 : i));
    start = i + 1;
  }
  if (start < bytes.length) out.push(bytes.subarray(start));
  return out;
}

/** RFC 4180 with LF or CRLF line ends: a record's raw bytes, quoted line breaks included. */
function csvRecords(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let recordStart = 0;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    // One field starts at i.
    if (bytes[i] === QUOTE) {
      i++;
      for (;;) {
        if (i >= n) unsplittable('csv_quoting', `a quoted field opened in record ${out.length} is never closed`);
        if (bytes[i] === QUOTE) {
          if (bytes[i + 1] === QUOTE) i += 2;
          else break;
        } else i++;
      }
      i++; // past the closing quote
      const next = bytes[i];
      if (i < n && next !== COMMA && next !== LF && !(next === CR && bytes[i + 1] === LF))
        unsplittable('csv_quoting', `record ${out.length}: a closing quote is followed by something other than a comma or a line end`);
    } else {
      while (i < n && bytes[i] !== COMMA && bytes[i] !== LF && !(bytes[i] === CR && bytes[i + 1] === LF)) {
        if (bytes[i] === QUOTE) unsplittable('csv_quoting', `record ${out.length}: a quote inside an unquoted field`);
        i++;
      }
    }
    // The field ends at a comma (another field follows), a line end, or the end of the data.
    if (i >= n) break;
    if (bytes[i] === COMMA) {
      i++;
      if (i >= n) break; // "a," : a last empty field
      continue;
    }
    const end = i;
    i += bytes[i] === CR ? 2 : 1;
    out.push(bytes.subarray(recordStart, end));
    recordStart = i;
  }
  if (recordStart < n) out.push(bytes.subarray(recordStart));
  return out;
}

/**
 * A JSON array's elements, or JSON Lines' lines, each as its exact bytes (trimmed of whitespace around it): no
 * re-encoding, so a number like 1.0 or 9007199254740993 is committed as written. Each must parse (JSON.parse).
 */
function jsonRecords(text: string, bytes: Uint8Array): Uint8Array[] {
  const valid = (source: string, where: string) => {
    try {
      JSON.parse(source);
    } catch {
      unsplittable('json_invalid', `${where} is not JSON`);
    }
  };
  if (/^[\t\n\r ]*\[/.test(text)) {
    valid(text, 'the dataset');
    return arrayElements(text).map((element) => utf8ToBytes(element));
  }
  return lines(bytes).map((line, index) => {
    const source = decodeUtf8Strict(line);
    if (source.trim() === '') unsplittable('json_invalid', `line ${index} of the JSON Lines is empty`);
    valid(source, `line ${index}`);
    return utf8ToBytes(source.trim());
  });
}

/** The top-level elements of a JSON array text already known to be valid JSON, each trimmed. */
function arrayElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) start = i + 1;
    } else if (c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        const last = text.slice(start, i).trim();
        if (last !== '' || out.length > 0) out.push(last);
      }
    } else if (c === ',' && depth === 1) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return out;
}

function unsplittable(reason: UnsplittableReason, message: string): never {
  throw new EphemeraError<RowsErrorCode>('ROWS_UNSPLITTABLE', message, { fields: { reason } });
}
