/** GET /certificates: search and browse the certificate index. */
import type { FastifyPluginAsync } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorResponses } from '../../openapi.js';
import type { ReadModel } from '../read-model.js';
import { EXECUTOR_PATTERN, MAX_PAGE, RFC3339, SORTS, type SearchQuery } from './query.js';
import { searchCertificates } from './search.js';

const hash = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;

export const searchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: {
      type: 'string',
      enum: ['completed', 'failed', 'aborted', 'running', 'abandoned'],
      description: 'running: open, its executor within its lease; abandoned: open, its executor silent past the lease (never certified)',
    },
    executor: {
      type: 'string',
      maxLength: 140,
      pattern: EXECUTOR_PATTERN.source,
      description: 'who ran it: a key fingerprint sha256:…, or compose:…/mrtd:… (dstack)',
    },
    input: { type: 'string', enum: ['plain', 'sealed'], description: "how the input arrived: sealed to the executor's key, or plain (docs/sealed.md)" },
    result: { type: 'string', enum: ['clear', 'sealed'], description: 'whether the result is sealed to its owner (docs/sealed.md §5)' },
    model: { type: 'string', maxLength: 128 },
    tool: { type: 'string', maxLength: 256 },
    dataset_hash: hash,
    sandbox_hash: hash,
    fingerprint: hash,
    from: { type: 'string', maxLength: 40, pattern: RFC3339, description: 'requested at or after, RFC 3339 (inclusive)' },
    to: { type: 'string', maxLength: 40, pattern: RFC3339, description: 'requested before, RFC 3339 (exclusive)' },
    q: { type: 'string', maxLength: 200, description: 'text in the result preview (case-insensitive)' },
    sort: { type: 'string', enum: Object.keys(SORTS) },
    order: { type: 'string', enum: ['asc', 'desc'] },
    // Query strings are text and this API never coerces types: a page size is digits, range-checked below.
    limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: `page size, 1…${MAX_PAGE} (default 20)` },
    cursor: { type: 'string', maxLength: 512 },
  },
} as const;

const time = { type: 'string', format: 'date-time', description: 'RFC 3339 UTC' } as const;

const rowProperties = {
  certificate_id: { type: 'string' },
  status: { type: 'string', enum: ['completed', 'failed', 'aborted', 'running', 'abandoned'] },
  executor: {
    type: ['string', 'null'],
    description: 'who ran it: the simulated key fingerprint (sha256:…), or the dstack build (compose:…, else mrtd:…); null when the stream does not say',
  },
  input: { type: 'string', enum: ['plain', 'sealed'], description: "how the input arrived (the certificate's dataset.submission)" },
  result_sealed: { type: 'boolean', description: 'the result is sealed to its owner: the preview is empty' },
  requested_at: time,
  sealed_at: { type: ['string', 'null'], format: 'date-time', description: 'RFC 3339 UTC; null when the run was never sealed (aborted)' },
  dataset_hash: { type: 'string' },
  sandbox_hash: { type: 'string' },
  fingerprint: { type: 'string' },
  models: { type: 'array', items: { type: 'string' } },
  tools: { type: 'array', items: { type: 'string' } },
  llm_calls: { type: 'integer' },
  input_tokens: { type: 'integer' },
  output_tokens: { type: 'integer' },
  tool_calls: { type: 'integer' },
  execution_time_ms: {
    type: ['integer', 'null'],
    description: "the certificate's lifecycle.execution_time_ms: wall time from the accepted request to the run's outcome; null when the run never finished",
  },
  exit_code: { type: ['integer', 'null'] },
  error_code: { type: ['string', 'null'], description: 'why the run failed (docs/errors.md); null when it did not' },
  tee: { type: ['string', 'null'], description: 'the attestation type (simulated, tdx); null when never sealed' },
  result_preview: { type: 'string', description: 'the first 512 characters of the result output' },
} as const;

const rowSchema = { type: 'object', additionalProperties: false, required: Object.keys(rowProperties), properties: rowProperties } as const;

export function searchRoutes(readModel: ReadModel): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: Omit<SearchQuery, 'limit'> & { limit?: string } }>(
      '/certificates',
      {
        schema: {
          summary: 'Search and browse certificates',
          description: 'Keyset pagination: pass `next_cursor` back as `cursor` with the same sort and order.',
          tags: ['search'],
          querystring: searchQuerySchema,
          response: {
            200: {
              description: 'One page of certificates',
              type: 'object',
              additionalProperties: false,
              required: ['items', 'next_cursor'],
              properties: { items: { type: 'array', items: rowSchema }, next_cursor: { type: ['string', 'null'] } },
            },
            ...errorResponses(400, 500, 503),
          },
        },
      },
      async (request) => {
        const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
        if (limit !== undefined && (limit < 1 || limit > MAX_PAGE)) {
          throw new EphemeraError('REQUEST_INVALID', `querystring.limit: must be 1…${MAX_PAGE}`, { fields: { field: 'querystring.limit' } });
        }
        return readModel.query((store) => searchCertificates(store, { ...request.query, limit }, { now: Date.now(), leaseMs: readModel.leaseMs }));
      },
    );
  };
}
