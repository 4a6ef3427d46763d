/**
 * RFC 8785 JSON Canonicalization Scheme (https://www.rfc-editor.org/rfc/rfc8785).
 *
 * - Object members sorted by their names as arrays of UTF-16 code units (§3.2.3):
 *   JavaScript's `<` on strings is exactly that.
 * - Strings serialized as ECMAScript JSON.stringify does (§3.2.2.2).
 * - Numbers serialized as ECMAScript Number.prototype.toString (§3.2.2.3);
 *   NaN and Infinity are not JSON and are rejected.
 * Members whose value is undefined are left out (they are absent in JSON).
 * Written as one pass of string appends: every event is canonicalized once
 * when it is emitted and once per verification (docs/verification.md §5), so
 * this is on the hottest paths. The fast paths (strings that need no escape,
 * a small sort for the few members an object has) give exactly the reference
 * output; jcs.unit.test.ts holds them to JSON.stringify and a plain sort.
 * Isomorphic: no Node-only API.
 */
import { EphemeraError } from '../errors.js';

export function canonicalize(value: unknown): string {
  return serialize(value, 0, null);
}

/** JCS of an object without one top-level member (an event without its `hash`), without copying the object. */
export function canonicalizeWithout(value: Record<string, unknown>, omitted: string): string {
  return serialize(value, 0, omitted);
}

/**
 * A JSON value's JCS text together with a deep copy of it whose objects and
 * arrays are frozen, both made in one walk: the copy holds exactly the values
 * the text was written from (a getter read once, undefined members left out),
 * and nobody can change it afterwards, so the two can never disagree.
 */
export function canonicalCopy<T>(value: T): { text: string; copy: T } {
  const text = serializeCopy(value, 0);
  const copy = copied as T;
  copied = undefined;
  return { text, copy };
}

/** JCS of a string, number, boolean or null (an envelope's scalar members); anything else is refused. */
export function canonicalScalar(value: unknown): string {
  return scalar(value);
}

const MAX_DEPTH = 256;
/** Strings JSON.stringify writes as `"…"` unchanged: no quote, backslash, control character or lone surrogate half. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

function tooDeep(): never {
  throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', 'value nests too deeply to canonicalize');
}

function scalar(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'number':
      if (!Number.isFinite(value)) throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', 'non-finite number cannot be canonicalized');
      return Object.is(value, -0) ? '0' : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      if (value === null) return 'null';
      throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', `a ${typeof value} cannot be canonicalized`);
  }
}

/** Up to this many members an insertion sort is used (about 3 times Array.prototype.sort on the handful an event holds); past it, quadratic time would let a large object stall a verifier. */
const SMALL = 16;

/** An object's own enumerable names in code-unit order. */
function sortedNames(record: object): string[] {
  const names = Object.keys(record);
  if (names.length > SMALL) return names.sort();
  for (let i = 1; i < names.length; i++) {
    const name = names[i]!;
    let j = i - 1;
    while (j >= 0 && names[j]! > name) {
      names[j + 1] = names[j]!;
      j--;
    }
    names[j + 1] = name;
  }
  return names;
}

function serialize(value: unknown, depth: number, omitted: string | null): string {
  if (depth > MAX_DEPTH) tooDeep();
  if (typeof value !== 'object' || value === null) return scalar(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + serialize(value[i], depth + 1, null);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const names = sortedNames(record);
  let out = '{';
  for (const name of names) {
    const member = record[name];
    if (member === undefined || name === omitted) continue;
    out += `${out.length === 1 ? '' : ','}${quote(name)}:${serialize(member, depth + 1, null)}`;
  }
  return `${out}}`;
}

/** The copy serializeCopy made of the value it last returned the text of (one walk yields both without a pair per value). */
let copied: unknown;

function serializeCopy(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) tooDeep();
  if (typeof value !== 'object' || value === null) {
    const text = scalar(value);
    copied = value;
    return text;
  }
  if (Array.isArray(value)) {
    // The length read once: an element getter that shrinks or grows the array cannot part the text from the copy.
    const length = value.length;
    const copy: unknown[] = new Array(length);
    let out = '[';
    for (let i = 0; i < length; i++) {
      out += (i === 0 ? '' : ',') + serializeCopy(value[i], depth + 1);
      copy[i] = copied;
    }
    copied = Object.freeze(copy);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // The copy keeps the original's member order (what JSON.stringify of it shows); the text is in JCS order.
  const names = Object.keys(record);
  const texts: string[] = [];
  const kept: string[] = [];
  const copy: Record<string, unknown> = {};
  for (const name of names) {
    const member = record[name];
    if (member === undefined) continue;
    texts.push(serializeCopy(member, depth + 1));
    kept.push(name);
    // A member named __proto__ is an own member, as JSON.parse makes it, never the copy's prototype.
    if (name === '__proto__') Object.defineProperty(copy, name, { value: copied, enumerable: true, writable: true, configurable: true });
    else copy[name] = copied;
  }
  sortPairs(kept, texts);
  let out = '{';
  for (let i = 0; i < kept.length; i++) out += `${i === 0 ? '' : ','}${quote(kept[i]!)}:${texts[i]!}`;
  copied = Object.freeze(copy);
  return `${out}}`;
}

/** Sorts `names` (distinct) in code-unit order and `texts` along with them. */
function sortPairs(names: string[], texts: string[]): void {
  if (names.length > SMALL) {
    const order = names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
    const [byName, byText] = [order.map((i) => names[i]!), order.map((i) => texts[i]!)];
    for (let i = 0; i < order.length; i++) [names[i], texts[i]] = [byName[i]!, byText[i]!];
    return;
  }
  for (let i = 1; i < names.length; i++) {
    const name = names[i]!;
    const text = texts[i]!;
    let j = i - 1;
    while (j >= 0 && names[j]! > name) {
      names[j + 1] = names[j]!;
      texts[j + 1] = texts[j]!;
      j--;
    }
    names[j + 1] = name;
    texts[j + 1] = text;
  }
}
