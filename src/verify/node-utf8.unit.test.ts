import { describe, expect, it } from 'vitest';
import { isEphemeraError } from '../errors.js';
import { nodeUtf8Decoder } from './node-utf8.js';
import { textDecoderUtf8, type Utf8Decode } from './reader.js';

/** Decodes `bytes` cut at `cuts`, as a stream would bring them: the text, or the error code. */
function decodeIn(decode: Utf8Decode, bytes: Uint8Array, cuts: number[]): string {
  try {
    let text = '';
    let from = 0;
    for (const cut of cuts) {
      text += decode(bytes.subarray(from, cut), false);
      from = cut;
    }
    return text + decode(bytes.subarray(from), true);
  } catch (error) {
    return isEphemeraError(error) ? `error ${error.code}` : `thrown ${String(error)}`;
  }
}

const valid = new TextEncoder().encode('{"a":"é€😀 \u0000x\uffff\u{10ffff}"}');
const invalid: [string, number[]][] = [
  ['a stray continuation byte', [0x61, 0x80, 0x62]],
  ['an overlong "/"', [0xc0, 0xaf]],
  ['an overlong three-byte form', [0xe0, 0x80, 0xaf]],
  ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['a character cut off at the end', [0x61, 0xe2, 0x82]],
  ['a lone lead byte before ASCII', [0xe2, 0x61, 0x62, 0x63]],
  ['0xff', [0xff]],
  ['five continuation bytes', [0xf0, 0x9f, 0x98, 0x80, 0x80]],
];

describe('nodeUtf8Decoder', () => {
  it('decodes valid text exactly as the fatal TextDecoder does, whatever the chunk boundaries', () => {
    for (let a = 0; a <= valid.length; a++) {
      for (let b = a; b <= valid.length; b++) {
        expect(decodeIn(nodeUtf8Decoder(), valid, [a, b])).toBe(new TextDecoder().decode(valid));
      }
    }
  });

  it.each(invalid)('refuses %s with JSON_INVALID_UTF8 at every chunk boundary, as the fatal TextDecoder does', (_what, list) => {
    const bytes = new Uint8Array([0x22, ...list, 0x22]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(decodeIn(nodeUtf8Decoder(), bytes, [cut])).toBe('error JSON_INVALID_UTF8');
      expect(decodeIn(textDecoderUtf8(), bytes, [cut])).toBe('error JSON_INVALID_UTF8');
    }
  });

  it('keeps a byte-order mark as a character (the strict reader refuses it, as it does from any decoder)', () => {
    expect(decodeIn(nodeUtf8Decoder(), new Uint8Array([0xef, 0xbb, 0xbf, 0x7b]), [1])).toBe('\ufeff{');
  });

  it('carries at most the bytes of one unfinished character between chunks', () => {
    const decode = nodeUtf8Decoder();
    expect(decode(new Uint8Array([0x61, 0xf0, 0x9f]), false)).toBe('a');
    expect(decode(new Uint8Array([0x98]), false)).toBe('');
    expect(decode(new Uint8Array([0x80, 0x62]), false)).toBe('😀b');
    expect(decode(new Uint8Array(0), true)).toBe('');
  });
});
