/**
 * RFC 8785 JSON Canonicalization Scheme (https://www.rfc-editor.org/rfc/rfc8785).
 *
 * - Object members sorted by their names as arrays of UTF-16 code units (§3.2.3):
 *   JavaScript's default string comparison is exactly that.
 * - Strings serialized as ECMAScript JSON.stringify does (§3.2.2.2).
 * - Numbers serialized as ECMAScript Number.prototype.toString (§3.2.2.3);
 *   NaN and Infinity are not JSON and are rejected.
 * Isomorphic: no Node-only API.
 */
import { EphemeraError } from '../errors.js';

export function canonicalize(value: unknown): string {
  return serialize(value, 0);
}

const MAX_DEPTH = 256;

function serialize(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', 'value nests too deeply to canonicalize');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', 'non-finite number cannot be canonicalized');
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map((item) => serialize(item, depth + 1)).join(',')}]`;
      const entries = Object.keys(value as object)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${serialize((value as Record<string, unknown>)[key], depth + 1)}`);
      return `{${entries.join(',')}}`;
    }
    default:
      throw new EphemeraError('EVENTS_NOT_CANONICALIZABLE', `a ${typeof value} cannot be canonicalized`);
  }
}
