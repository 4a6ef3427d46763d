/**
 * The strict reader's rules for a document that arrives already parsed (an
 * object handed to verifyCertificate by code, not text): only plain objects,
 * arrays, finite numbers, booleans, null and well-formed strings, within the
 * same depth and string bounds (docs/verification.md §2). Duplicate names and
 * number spellings exist only in text; text goes through strict-json.ts.
 */
import type { ErrorCode } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { isPlainObject, type JsonLimits } from '../events/index.js';

export function checkJsonValue(value: unknown, limits: JsonLimits, path = '', depth = 0): void {
  check(value, limits, path === '' ? [] : [path], depth);
}

/**
 * `at`: the member names and indexes down to `value`, made into a path only
 * when something fails (a path string per value cost more than the checks on
 * a certificate of many events).
 */
function check(value: unknown, limits: JsonLimits, at: (string | number)[], depth: number): void {
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxStringLength) fail(at, 'JSON_STRING_TOO_LONG', `a string of ${value.length} characters (at most ${limits.maxStringLength})`);
      if (!value.isWellFormed()) fail(at, 'JSON_UNPAIRED_SURROGATE', 'a string with an unpaired surrogate');
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(at, 'JSON_SYNTAX', 'not a finite number');
      return;
    case 'boolean':
      return;
    case 'object': {
      if (value === null) return;
      if (depth + 1 > limits.maxDepth) fail(at, 'JSON_TOO_DEEP', `nested deeper than ${limits.maxDepth}`);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          at.push(i);
          check(value[i], limits, at, depth + 1);
          at.pop();
        }
        return;
      }
      if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) fail(at, 'JSON_SYNTAX', 'not a plain JSON object');
      for (const key of Object.keys(value)) {
        if (!key.isWellFormed()) fail(at, 'JSON_UNPAIRED_SURROGATE', 'a member name with an unpaired surrogate');
        at.push(key);
        check((value as Record<string, unknown>)[key], limits, at, depth + 1);
        at.pop();
      }
      return;
    }
    default:
      fail(at, 'JSON_SYNTAX', `a ${typeof value} is not JSON`);
  }
}

function fail(at: readonly (string | number)[], code: ErrorCode, why: string): never {
  let path = '';
  for (const step of at) path += typeof step === 'number' ? `[${step}]` : path === '' ? step : `.${step}`;
  const where = path || '(document)';
  throw new EphemeraError(code, `${where}: ${why}`, { fields: { field: where } });
}
