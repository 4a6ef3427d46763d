/**
 * Validates an execute request outside HTTP (CLI, tests) with the same schema
 * and Ajv settings the route uses. Errors name the field path and never echo
 * the value (it may be dataset text).
 */
import { Ajv, type ErrorObject } from 'ajv';
import { EphemeraError } from '../../errors.js';
import { executeRequestSchema, type ExecuteRequest } from './request-schema.js';

/** Ajv options shared with fastify's validator: strict, no coercion, nothing removed. */
export const AJV_OPTIONS = { allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false } as const;

const validate = new Ajv(AJV_OPTIONS).compile<ExecuteRequest>(executeRequestSchema);

export function parseExecuteRequest(body: unknown): ExecuteRequest {
  if (!validate(body)) throw requestInvalid(validate.errors ?? [], 'body');
  return body;
}

export function requestInvalid(errors: readonly ErrorObject[], root: string): EphemeraError {
  const e = errors[0];
  const pointer = e ? e.instancePath.split('/').slice(1).map(decodeURIComponent) : [];
  if (e?.keyword === 'additionalProperties') pointer.push(String(e.params.additionalProperty));
  if (e?.keyword === 'required') pointer.push(String(e.params.missingProperty));
  const field = [root, ...pointer].join('.');
  const reason = e?.keyword === 'additionalProperties' ? 'unknown field' : (e?.message ?? 'invalid');
  return new EphemeraError('REQUEST_INVALID', `${field}: ${reason}`, { fields: { field } });
}
