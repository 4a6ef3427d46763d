/**
 * HTTP answers for errors. The statuses come from the registry
 * (error-codes.ts): every code with one, pinned by http-errors.unit.test.ts.
 * SECURITY: a 5xx answer carries only a fixed text per code, never the
 * error's own message; a 4xx message is ours (field path and reason), never
 * derived from the dataset.
 */
import { ERROR_REGISTRY, type ErrorCode } from './error-codes.js';

/** The codes the API answers with, and their statuses. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    (Object.entries(ERROR_REGISTRY) as [ErrorCode, { http: number | null }][])
      .filter(([, info]) => info.http !== null)
      .map(([code, info]) => [code, info.http!]),
  ),
);

const FIXED_5XX_MESSAGE: Record<number, string> = {
  500: 'internal error; no certificate was issued',
  503: 'a required component is unavailable; no certificate was issued',
};

/** 503s that are about load, not a broken part: their answer is the registry's own fixed words, which tell the caller to retry. */
const OVERLOAD_CODES: ReadonlySet<string> = new Set<ErrorCode>(['CAPACITY_EXHAUSTED', 'CAPACITY_QUEUE_TIMEOUT', 'SERVER_DRAINING']);

/** One problem of an invalid request: where, what is wrong in plain words, and its code. */
export interface ErrorProblem {
  path: string;
  message: string;
  code: string;
}

export interface ErrorBody {
  error: { code: string; message: string; field?: string; problems?: ErrorProblem[] };
}

/** Maps any thrown value to a status and a safe body. Unknown codes are 500. */
export function toHttpError(code: string, message: string, field?: string, problems?: readonly ErrorProblem[]): { status: number; body: ErrorBody } {
  const known = Object.hasOwn(HTTP_STATUS_BY_CODE, code);
  const status = known ? HTTP_STATUS_BY_CODE[code]! : 500;
  const safeCode = known ? code : 'INTERNAL';
  if (OVERLOAD_CODES.has(code)) return { status, body: { error: { code, message: ERROR_REGISTRY[code as ErrorCode].message } } };
  if (status >= 500) return { status, body: { error: { code: safeCode, message: FIXED_5XX_MESSAGE[status] ?? FIXED_5XX_MESSAGE[500]! } } };
  return { status, body: { error: { code, message, ...(field ? { field } : {}), ...(problems ? { problems: problems.map((p) => ({ ...p })) } : {}) } } };
}

export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        field: { type: 'string' },
        problems: {
          type: 'array',
          description: 'REQUEST_INVALID: every problem found (at most 20), each with its field path and plain words',
          items: {
            type: 'object',
            required: ['path', 'message', 'code'],
            properties: { path: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;
