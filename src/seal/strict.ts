/**
 * Strict reading of the JSON parts of sealed submissions (key documents,
 * headers, inner parts, results, key files): strict UTF-8 and JSON, a closed
 * schema, and optionally the JCS form, each failure one stable code given by
 * the caller. Messages name members, never their values (they may be secret).
 */
import type { ErrorCode } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { canonicalize, decodeUtf8Strict, parseStrictJson, type Schema } from '../events/index.js';

export function refuse(code: ErrorCode, message: string, field?: string): never {
  throw new EphemeraError(code, message, field === undefined ? {} : { fields: { field } });
}

/**
 * Parses `bytes` as strict JSON of `schema`; `canonical` also requires the bytes to be the JCS form
 * of their value (one spelling per value: what is hashed is what was sent). `secret` bytes (a sealed
 * request's inner part) are refused in fixed words: a member name, a quoted character or a position
 * would tell whoever relays the answer something of the plaintext (the API key's length, say).
 */
export function readStrictJson<T>(
  bytes: Uint8Array,
  schema: Schema<T>,
  code: ErrorCode,
  what: string,
  options: { canonical?: boolean; secret?: boolean } = {},
): T {
  let text: string;
  let value: unknown;
  try {
    text = decodeUtf8Strict(bytes);
    value = parseStrictJson(text);
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    if (options.secret) refuse(code, `${what}: not strict JSON (${error.code})`, what);
    refuse(code, `${what}: ${error.code} ${error.message}`, typeof error.fields.field === 'string' ? error.fields.field : undefined);
  }
  const problem = schema.check(value, what);
  if (problem && options.secret) refuse(code, `${what}: not of its schema (${problem.kind})`, what);
  if (problem) refuse(code, `${problem.path}: ${problem.reason}`, problem.path);
  if (options.canonical && canonicalize(value) !== text) refuse(code, `${what}: not in its canonical form (RFC 8785)`, what);
  return value as T;
}
