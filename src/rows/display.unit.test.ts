import { describe, expect, it } from 'vitest';
import { recordText } from './display.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('recordText', () => {
  it('keeps printable text, accents and emoji as they are', () => {
    expect(recordText(bytes('17,Zoë,"a, b",😀'))).toBe('17,Zoë,"a, b",😀');
  });

  it('escapes what could drive a terminal or fake a line: controls, line breaks, bidi overrides, and the backslash itself', () => {
    expect(recordText(bytes('a\u001b[2Jb\r\nrecord 99: x\tc\u0000\u007f\u0085'))).toBe('a\\u{001b}[2Jb\\r\\nrecord 99: x\\tc\\u{0000}\\u{007f}\\u{0085}');
    expect(recordText(bytes('abc\u202Efed\u2066\u2028\uFEFF'))).toBe('abc\\u{202e}fed\\u{2066}\\u{2028}\\u{feff}');
    expect(recordText(bytes('\u061c\u200e\u200f'))).toBe('\\u{061c}\\u{200e}\\u{200f}');
    // Unambiguous: a record holding a backslash-n is not shown like one holding a line break.
    expect(recordText(bytes('a\\nb'))).toBe('a\\\\nb');
    expect(recordText(bytes('a\\nb'))).not.toBe(recordText(bytes('a\nb')));
  });

  it('shows bytes that are not UTF-8 as U+FFFD', () => {
    expect(recordText(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\uFFFDb');
  });
});
