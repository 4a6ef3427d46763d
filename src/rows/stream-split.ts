/**
 * `splitRecords` (records.ts, docs/row-proofs.md §1) over a stream of chunks:
 * the same records and the same refusals for any chunking, holding only the
 * record still open at a chunk's end. UTF-8 is checked apart (utf8.ts); the
 * JSON checks here decode each record strictly all the same.
 */
import type { RowFormat, UnsplittableReason } from './records.js';

type Emit = (record: Uint8Array) => void;

export interface IncrementalSplitter {
  /** Splits the next bytes, emitting each complete record; once refused, does nothing. */
  push(chunk: Uint8Array): void;
  /** The data has ended: emits the last record, or refuses what is still open. */
  end(): void;
  readonly refused: UnsplittableReason | null;
}

export function incrementalSplitter(format: RowFormat, emit: Emit): IncrementalSplitter {
  if (format === 'csv') return new CsvSplitter(emit);
  if (format === 'txt') return new LineSplitter(emit);
  return new JsonSplitter(emit);
}

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const EMPTY = new Uint8Array(0);

/**
 * The bytes of the record still open at a chunk's end, copied (the caller may reuse its chunk) into one buffer that
 * grows by doubling: tiny chunks cost no object each. What `take` returns is valid until the next `hold`.
 */
class OpenRecord {
  private buffer = EMPTY;
  private length = 0;

  get empty(): boolean {
    return this.length === 0;
  }

  hold(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.reserve(this.length + bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The whole record: what was held, then `tail` (a view into the chunk, not copied, when nothing was held). */
  take(tail: Uint8Array): Uint8Array {
    if (this.length === 0) return tail;
    const length = this.length + tail.length;
    this.reserve(length);
    this.buffer.set(tail, this.length);
    this.length = 0;
    return this.buffer.subarray(0, length);
  }

  /** Drops the buffer, zeroed first: the records are forgotten with the dataset. */
  clear(): void {
    this.buffer.fill(0);
    this.buffer = EMPTY;
    this.length = 0;
  }

  private reserve(length: number): void {
    if (length <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(length, this.buffer.length * 2, 256));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer.fill(0);
    this.buffer = grown;
  }
}

abstract class Splitter implements IncrementalSplitter {
  refused: UnsplittableReason | null = null;
  protected readonly open = new OpenRecord();

  constructor(protected readonly emit: Emit) {}

  abstract push(chunk: Uint8Array): void;
  abstract end(): void;

  protected refuse(reason: UnsplittableReason): void {
    this.refused ??= reason;
    this.discard();
  }

  /** Zeroes the record still open: dataset bytes, not kept once splitting stops. */
  discard(): void {
    this.open.clear();
  }
}

/** Lines ending at LF or CRLF, the terminator dropped; a final line without one is kept as it is (a CR included). */
class LineSplitter extends Splitter {
  push(chunk: Uint8Array, from = 0): void {
    if (this.refused) return;
    let start = from;
    for (let lf = chunk.indexOf(LF, start); lf >= 0; lf = chunk.indexOf(LF, start)) {
      const line = this.open.take(chunk.subarray(start, lf));
      this.emit(line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line);
      if (this.refused) return;
      start = lf + 1;
    }
    this.open.hold(chunk.subarray(start));
  }

  end(): void {
    if (!this.refused && !this.open.empty) this.emit(this.open.take(EMPTY));
    this.open.clear();
  }
}

/** Where a CSV scan stands between two bytes (records.ts `csvRecords`, one byte at a time). */
const Csv = {
  FieldStart: 0,
  Unquoted: 1,
  /** In an unquoted field (or at its start) right after a CR: a line end if LF follows, else part of the field. */
  UnquotedCr: 2,
  Quoted: 3,
  /** A quote inside a quoted field: `""` if another follows, else the field's closing quote. */
  QuotedQuote: 4,
  /** A CR after a closing quote: only LF may follow. */
  ClosedCr: 5,
} as const;

class CsvSplitter extends Splitter {
  private state: number = Csv.FieldStart;

  push(chunk: Uint8Array): void {
    if (this.refused) return;
    let state: number = this.state;
    let start = 0;
    for (let j = 0; j < chunk.length; j++) {
      let b = chunk[j]!;
      if (state === Csv.Unquoted) {
        // Past the field's ordinary bytes in a tight loop.
        while (b !== COMMA && b !== LF && b !== CR && b !== QUOTE && ++j < chunk.length) b = chunk[j]!;
        if (j === chunk.length) break;
      }
      switch (state) {
        case Csv.Quoted:
          // Straight to the next quote: nothing else matters inside a quoted field.
          j = chunk.indexOf(QUOTE, j);
          if (j < 0) j = chunk.length;
          else state = Csv.QuotedQuote;
          continue;
        case Csv.Unquoted:
        case Csv.UnquotedCr:
        case Csv.FieldStart:
          if (b === COMMA) state = Csv.FieldStart;
          else if (b === LF) {
            this.endRecord(chunk, start, j, state === Csv.UnquotedCr);
            start = j + 1;
            state = Csv.FieldStart;
          } else if (b === CR) state = Csv.UnquotedCr;
          else if (b === QUOTE) {
            if (state !== Csv.FieldStart) return this.refuse('csv_quoting');
            state = Csv.Quoted;
          } else state = Csv.Unquoted;
          continue;
        case Csv.QuotedQuote:
          if (b === QUOTE) state = Csv.Quoted;
          else if (b === COMMA) state = Csv.FieldStart;
          else if (b === LF) {
            this.endRecord(chunk, start, j, false);
            start = j + 1;
            state = Csv.FieldStart;
          } else if (b === CR) state = Csv.ClosedCr;
          else return this.refuse('csv_quoting');
          continue;
        case Csv.ClosedCr:
          if (b !== LF) return this.refuse('csv_quoting');
          this.endRecord(chunk, start, j, true);
          start = j + 1;
          state = Csv.FieldStart;
      }
    }
    this.state = state;
    this.open.hold(chunk.subarray(start));
  }

  end(): void {
    if (this.refused) return;
    if (this.state === Csv.Quoted || this.state === Csv.ClosedCr) return this.refuse('csv_quoting');
    if (!this.open.empty) this.emit(this.open.take(EMPTY));
    this.open.clear();
  }

  private endRecord(chunk: Uint8Array, start: number, lf: number, crlf: boolean): void {
    const record = this.open.take(chunk.subarray(start, lf));
    this.emit(crlf ? record.subarray(0, record.length - 1) : record);
  }
}

const isJsonSpace = (b: number) => b === SPACE || b === LF || b === CR || b === TAB;

/** The record trimmed of JSON whitespace around it, if it is exactly one JSON value (strict UTF-8, `JSON.parse`); else null. */
function jsonValue(bytes: Uint8Array, decoder: TextDecoder): Uint8Array | null {
  let start = 0;
  let end = bytes.length;
  while (start < end && isJsonSpace(bytes[start]!)) start++;
  while (end > start && isJsonSpace(bytes[end - 1]!)) end--;
  if (start === end) return null;
  const value = bytes.subarray(start, end);
  try {
    JSON.parse(decoder.decode(value));
  } catch {
    return null;
  }
  return value;
}

const Json = {
  /** Only whitespace so far: the first other byte decides (`[`: an array; else JSON Lines). */
  Undecided: 0,
  Lines: 1,
  Array: 2,
  /** After the array's closing bracket: only whitespace may follow. */
  AfterArray: 3,
} as const;

/**
 * A JSON array's elements, found by a scanner that follows strings, escapes and nesting and checks the array's own
 * punctuation, each element checked by `JSON.parse`; or JSON Lines, each line checked. Together that accepts
 * exactly what `JSON.parse` of the whole text accepts.
 */
class JsonSplitter extends Splitter {
  private mode: number = Json.Undecided;
  private leadingLf = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly lines = new LineSplitter((line) => this.element(line, true));
  private depth = 1;
  private inString = false;
  private escaped = false;
  private elements = 0;

  push(chunk: Uint8Array): void {
    let from = 0;
    if (this.mode === Json.Undecided) {
      while (from < chunk.length && isJsonSpace(chunk[from]!)) if (chunk[from++] === LF) this.leadingLf = true;
      if (from === chunk.length) return;
      if (chunk[from] === OPEN_BRACKET) {
        this.mode = Json.Array;
        from++;
      } else {
        this.mode = Json.Lines;
        // The whitespace before the first value belongs to line 0, which a line end there would leave empty.
        if (this.leadingLf) return this.refuse('json_invalid');
      }
    }
    if (this.refused) return;
    if (this.mode === Json.Lines) {
      this.lines.push(chunk, from);
      this.refused = this.lines.refused;
    } else if (this.mode === Json.Array) this.scanArray(chunk, from);
    else this.afterArray(chunk, from);
  }

  end(): void {
    if (this.refused) return;
    if (this.mode === Json.Lines) {
      this.lines.end();
      this.refused = this.lines.refused;
    } else if (this.mode !== Json.AfterArray) this.refuse('json_invalid');
    this.open.clear();
  }

  private scanArray(chunk: Uint8Array, from: number): void {
    let { depth, inString, escaped } = this;
    let start = from;
    for (let j = from; j < chunk.length; j++) {
      const b = chunk[j]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (b === BACKSLASH) escaped = true;
        else if (b === QUOTE) inString = false;
        continue;
      }
      if (b === QUOTE) inString = true;
      else if (b === OPEN_BRACKET || b === OPEN_BRACE) depth++;
      else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
        if (--depth > 0) continue;
        // The array's end: its last element (none in `[ ]`), then only whitespace.
        const last = this.open.take(chunk.subarray(start, j));
        if (b !== CLOSE_BRACKET) return this.refuse('json_invalid');
        if (this.elements > 0 || !last.every(isJsonSpace)) this.element(last, false);
        if (this.refused) return;
        this.mode = Json.AfterArray;
        return this.afterArray(chunk, j + 1);
      } else if (b === COMMA && depth === 1) {
        this.element(this.open.take(chunk.subarray(start, j)), false);
        if (this.refused) return;
        start = j + 1;
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.open.hold(chunk.subarray(start));
  }

  /** JSON Lines keep their open line in the line splitter: zeroed too. */
  protected override refuse(reason: UnsplittableReason): void {
    super.refuse(reason);
    this.lines.discard();
  }

  private afterArray(chunk: Uint8Array, from: number): void {
    for (let j = from; j < chunk.length; j++) if (!isJsonSpace(chunk[j]!)) return this.refuse('json_invalid');
  }

  private element(bytes: Uint8Array, line: boolean): void {
    const value = jsonValue(bytes, this.decoder);
    if (value === null) {
      if (line) this.lines.refused = 'json_invalid';
      return this.refuse('json_invalid');
    }
    this.elements++;
    this.emit(value);
  }
}
