/**
 * The text primitives the C2SP note formats share, strict: standard base64
 * (RFC 4648 §4, padded, canonical), ASCII decimals without leading zeros,
 * UTF-8 without control characters but the newline. Each returns null on
 * anything else; the caller raises its own code. Isomorphic.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}==`;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${ALPHABET[n >> 18]!}${ALPHABET[(n >> 12) & 63]!}${ALPHABET[(n >> 6) & 63]!}=`;
  }
  return out;
}

/**
 * Standard base64 with padding, and canonical: the unused bits of the last
 * character are zero, so exactly one text encodes each byte string (Go's
 * base64.StdEncoding is laxer there; what it writes, this reads).
 */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 !== 0) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const v: number[] = [];
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      if (last && c === 0x3d && j >= 4 - pad) {
        v.push(0);
        continue;
      }
      const x = c < 128 ? VALUE[c]! : -1;
      if (x < 0) return null;
      v.push(x);
    }
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    if (last && pad === 2) {
      if (n & 0xffff) return null;
      out[o++] = n >> 16;
    } else if (last && pad === 1) {
      if (n & 0xff) return null;
      out[o++] = n >> 16;
      out[o++] = (n >> 8) & 0xff;
    } else {
      out[o++] = n >> 16;
      out[o++] = (n >> 8) & 0xff;
      out[o++] = n & 0xff;
    }
  }
  return out;
}

/** A tree size or timestamp: `0` or [1-9][0-9]*, at most Number.MAX_SAFE_INTEGER. */
export function parseDecimal(text: string): number | null {
  if (text.length === 0 || text.length > 16 || !/^(?:0|[1-9][0-9]*)$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

export function isSafeCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes to text when they are UTF-8 with no ASCII control character but the newline (C2SP signed-note "Format"); null otherwise. */
export function decodeNoteText(bytes: Uint8Array): string | null {
  for (const b of bytes) if (b < 0x20 && b !== 0x0a) return null;
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** The UTF-8 bytes of a string that is well-formed UTF-16 with no control character but the newline; null otherwise. */
export function encodeNoteText(text: string): Uint8Array | null {
  if (/[\u0000-\u0009\u000b-\u001f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) return null;
  return encoder.encode(text);
}

/**
 * Go's unicode.IsSpace, which note.go's isValidName uses: the ASCII spaces,
 * U+0085, U+00A0 and the Unicode category Zs, U+2028 and U+2029.
 */
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** A key name (C2SP signed-note "Format"): non-empty, no Unicode space, no plus. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !UNICODE_SPACE.test(name) && !name.includes('+') && encodeNoteText(name) !== null;
}
