/**
 * Reading a certificate's bytes (docs/verification.md §2–§3, §5, §7.1): the
 * strict reader, the byte and event limits, each event's hash (its text
 * hashed as is when already canonical, else its JCS form). It hands the
 * verifier an ordered list of items; the verifier parses and checks each
 * event, keeps the Merkle tree and derives the summary. The same
 * reader runs in the verifier's thread (browsers, small files) or in a
 * worker thread beside it (large files on Node, node.ts): the items, and so
 * the verdicts, are the same.
 * Isomorphic: no Node-only API.
 */
import { EphemeraError, isEphemeraError } from '../errors.js';
import {
  EVENT_HASH_TAG,
  StrictObjectStream,
  canonicalize,
  computeEventHash,
  decodeUtf8Strict,
  eventHashOfCanonicalText,
  bytesToHex,
  hashUtf8With,
  hexToBytes,
  type EventEnvelope,
  type Hash,
  type JsonLimits,
  type Sha256,
} from '../events/index.js';
import { LEAF_PREFIX } from '../attest/index.js';

export type ReaderItem =
  | { kind: 'name'; name: string }
  | { kind: 'member'; name: string; text: string }
  | { kind: 'open' }
  /**
   * An event's text, the hash of its content (`sha256:<hex>`, recomputed), the Merkle leaf of that hash (hex; the
   * verifier uses it only once the hash matched the event's own) and, when the reader parsed it anyway, its value.
   */
  | { kind: 'event'; text: string; hash: Hash; leaf: string; value?: unknown }
  | { kind: 'error'; code: string; message: string; field: string | null }
  | { kind: 'end' };

/** Decodes the next chunk of bytes (all that remain when `final`), strictly: invalid UTF-8 throws JSON_INVALID_UTF8. */
export type Utf8Decode = (bytes: Uint8Array, final: boolean) => string;

/** The isomorphic decoder: TextDecoder in fatal mode. */
export function textDecoderUtf8(): Utf8Decode {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  return (bytes, final) => {
    try {
      return decoder.decode(bytes, { stream: !final });
    } catch {
      return decodeUtf8Strict(new Uint8Array([0xff])); // throws JSON_INVALID_UTF8
    }
  };
}

export interface ReaderLimits extends JsonLimits {
  maxBytes: number;
  maxEvents: number;
}

export class CertificateReader {
  private readonly stream: StrictObjectStream;
  private bytes = 0;
  private events = 0;

  constructor(
    private readonly emit: (item: ReaderItem) => void,
    private readonly limits: ReaderLimits,
    private readonly sha256: Sha256,
    /** Hand the parsed value along (in-thread: the verifier would parse the same text again). */
    private readonly withValues: boolean,
    private readonly decode: Utf8Decode = textDecoderUtf8(),
  ) {
    this.stream = new StrictObjectStream(
      'events',
      {
        name: (name) => emit({ kind: 'name', name }),
        member: (name, text) => emit({ kind: 'member', name, text }),
        arrayOpened: () => emit({ kind: 'open' }),
        elementStarting: (index) => {
          if (index >= limits.maxEvents) tooMany(limits.maxEvents);
        },
        element: (_index, text, canonical) => this.event(text, canonical),
      },
      limits,
    );
  }

  /** Refuses a size known beforehand (a file's) before anything is read. */
  declare(size: number): void {
    if (size > this.limits.maxBytes)
      throw new EphemeraError('VERIFY_TOO_LARGE', `the certificate is ${size} bytes, more than ${this.limits.maxBytes} (the limit)`, {
        fields: { field: '(document)' },
      });
  }

  push(chunk: string | Uint8Array): void {
    this.bytes += typeof chunk === 'string' ? utf8Length(chunk) : chunk.length;
    if (this.bytes > this.limits.maxBytes)
      throw new EphemeraError('VERIFY_TOO_LARGE', `the certificate is larger than ${this.limits.maxBytes} bytes (the limit)`, {
        fields: { field: '(document)' },
      });
    this.stream.push(typeof chunk === 'string' ? chunk : this.decode(chunk, false));
  }

  end(): void {
    const tail = this.decode(new Uint8Array(0), true);
    if (tail) this.stream.push(tail);
    this.stream.end();
    this.emit({ kind: 'end' });
  }

  private event(text: string, canonical: boolean): void {
    this.events += 1;
    let value: unknown;
    let hash = canonical ? eventHashOfCanonicalText(text, this.sha256) : null;
    if (hash === null || this.withValues) value = JSON.parse(text);
    if (hash === null) {
      const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
      hash = isObject ? computeEventHash(value as EventEnvelope, this.sha256) : hashUtf8With(this.sha256, EVENT_HASH_TAG + canonicalize(value));
    }
    // The leaf here: beside a reader thread, the verifier's thread (parsing, checking, deriving) is the busier one.
    const leafInput = new Uint8Array(33);
    leafInput[0] = LEAF_PREFIX;
    leafInput.set(hexToBytes(hash.slice(7)), 1);
    const leaf = this.sha256.hex ? this.sha256.hex(leafInput) : bytesToHex(this.sha256(leafInput));
    this.emit(this.withValues ? { kind: 'event', text, hash, leaf, value } : { kind: 'event', text, hash, leaf });
  }
}

function tooMany(max: number): never {
  throw new EphemeraError('VERIFY_TOO_MANY_EVENTS', `events: more than ${max} events (the limit)`, { fields: { field: 'events' } });
}

/** A reading error as an item (what a worker sends instead of throwing); anything else is the verifier's own failure. */
export function errorItem(error: unknown): ReaderItem {
  if (isEphemeraError(error)) {
    const field = error.fields.field;
    return { kind: 'error', code: error.code, message: error.message, field: typeof field === 'string' ? field : null };
  }
  return { kind: 'error', code: 'VERIFY_INTERNAL', message: 'the verifier failed on this input; please report it', field: null };
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of `text` in UTF-8: a surrogate pair is 4, so each half counts 2. Certificates are mostly ASCII, which a regex confirms at native speed. */
function utf8Length(text: string): number {
  if (!NON_ASCII.test(text)) return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return n;
}
