/**
 * The OpenAPI description's shared parts: the document's header, the execute
 * token's security scheme, and the error responses routes declare. Every
 * response a route declares carries a description: @fastify/swagger writes
 * the placeholder "Default Response" for any that lacks one
 * (openapi.int.test.ts fails on it).
 */
import { errorBodySchema } from './http-errors.js';

/** The security scheme POST /execute requires when EPHEMERA_EXECUTE_TOKEN is set. */
export const EXECUTE_TOKEN_SCHEME = 'executeToken';

export const OPENAPI_DOCUMENT = {
  openapi: '3.0.3',
  info: {
    title: 'Ephemera',
    version: '1',
    description:
      'Verifiable one-time computation over private data: run once, delete, keep the proof. ' +
      'Every time is RFC 3339 UTC; `execution_time_ms` is the run\'s wall time from the accepted request to its outcome (execution.completed or execution.failed); "none" is null.',
  },
  tags: [
    { name: 'execute', description: 'Run once and certify' },
    { name: 'executions', description: 'Where a run stands, and its events as they happen' },
    { name: 'certificates', description: 'Certificates, their events and their verification' },
    { name: 'search', description: 'The certificate index (ClickHouse projections)' },
    { name: 'analytics', description: 'Figures over every certificate (ClickHouse projections)' },
    { name: 'operations', description: 'Liveness and readiness for orchestrators' },
    { name: 'transparency', description: 'The transparency log of every certificate: C2SP checkpoints and tiles, proofs, history' },
  ],
  components: {
    securitySchemes: {
      [EXECUTE_TOKEN_SCHEME]: {
        type: 'http' as const,
        scheme: 'bearer',
        description: 'EPHEMERA_EXECUTE_TOKEN, as `Authorization: Bearer <token>`; required by POST /execute when the server sets it',
      },
    },
  },
};

const ERROR_DESCRIPTIONS = {
  400: 'The request is invalid: `error.code` says why, `error.field` where',
  401: 'The execute token is missing or wrong (AUTH_REQUIRED)',
  404: 'No such certificate or execution (CERTIFICATE_NOT_FOUND, EXECUTION_NOT_FOUND)',
  413: 'The body or the dataset is larger than the server accepts',
  415: 'The body is not application/json (REQUEST_UNSUPPORTED_MEDIA_TYPE)',
  422: 'The dataset could not be loaded',
  500: 'Internal error: a fixed message, nothing of the request echoed; no certificate was issued',
  503: 'A component this route needs (log, projections, attestor, sandbox) is unavailable, or this node is at a limit (then with Retry-After)',
} as const;

export type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

/** The error body (docs/errors.md) under each status, described. */
export function errorResponses(...statuses: ErrorStatus[]): Record<number, Record<string, unknown>> {
  return Object.fromEntries(statuses.map((status) => [status, { ...errorBodySchema, description: ERROR_DESCRIPTIONS[status] }]));
}

/** `execution_time_ms`, one meaning everywhere it appears. */
export const EXECUTION_TIME_MS = {
  type: ['integer', 'null'],
  description:
    "wall time from the accepted request to the run's outcome (the duration_ms execution.completed/failed commits); null when the run never finished",
} as const;

const STEP_TIME = { type: ['string', 'null'], description: 'RFC 3339 UTC, as the event committed it; null when the step did not happen' } as const;

/** A certificate's `lifecycle`: when each step happened, and execution_time_ms. */
export const LIFECYCLE_TIMES = {
  type: 'object',
  additionalProperties: true,
  properties: {
    requested: STEP_TIME,
    dataset_loaded: STEP_TIME,
    execution_started: STEP_TIME,
    execution_completed: STEP_TIME,
    dataset_deleted: STEP_TIME,
    sandbox_destroyed: STEP_TIME,
    sealed: STEP_TIME,
    execution_time_ms: EXECUTION_TIME_MS,
  },
} as const;
