/**
 * Strict UTF-8 validation over a stream of chunks, without decoding: the
 * WHATWG decoder's acceptance (what `TextDecoder` with `fatal: true`
 * accepts: no overlongs, no surrogates, nothing above U+10FFFF), so a
 * sequence split across chunks is judged as if the bytes were whole.
 */
export class Utf8Validator {
  /** Continuation bytes the current sequence still needs. */
  private need = 0;
  /** The range the next continuation byte must fall in (narrower right after E0, ED, F0, F4). */
  private lower = 0x80;
  private upper = 0xbf;
  private valid = true;

  get ok(): boolean {
    return this.valid;
  }

  push(bytes: Uint8Array): void {
    if (!this.valid) return;
    let { need, lower, upper } = this;
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      // ASCII eight bytes at a time: most datasets are mostly ASCII.
      if (need === 0)
        while (i + 8 <= n && (bytes[i]! | bytes[i + 1]! | bytes[i + 2]! | bytes[i + 3]! | bytes[i + 4]! | bytes[i + 5]! | bytes[i + 6]! | bytes[i + 7]!) < 0x80)
          i += 8;
      if (i === n) break;
      const b = bytes[i]!;
      if (need === 0) {
        if (b < 0x80) continue;
        if (b >= 0xc2 && b <= 0xdf) need = 1;
        else if (b >= 0xe0 && b <= 0xef) {
          need = 2;
          if (b === 0xe0) lower = 0xa0;
          else if (b === 0xed) upper = 0x9f;
        } else if (b >= 0xf0 && b <= 0xf4) {
          need = 3;
          if (b === 0xf0) lower = 0x90;
          else if (b === 0xf4) upper = 0x8f;
        } else {
          this.valid = false;
          return;
        }
      } else {
        if (b < lower || b > upper) {
          this.valid = false;
          return;
        }
        lower = 0x80;
        upper = 0xbf;
        need--;
      }
    }
    this.need = need;
    this.lower = lower;
    this.upper = upper;
  }

  /** The data has ended: a sequence still open is invalid. */
  end(): boolean {
    if (this.need !== 0) this.valid = false;
    return this.valid;
  }
}
