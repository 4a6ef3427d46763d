/**
 * A disclosed record as one line of plain text, for a terminal or a page
 * (docs/row-proofs.md §9). Records are untrusted bytes: an escape sequence
 * could rewrite the screen, a line break could print a fake "record 99"
 * line under the real one, a bidi override could reorder what is read. Each
 * such character is shown as an escape instead, and `\` as `\\`, so the text
 * shown maps back to exactly one byte string.
 */

/** C0 and C1 controls, DEL, line and paragraph separators, bidi marks (U+061C, U+200E, U+200F), embeddings, overrides and isolates, BOM, and `\`. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\\]/g;

const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The record as UTF-8 text (an invalid sequence shows as U+FFFD), every unsafe character escaped: one line, no controls. */
export function recordText(record: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(record);
  return text.replace(UNSAFE, (c) => NAMED[c] ?? `\\u{${c.charCodeAt(0).toString(16).padStart(4, '0')}}`);
}
