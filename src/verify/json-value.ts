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
  const where = path || '(document)';
  const fail = (code: ErrorCode, why: string): never => {
    throw new EphemeraError(code, `${where}: ${why}`, { fields: { field: where } });
  };
  switch (typeof value) {
    case 'string':
      if (value.length > limits.maxStringLength) fail('JSON_STRING_TOO_LONG', `a string of ${value.length} characters (at most ${limits.maxStringLength})`);
      if (!value.isWellFormed()) fail('JSON_UNPAIRED_SURROGATE', 'a string with an unpaired surrogate');
      return;
    case 'number':
      if (!Number.isFinite(value)) fail('JSON_SYNTAX', 'not a finite number');
      return;
    case 'boolean':
      return;
    case 'object': {
      if (value === null) return;
      if (depth + 1 > limits.maxDepth) fail('JSON_TOO_DEEP', `nested deeper than ${limits.maxDepth}`);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) checkJsonValue(value[i], limits, `${path}[${i}]`, depth + 1);
        return;
      }
      if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) fail('JSON_SYNTAX', 'not a plain JSON object');
      for (const key of Object.keys(value)) {
        if (!key.isWellFormed()) fail('JSON_UNPAIRED_SURROGATE', 'a member name with an unpaired surrogate');
        checkJsonValue((value as Record<string, unknown>)[key], limits, path ? `${path}.${key}` : key, depth + 1);
      }
      return;
    }
    default:
      fail('JSON_SYNTAX', `a ${typeof value} is not JSON`);
  }
}
