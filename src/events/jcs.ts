/**
 * RFC 8785 JSON Canonicalization Scheme (https://www.rfc-editor.org/rfc/rfc8785).
 *
 * - Object members sorted by their names as arrays of UTF-16 code units (§3.2.3):
 *   JavaScript's default string comparison is exactly that.
 * - Strings serialized as ECMAScript JSON.stringify does (§3.2.2.2).
 * - Numbers serialized as ECMAScript Number.prototype.toString (§3.2.2.3);
 *   NaN and Infinity are not JSON and are rejected.
 * Members whose value is undefined are left out (they are absent in JSON).
 * Written as one pass of string appends: a verifier canonicalizes every event
 * (docs/verification.md §5), so this is on its hottest path.
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

const MAX_DEPTH = 256;
/** Member names recur (every event has the same few): their JSON spelling is kept, up to a bound. */
const quotedNames = new Map<string, string>();
const PLAIN_NAME = /^[A-Za-z0-9_.-]*$/;

function quoteName(name: string): string {
  let quoted = quotedNames.get(name);
  if (quoted === undefined) {
    quoted = PLAIN_NAME.test(name) ? `"${name}"` : JSON.stringify(name);
    if (quotedNames.size < 4096) quotedNames.set(name, quoted);
  }
  return quoted;
}

function serialize(value: unknown, depth: number, omitted: string | null): string {
  if (depth > MAX_DEPTH) throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', 'value nests too deeply to canonicalize');
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', 'non-finite number cannot be canonicalized');
      return Object.is(value, -0) ? '0' : String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + serialize(value[i], depth + 1, null);
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const names = Object.keys(record).sort();
      let out = '{';
      let first = true;
      for (const name of names) {
        const member = record[name];
        if (member === undefined || name === omitted) continue;
        out += `${first ? '' : ','}${quoteName(name)}:${serialize(member, depth + 1, null)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', `a ${typeof value} cannot be canonicalized`);
  }
}
