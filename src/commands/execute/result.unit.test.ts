import { describe, expect, it } from 'vitest';
import { STDERR_TAIL_MAX_BYTES, stderrTail } from './result.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("a failing script's stderr tail", () => {
  it('is all of a short stderr, not truncated', () => {
    expect(stderrTail(utf8('KeyError: 1\n'), 12)).toEqual({ text: 'KeyError: 1\n', bytes: 12, truncated: false });
    expect(stderrTail(new Uint8Array(0), 0)).toEqual({ text: '', bytes: 0, truncated: false });
  });

  it('keeps the last 4 KiB, dropping the continuation bytes of a character cut in two', () => {
    for (const [char, width] of [
      ['é', 2],
      ['€', 3],
      ['😀', 4],
    ] as const) {
      for (let shift = 0; shift < width; shift++) {
        const text = `${'x'.repeat(shift)}${char.repeat(3000)}END`;
        const tail = stderrTail(utf8(text), utf8(text).length);
        expect(tail.text.endsWith('END')).toBe(true);
        expect(tail.text).not.toContain('\uFFFD');
        expect(tail.text.startsWith(char)).toBe(true);
        expect(utf8(tail.text).length).toBeLessThanOrEqual(STDERR_TAIL_MAX_BYTES);
        expect(utf8(tail.text).length).toBeGreaterThan(STDERR_TAIL_MAX_BYTES - width);
        expect(tail.truncated).toBe(true);
      }
    }
  });

  it('says truncated when the capture itself was cut (more written than captured)', () => {
    expect(stderrTail(utf8('boom\n'), 2_000_000)).toEqual({ text: 'boom\n', bytes: 2_000_000, truncated: true });
  });

  it("drops a character's dangling continuation bytes where the supervisor cut the stream (its end only, no cut here)", () => {
    const end = utf8('ü boom\n').subarray(1); // the second byte of ü, then the rest
    expect(stderrTail(end, 10_000)).toEqual({ text: ' boom\n', bytes: 10_000, truncated: true });
  });

  it('decodes bytes that are not UTF-8 as U+FFFD, never failing', () => {
    expect(stderrTail(new Uint8Array([0x66, 0xff, 0x67]), 3).text).toBe('f\uFFFDg');
  });
});
