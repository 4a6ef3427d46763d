/**
 * Strict streaming UTF-8 decoding for Node (file.ts, reader-worker.ts).
 * Node 20's TextDecoder in fatal mode decodes through ICU into two-byte
 * strings: every certificate character then costs two bytes, in the read
 * buffer, in each held member and in each text hashed (measured: a 10 MB
 * summary held as 17 MB). Its replacement mode, like Buffer#toString, gives
 * one-byte strings for Latin-1 text; strictness comes from validating the
 * bytes first with node:buffer's isUtf8 (simdutf: overlong forms,
 * surrogates and code points above U+10FFFF are invalid), whole characters
 * only, carrying a character cut by a chunk boundary to the next chunk.
 */
import { isUtf8 } from 'node:buffer';
import { decodeUtf8Strict } from '../events/index.js';
import type { Utf8Decode } from './reader.js';

export function nodeUtf8Decoder(): Utf8Decode {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let carry: Uint8Array = new Uint8Array(0);
  return (bytes, final) => {
    const input = carry.length === 0 ? bytes : concat(carry, bytes);
    const cut = final ? input.length : wholeCharacters(input);
    const head = input.subarray(0, cut);
    if (!isUtf8(head) || (final && cut !== input.length)) invalid();
    carry = input.slice(cut);
    return decoder.decode(head);
  };
}

/** The length of the longest prefix that does not end inside a character (a lead byte with too few continuation bytes after it). */
function wholeCharacters(bytes: Uint8Array): number {
  for (let back = 1; back <= 4 && back <= bytes.length; back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const length = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return length > back ? bytes.length - back : bytes.length;
  }
  return bytes.length; // no lead byte near the end: invalid, and isUtf8 says so
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function invalid(): never {
  decodeUtf8Strict(new Uint8Array([0xff])); // throws JSON_INVALID_UTF8, the code and message every reader gives
  throw new Error('unreachable');
}
