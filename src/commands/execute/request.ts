/**
 * Validates an execute request, for the route (validateExecuteBody) and
 * outside HTTP (CLI, tests: parseExecuteRequest), with one schema and one set
 * of rules. An invalid request is REQUEST_INVALID with every problem listed
 * (at most MAX_PROBLEMS), each with its field path and plain words; never the
 * value (it may be dataset text).
 *
 * SECURITY: Ajv with `allErrors` keeps validating past a failed `maxItems` or
 * `maxProperties`, so a hostile body of a million items would cost a million
 * errors. A request is first checked fail-fast; only a failing one that holds
 * at most ALL_ERRORS_MAX_VALUES values is checked again for all its problems.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { EphemeraError } from '../../errors.js';
import { executeRequestSchema, type ExecuteRequest } from './request-schema.js';
import { MAX_PROBLEMS, problemsFrom, type RequestProblem } from './problems.js';
import { ruleProblems } from './request-rules.js';
import { SEALED_REQUEST_CONTENT_TYPE } from '../../seal/index.js';

/** Ajv options shared with fastify's validator: strict, no coercion, nothing removed. */
export const AJV_OPTIONS = { allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false, strict: false } as const;

/** A valid request holds about 120 values (64 scripts, 8 tools, 16 hosts, the limits): room for mistakes, bounded for attacks. */
export const ALL_ERRORS_MAX_VALUES = 2000;

const failFast = new Ajv(AJV_OPTIONS).compile<ExecuteRequest>(executeRequestSchema);
const everyError = new Ajv({ ...AJV_OPTIONS, allErrors: true, verbose: true }).compile(executeRequestSchema);

/** Counts JSON values in `value`, stopping once past `limit`. */
function valuesWithin(value: unknown, limit: number): boolean {
  let left = limit;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    if (--left < 0) return false;
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...v.slice(0, left + 1));
    else if (v !== null && typeof v === 'object') for (const key of Object.keys(v).slice(0, left + 1)) stack.push((v as Record<string, unknown>)[key]);
  }
  return true;
}

/** Every problem of `body` (schema and rules), or none. */
export function requestProblems(body: unknown): RequestProblem[] {
  let problems: RequestProblem[];
  if (failFast(body)) problems = [];
  else if (valuesWithin(body, ALL_ERRORS_MAX_VALUES)) {
    everyError(body);
    problems = problemsFrom(everyError.errors ?? [], body);
  } else problems = problemsFrom(failFast.errors ?? [], body);
  const seen = new Set(problems.map((p) => p.path));
  // A rule's problem about a field the schema already faults would only repeat it.
  problems.push(...ruleProblems(body).filter((p) => !seen.has(p.path)));
  return problems.slice(0, MAX_PROBLEMS);
}

export function parseExecuteRequest(body: unknown): ExecuteRequest {
  const problems = requestProblems(body);
  if (problems.length > 0) throw requestInvalid(problems);
  return body as ExecuteRequest;
}

/** The route's body validator: the same problems, as the error the app answers with. */
export function validateExecuteBody(body: unknown): true | { error: EphemeraError } {
  const problems = requestProblems(body);
  return problems.length === 0 ? true : { error: requestInvalid(problems) };
}

/** A sealed body is bytes: its framing, header and opened parts are checked when it is opened (sealed-request.ts). */
const sealedBytes = (body: unknown): true | { error: EphemeraError } =>
  body instanceof Uint8Array ? true : { error: new EphemeraError('SEALED_REQUEST_MALFORMED', 'a sealed request is a binary body') };

/**
 * The route's fastify `validatorCompiler`: a JSON body as above, a sealed one as bytes; any other part (headers, say)
 * as fastify would, fail-fast.
 */
export function executeValidatorCompiler({ schema, httpPart, contentType }: { schema: object; httpPart?: string; contentType?: string }) {
  if (httpPart !== 'body') return new Ajv(AJV_OPTIONS).compile(schema);
  return contentType === SEALED_REQUEST_CONTENT_TYPE ? sealedBytes : validateExecuteBody;
}

/** REQUEST_INVALID listing `problems`; `field` is the first one's path (under `body.` for a body). */
export function requestInvalid(problems: readonly RequestProblem[], root = 'body'): EphemeraError {
  const list = problems.length > 0 ? problems : [{ path: '(request)', message: 'is not valid', code: 'REQUEST_INVALID' as const }];
  const lines = list.map((p) => `${p.path}: ${p.message}`);
  const message = list.length === 1 ? lines[0]! : `${list.length} problems: ${lines.join('; ')}`;
  const first = list[0]!.path;
  return new EphemeraError('REQUEST_INVALID', message, {
    fields: { field: root === '' || first.startsWith(`${root}.`) ? first : `${root}.${first}`, problems: list.map((p) => ({ ...p })) },
  });
}

/** REQUEST_INVALID for fastify's own validation of another part of a request (`params`, `querystring`). */
export function partInvalid(errors: readonly ErrorObject[], part: string, value: unknown): EphemeraError {
  return requestInvalid(problemsFrom(errors, value, part).slice(0, MAX_PROBLEMS), '');
}
