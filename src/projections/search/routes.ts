/** GET /certificates: search and browse the certificate index. */
import type { FastifyPluginAsync } from 'fastify';
import { EphemeraError } from '../../errors.js';
import { errorBodySchema } from '../../http-errors.js';
import type { ReadModel } from '../read-model.js';
import { MAX_PAGE, RFC3339, SORTS, searchCertificates, type SearchQuery } from './search.js';

const hash = { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } as const;

export const searchQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['completed', 'failed', 'aborted'] },
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

const rowProperties = {
  certificate_id: { type: 'string' },
  status: { type: 'string' },
  requested_at: { type: 'string', description: 'UTC, YYYY-MM-DD hh:mm:ss.sss' },
  sealed_at: { type: ['string', 'null'] },
  dataset_hash: { type: 'string' },
  sandbox_hash: { type: 'string' },
  fingerprint: { type: 'string' },
  models: { type: 'array', items: { type: 'string' } },
  tools: { type: 'array', items: { type: 'string' } },
  llm_calls: { type: 'integer' },
  input_tokens: { type: 'integer' },
  output_tokens: { type: 'integer' },
  tool_calls: { type: 'integer' },
  duration_ms: { type: 'integer' },
  exit_code: { type: ['integer', 'null'] },
  error_code: { type: 'string' },
  tee: { type: 'string' },
  result_preview: { type: 'string', description: 'the first 512 characters of the result output' },
} as const;

const rowSchema = { type: 'object', additionalProperties: false, required: Object.keys(rowProperties), properties: rowProperties } as const;

export function searchRoutes(readModel: ReadModel): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: Omit<SearchQuery, 'limit'> & { limit?: string } }>(
      '/certificates',
      {
        schema: {
          querystring: searchQuerySchema,
          response: {
            200: {
              type: 'object',
              additionalProperties: false,
              required: ['items', 'next_cursor'],
              properties: { items: { type: 'array', items: rowSchema }, next_cursor: { type: ['string', 'null'] } },
            },
            400: errorBodySchema,
            503: errorBodySchema,
          },
        },
      },
      async (request) => {
        const limit = request.query.limit === undefined ? undefined : Number(request.query.limit);
        if (limit !== undefined && (limit < 1 || limit > MAX_PAGE)) {
          throw new EphemeraError('REQUEST_INVALID', `querystring.limit: must be 1…${MAX_PAGE}`, { fields: { field: 'querystring.limit' } });
        }
        return readModel.query((store) => searchCertificates(store, { ...request.query, limit }));
      },
    );
  };
}
