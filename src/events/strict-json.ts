/**
 * The strict JSON reader (docs/verification.md §2). Every certificate and
 * every event read from outside goes through it, in Node and in the browser.
 * On top of RFC 8259 it rejects, each with its own code and the path of the
 * member:
 *   JSON_DUPLICATE_MEMBER    a member name twice in one object (after decoding escapes)
 *   JSON_UNPAIRED_SURROGATE  a string that is not well-formed UTF-16 once escapes are decoded
 *   JSON_NUMBER_NOT_CANONICAL a number not written as ECMAScript writes it (RFC 8785 §3.2.2.3):
 *                            `1.0`, `1e3`, `-0`, or digits that do not round-trip (9007199254740993)
 *   JSON_TOO_DEEP            arrays and objects nested deeper than the bound
 *   JSON_STRING_TOO_LONG     a string longer than the bound (UTF-16 code units, decoded)
 *   JSON_TOO_MANY_VALUES     more values in one parsed value than its budget (a few bytes of
 *                            `[{},{},…]` would otherwise become gigabytes of objects)
 *   JSON_SYNTAX              anything RFC 8259 forbids, a byte-order mark, trailing text
 * A document that passes is then built by the native JSON.parse, which keeps
 * `__proto__` as an ordinary own member. One canonical spelling per number
 * means that what is hashed (JCS of the parsed value) and what is shown agree.
 * Isomorphic: no Node-only API.
 */
import type { ErrorCode } from '../error-codes.js';
import { EphemeraError } from '../errors.js';

export type JsonErrorCode = Extract<ErrorCode, `JSON_${string}`>;

export interface JsonLimits {
  /** Deepest nesting of arrays and objects; the outermost value is depth 1. */
  maxDepth: number;
  /** Longest string, in UTF-16 code units after decoding escapes. */
  maxStringLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({ maxDepth: 64, maxStringLength: 4 * 1024 * 1024 });

/** Thrown inside the scanner when the text ends before the value does and more text may follow. */
export const NEED_MORE = Symbol('need more');

const PLAIN_RUN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const SHORT_INTEGER = /^-?[1-9][0-9]{0,14}$|^0$/;
const HEX4 = /^[0-9a-fA-F]{4}$/;
/** Control characters JSON.stringify writes as \b \t \n \f \r. */
const SHORT_ESCAPED = new Set([0x08, 0x09, 0x0a, 0x0c, 0x0d]);

/**
 * Validates one JSON value in `text` starting at `start` and returns the index
 * just past it. With `final` false, a value cut off by the end of `text`
 * throws NEED_MORE instead of a syntax error (the caller reads more).
 * `path` names where the value sits, for error messages.
 */
export class Scanner {
  private readonly segments: (string | number)[] = [];
  private sawEscape = false;
  private values = 0;
  /**
   * Whether the text scanned so far is exactly RFC 8785 (JCS) output: no
   * whitespace, members in sorted order, only the escapes JSON.stringify
   * writes (numbers are always canonical here). When it is, the text itself
   * is the canonical form a verifier would otherwise re-serialize to hash.
   */
  canonical = true;

  constructor(
    private readonly text: string,
    private readonly limits: JsonLimits,
    private readonly final: boolean,
    private readonly basePath: string,
    private readonly baseDepth: number,
    /** Values (scalars, arrays, objects) this scan may meet; Infinity when nothing is built from it. */
    private readonly maxValues = Infinity,
  ) {}

  scan(start: number): number {
    return this.value(this.ws(start), this.baseDepth);
  }

  private fail(code: JsonErrorCode, why: string, at?: number): never {
    const path = this.path();
    const where = at === undefined ? '' : ` (character ${at})`;
    throw new EphemeraError(code, `${path}: ${why}${where}`, { fields: { field: path } });
  }

  path(): string {
    let p = this.basePath;
    for (const s of this.segments) p += typeof s === 'number' ? `[${s}]` : p === '' ? s : `.${s}`;
    return p === '' ? '(document)' : p;
  }

  private more(at: number): never {
    if (!this.final) throw NEED_MORE;
    return this.fail('JSON_SYNTAX', 'the text ends inside a value', at);
  }

  ws(i: number): number {
    const s = this.text;
    const start = i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    if (i !== start) this.canonical = false;
    return i;
  }

  private value(i: number, depth: number): number {
    const s = this.text;
    if (i >= s.length) return this.more(i);
    if (++this.values > this.maxValues) this.fail('JSON_TOO_MANY_VALUES', `more than ${this.maxValues} values in one event`, i);
    const c = s.charCodeAt(i);
    if (c === 0x22) return this.string(i);
    if (c === 0x7b) return this.object(i, depth + 1);
    if (c === 0x5b) return this.array(i, depth + 1);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(i);
    if (c === 0x74) return this.literal(i, 'true');
    if (c === 0x66) return this.literal(i, 'false');
    if (c === 0x6e) return this.literal(i, 'null');
    return this.fail('JSON_SYNTAX', `unexpected character ${JSON.stringify(s[i])}`, i);
  }

  private literal(i: number, word: string): number {
    const s = this.text;
    const end = i + word.length;
    if (end > s.length) {
      if (word.startsWith(s.slice(i))) return this.more(i);
      return this.fail('JSON_SYNTAX', 'unexpected literal', i);
    }
    if (!s.startsWith(word, i)) this.fail('JSON_SYNTAX', 'unexpected literal', i);
    return end;
  }

  private number(i: number): number {
    const s = this.text;
    NUMBER.lastIndex = i;
    if (!NUMBER.test(s)) return this.fail('JSON_SYNTAX', 'malformed number', i);
    const end = NUMBER.lastIndex;
    if (end >= s.length && !this.final) throw NEED_MORE; // the digits may go on in the next chunk
    const token = s.slice(i, end);
    if (!SHORT_INTEGER.test(token) && String(Number(token)) !== token) {
      this.fail(
        'JSON_NUMBER_NOT_CANONICAL',
        `number ${token.length > 40 ? `${token.slice(0, 40)}…` : token} is not in canonical form (write ${canonicalNumber(token)})`,
        i,
      );
    }
    return end;
  }

  /** Scans a string token starting at its opening quote; returns the index past the closing quote. */
  private string(i: number): number {
    const s = this.text;
    let j = i + 1;
    let units = 0;
    let escaped = false;
    for (;;) {
      PLAIN_RUN.lastIndex = j;
      PLAIN_RUN.test(s);
      units += PLAIN_RUN.lastIndex - j;
      j = PLAIN_RUN.lastIndex;
      if (j >= s.length) return this.more(j);
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      let unit: number;
      if (c === 0x5c) {
        escaped = true;
        [unit, j] = this.escape(j);
      } else if (c < 0x20) {
        return this.fail('JSON_SYNTAX', 'a control character must be escaped in a string', j);
      } else {
        unit = c;
        j += 1;
      }
      units += 1;
      if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('JSON_UNPAIRED_SURROGATE', 'a low surrogate without a high one before it', j);
      if (unit >= 0xd800 && unit <= 0xdbff) {
        // The next code unit, raw or escaped, must be the low half of the pair.
        if (j >= s.length) return this.more(j);
        let low: number;
        let next: number;
        if (s.charCodeAt(j) === 0x5c) {
          escaped = true;
          [low, next] = this.escape(j);
        } else [low, next] = [s.charCodeAt(j), j + 1];
        if (!(low >= 0xdc00 && low <= 0xdfff)) this.fail('JSON_UNPAIRED_SURROGATE', 'a high surrogate without a low one after it', j);
        j = next;
        units += 1;
      }
    }
    if (units > this.limits.maxStringLength) this.fail('JSON_STRING_TOO_LONG', `a string of ${units} characters (at most ${this.limits.maxStringLength})`, i);
    this.sawEscape = escaped;
    return j + 1;
  }

  /** Decodes the escape at `j` (a backslash) to one UTF-16 code unit; returns it and the index past it. */
  private escape(j: number): [number, number] {
    const s = this.text;
    if (j + 1 >= s.length) return this.more(j);
    const e = s.charCodeAt(j + 1);
    switch (e) {
      case 0x22:
      case 0x5c:
        return [e, j + 2];
      case 0x2f:
        this.canonical = false; // JSON.stringify writes "/" as itself
        return [e, j + 2];
      case 0x62:
        return [0x08, j + 2];
      case 0x66:
        return [0x0c, j + 2];
      case 0x6e:
        return [0x0a, j + 2];
      case 0x72:
        return [0x0d, j + 2];
      case 0x74:
        return [0x09, j + 2];
      case 0x75: {
        if (j + 6 > s.length) {
          if (/^[0-9a-fA-F]*$/.test(s.slice(j + 2))) return this.more(j);
          return this.fail('JSON_SYNTAX', 'malformed \\u escape', j);
        }
        const hex = s.slice(j + 2, j + 6);
        if (!HEX4.test(hex)) this.fail('JSON_SYNTAX', 'malformed \\u escape', j);
        const unit = parseInt(hex, 16);
        // JSON.stringify writes \u only for control characters without a short escape, in lowercase.
        if (unit >= 0x20 || SHORT_ESCAPED.has(unit) || hex !== hex.toLowerCase()) this.canonical = false;
        return [unit, j + 6];
      }
      default:
        return this.fail('JSON_SYNTAX', 'unknown escape in a string', j);
    }
  }

  private object(i: number, depth: number): number {
    if (depth > this.limits.maxDepth) this.fail('JSON_TOO_DEEP', `nested deeper than ${this.limits.maxDepth}`, i);
    const s = this.text;
    i = this.ws(i + 1);
    if (i >= s.length) return this.more(i);
    if (s.charCodeAt(i) === 0x7d) return i + 1;
    // Names in strictly increasing order cannot repeat: a set is built only once the order breaks.
    const names: string[] = [];
    let seen: Set<string> | null = null;
    const top = this.segments.length;
    for (;;) {
      if (i >= s.length) return this.more(i);
      if (s.charCodeAt(i) !== 0x22) this.fail('JSON_SYNTAX', 'expected a member name', i);
      const end = this.string(i);
      const name = this.sawEscape ? (JSON.parse(s.slice(i, end)) as string) : s.slice(i + 1, end - 1);
      if (seen === null && names.length > 0 && !(names[names.length - 1]! < name)) {
        seen = new Set(names);
        this.canonical = false;
      }
      if (seen !== null) {
        if (seen.has(name)) {
          this.segments[top] = name;
          this.fail('JSON_DUPLICATE_MEMBER', 'this member name appears twice in one object', i);
        }
        seen.add(name);
      }
      names.push(name);
      i = this.ws(end);
      if (i >= s.length) return this.more(i);
      if (s.charCodeAt(i) !== 0x3a) this.fail('JSON_SYNTAX', 'expected ":" after a member name', i);
      this.segments[top] = name;
      i = this.ws(this.value(this.ws(i + 1), depth));
      if (i >= s.length) return this.more(i);
      const c = s.charCodeAt(i);
      if (c === 0x2c) {
        i = this.ws(i + 1);
        continue;
      }
      if (c === 0x7d) {
        this.segments.length = top;
        return i + 1;
      }
      return this.fail('JSON_SYNTAX', 'expected "," or "}" in an object', i);
    }
  }

  private array(i: number, depth: number): number {
    if (depth > this.limits.maxDepth) this.fail('JSON_TOO_DEEP', `nested deeper than ${this.limits.maxDepth}`, i);
    const s = this.text;
    i = this.ws(i + 1);
    if (i >= s.length) return this.more(i);
    if (s.charCodeAt(i) === 0x5d) return i + 1;
    const top = this.segments.length;
    for (let index = 0; ; index++) {
      this.segments[top] = index;
      i = this.ws(this.value(i, depth));
      if (i >= s.length) return this.more(i);
      const c = s.charCodeAt(i);
      if (c === 0x2c) {
        i = this.ws(i + 1);
        continue;
      }
      if (c === 0x5d) {
        this.segments.length = top;
        return i + 1;
      }
      return this.fail('JSON_SYNTAX', 'expected "," or "]" in an array', i);
    }
  }
}

function canonicalNumber(token: string): string {
  const n = Number(token);
  return Number.isFinite(n) ? String(n) : 'a finite number';
}

/** Parses a complete JSON text strictly. Throws EphemeraError with a JSON_* code naming the member. */
export function parseStrictJson(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS, path = ''): unknown {
  return parseStrictJsonText(text, limits, path).value;
}

/** parseStrictJson, and whether the text is exactly the RFC 8785 form of its value (Scanner.canonical). */
export function parseStrictJsonText(text: string, limits: JsonLimits = DEFAULT_JSON_LIMITS, path = ''): { value: unknown; canonical: boolean } {
  if (text.charCodeAt(0) === 0xfeff) throw new EphemeraError('JSON_SYNTAX', 'the text starts with a byte-order mark', { fields: { field: '(document)' } });
  const scanner = new Scanner(text, limits, true, path, 0);
  const end = scanner.ws(scanner.scan(0));
  if (end !== text.length)
    throw new EphemeraError('JSON_SYNTAX', `text after the end of the value (character ${end})`, { fields: { field: path || '(document)' } });
  return { value: JSON.parse(text), canonical: scanner.canonical };
}

/** Decodes UTF-8 strictly (no replacement characters): invalid bytes are JSON_INVALID_UTF8. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new EphemeraError('JSON_INVALID_UTF8', 'the text is not valid UTF-8', { fields: { field: '(document)' } });
  }
}
