/**
 * The strict reader for one large JSON object read in chunks (a certificate
 * file): its members one by one, and one member's array element by element,
 * each under the rules of strict-json.ts.
 */
import { EphemeraError } from '../errors.js';
import { DEFAULT_JSON_LIMITS, NEED_MORE, Scanner, type JsonErrorCode, type JsonLimits } from './strict-json.js';

/**
 * Receives a top-level object member by member. Names arrive before their
 * values, so a name can be refused before its value is read. Members other
 * than the streamed array arrive as their exact text, validated but not
 * built (a caller that keeps them pays their size, never the size of the
 * objects they would become); the streamed array's elements arrive one at a
 * time, as text, each within a budget of values.
 */
export interface ObjectSink {
  name(name: string): void;
  member(name: string, text: string): void;
  /** The streamed member's array has begun (it may be empty). */
  arrayOpened(name: string): void;
  /** Called before element `index` is read. */
  elementStarting(index: number): void;
  /**
   * An element as its exact text, validated (parse it with JSON.parse), and
   * whether that text is already canonical (RFC 8785): what a hash of it may use as is.
   */
  element(index: number, text: string, canonical: boolean): void;
}

/**
 * A copy of a slice that keeps nothing else alive. V8 makes a slice share
 * its parent's characters, and a member is held to the end of reading: as a
 * slice of the read buffer it would keep the whole buffer (measured: a
 * 10 MB summary member held 33 MB). Joining forces a flat copy.
 */
const detached = (slice: string): string => ` ${slice}`.slice(1);

/** Values one streamed element may hold: far above any event, far below what would exhaust memory. */
export const MAX_ELEMENT_VALUES = 1 << 18;

type StreamState = 'start' | 'name' | 'colon' | 'value' | 'after-member' | 'array-start' | 'array-open' | 'array-element' | 'after-element' | 'end';

/**
 * Reads one JSON object incrementally from chunks of text, strictly (the
 * rules above). A value cut by a chunk boundary is re-scanned only after the
 * buffer has at least doubled since the last try: linear time overall.
 */
export class StrictObjectStream {
  private buffer = '';
  private state: StreamState = 'start';
  private name = '';
  private readonly names = new Set<string>();
  private index = 0;
  private announced = -1;
  private retryAt = 0;
  private consumed = 0;

  constructor(
    private readonly streamed: string,
    private readonly sink: ObjectSink,
    private readonly limits: JsonLimits = DEFAULT_JSON_LIMITS,
    private readonly maxElementValues = MAX_ELEMENT_VALUES,
  ) {}

  push(chunk: string): void {
    this.buffer = this.buffer.length === 0 ? chunk : this.buffer + chunk;
    if (this.buffer.length >= this.retryAt) this.run(false);
  }

  end(): void {
    this.run(true);
    if (this.state !== 'end') this.fail('JSON_SYNTAX', 'the text ends inside the document');
  }

  private fail(code: JsonErrorCode, why: string, field = '(document)'): never {
    throw new EphemeraError(code, `${field}: ${why}`, { fields: { field } });
  }

  private run(final: boolean): void {
    const s = this.buffer;
    let i = 0;
    try {
      for (;;) {
        while (i < s.length) {
          const w = s.charCodeAt(i);
          if (w === 0x20 || w === 0x0a || w === 0x0d || w === 0x09) i++;
          else break;
        }
        if (i >= s.length) break;
        i = this.step(s, i, final);
      }
      this.retryAt = 0;
    } catch (error) {
      if (error !== NEED_MORE) throw error;
      this.retryAt = Math.max(2 * (s.length - i), 64 * 1024);
    }
    this.consumed += i;
    this.buffer = s.slice(i);
  }

  /** Consumes one token or value at `i` (not whitespace); returns the index past it. */
  private step(s: string, i: number, final: boolean): number {
    const c = s.charCodeAt(i);
    switch (this.state) {
      case 'start':
        if (this.consumed === 0 && i === 0 && c === 0xfeff) this.fail('JSON_SYNTAX', 'the text starts with a byte-order mark');
        if (c !== 0x7b) this.fail('JSON_SYNTAX', 'a certificate must be a JSON object');
        this.state = 'name';
        return i + 1;
      case 'name': {
        if (c === 0x7d && this.names.size === 0) {
          this.state = 'end';
          return i + 1;
        }
        if (c !== 0x22) this.fail('JSON_SYNTAX', 'expected a member name');
        const end = new Scanner(s, this.limits, final, '', 1).scan(i);
        const name = JSON.parse(s.slice(i, end)) as string;
        if (this.names.has(name)) this.fail('JSON_DUPLICATE_MEMBER', 'this member name appears twice in one object', name);
        this.names.add(name);
        this.sink.name(name);
        this.name = name;
        this.state = 'colon';
        return end;
      }
      case 'colon':
        if (c !== 0x3a) this.fail('JSON_SYNTAX', 'expected ":" after a member name');
        this.state = this.name === this.streamed ? 'array-start' : 'value';
        return i + 1;
      case 'value': {
        // Depth 1 is the document itself.
        const end = new Scanner(s, this.limits, final, this.name, 1).scan(i);
        this.sink.member(this.name, detached(s.slice(i, end)));
        this.state = 'after-member';
        return end;
      }
      case 'after-member':
        if (c === 0x2c) this.state = 'name';
        else if (c === 0x7d) this.state = 'end';
        else this.fail('JSON_SYNTAX', 'expected "," or "}" after a member');
        return i + 1;
      case 'array-start':
        if (c !== 0x5b) this.fail('JSON_SYNTAX', 'expected an array', this.streamed);
        this.sink.arrayOpened(this.streamed);
        this.state = 'array-open';
        return i + 1;
      case 'array-open':
        if (c === 0x5d) {
          this.state = 'after-member';
          return i + 1;
        }
        this.state = 'array-element';
        return i;
      case 'array-element': {
        if (this.announced < this.index) {
          this.sink.elementStarting(this.index);
          this.announced = this.index;
        }
        // Depth 2: the document and the array hold the element.
        const scanner = new Scanner(s, this.limits, final, `${this.streamed}[${this.index}]`, 2, this.maxElementValues);
        const end = scanner.scan(i);
        this.sink.element(this.index, s.slice(i, end), scanner.canonical);
        this.index += 1;
        this.state = 'after-element';
        return end;
      }
      case 'after-element':
        if (c === 0x2c) this.state = 'array-element';
        else if (c === 0x5d) this.state = 'after-member';
        else this.fail('JSON_SYNTAX', 'expected "," or "]" in the array', this.streamed);
        return i + 1;
      case 'end':
        return this.fail('JSON_SYNTAX', 'text after the end of the document');
    }
  }
}
