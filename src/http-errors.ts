/**
 * The error-code registry: every code the API can answer with, and its HTTP
 * status. Pinned by http-errors.unit.test.ts. SECURITY: a 5xx answer carries
 * only a fixed text per code, never the error's own message; a 4xx message is
 * ours (field path and reason), never derived from the dataset.
 */
export const HTTP_STATUS_BY_CODE = {
  REQUEST_INVALID: 400,
  AUTH_REQUIRED: 401,
  REQUEST_MALFORMED_JSON: 400,
  REQUEST_FORBIDDEN_KEY: 400,
  REQUEST_TOO_DEEP: 400,
  REQUEST_UNSUPPORTED_MEDIA_TYPE: 415,
  REQUEST_BODY_TOO_LARGE: 413,
  DATASET_TOO_LARGE: 413,
  DATASET_INVALID_BASE64: 400,
  DATASET_EMPTY: 400,
  DATASET_FETCH_FAILED: 422,
  CERTIFICATE_ID_INVALID: 400,
  CERTIFICATE_NOT_FOUND: 404,
  NOT_FOUND: 404,
  SANDBOX_BWRAP_MISSING: 503,
  SANDBOX_NAMESPACES_UNAVAILABLE: 503,
  SANDBOX_LIMIT_UNAVAILABLE: 503,
  LOG_UNAVAILABLE: 503,
  LOG_APPEND_FAILED: 503,
  ATTEST_UNAVAILABLE: 503,
  PROJECTIONS_UNAVAILABLE: 503,
  /** The executor's own verification of the certificate it built failed: none was issued (the events say why). */
  CERTIFICATE_REJECTED: 500,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type HttpErrorCode = keyof typeof HTTP_STATUS_BY_CODE;

const FIXED_5XX_MESSAGE: Record<number, string> = {
  500: 'internal error; no certificate was issued',
  503: 'a required component is unavailable; no certificate was issued',
};

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** Maps any thrown value to a status and a safe body. Unknown codes are 500. */
export function toHttpError(code: string, message: string, field?: string): { status: number; body: ErrorBody } {
  const status = (HTTP_STATUS_BY_CODE as Record<string, number>)[code] ?? 500;
  const safeCode = status === 500 && !(code in HTTP_STATUS_BY_CODE) ? 'INTERNAL' : code;
  if (status >= 500) return { status, body: { error: { code: safeCode, message: FIXED_5XX_MESSAGE[status] ?? FIXED_5XX_MESSAGE[500]! } } };
  return { status, body: { error: { code, message, ...(field ? { field } : {}) } } };
}

export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
    },
  },
} as const;
