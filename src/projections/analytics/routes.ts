/** GET /analytics/*: figures over every certificate, from the ClickHouse projections, optionally within [from, to). */
import type { FastifyPluginAsync } from 'fastify';
import { errorResponses } from '../../openapi.js';
import type { ReadModel } from '../read-model.js';
import type { Store } from '../store/clickhouse.js';
import { chTime } from '../projector.js';
import { isoOrThrow, RFC3339 } from '../search/query.js';
import { durationPercentiles, executionsPerDay, failureReasons, tokensByModel, toolUsage, type TimeRange } from './queries.js';

const object = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });
const list = (properties: Record<string, unknown>) => object({ items: { type: 'array', items: object(properties) } });
const described = (description: string, schema: Record<string, unknown>) => ({ description, ...schema });
const int = { type: 'integer' };
const str = { type: 'string' };
const ms = (description: string) => ({ type: 'integer', description });

export const analyticsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    from: { type: 'string', maxLength: 40, pattern: RFC3339, description: 'runs requested at or after, RFC 3339 (inclusive)' },
    to: { type: 'string', maxLength: 40, pattern: RFC3339, description: 'runs requested before, RFC 3339 (exclusive)' },
  },
} as const;

const ROUTES: Record<string, { query: (store: Store, range: TimeRange) => Promise<unknown>; schema: Record<string, unknown>; wrap: boolean; summary: string }> =
  {
    '/analytics/executions-per-day': {
      query: executionsPerDay,
      schema: described(
        'One row per UTC day with runs',
        list({ day: { type: 'string', format: 'date', description: 'RFC 3339 full-date, UTC' }, executions: int, completed: int, failed: int, aborted: int }),
      ),
      wrap: true,
      summary: 'Runs per UTC day, by outcome',
    },
    '/analytics/tokens-by-model': {
      query: tokensByModel,
      schema: described('One row per model', list({ model: str, calls: int, input_tokens: int, output_tokens: int })),
      wrap: true,
      summary: 'LLM calls and tokens per model',
    },
    '/analytics/tool-usage': {
      query: toolUsage,
      schema: described(
        'One row per tool and caller',
        list({
          tool: str,
          caller: str,
          calls: int,
          failures: int,
          duration_ms: ms("the tool calls' summed wall time (tool.completed duration_ms), not a run's"),
        }),
      ),
      wrap: true,
      summary: 'Tool calls, failures and time per tool and caller',
    },
    '/analytics/durations': {
      query: durationPercentiles,
      schema: described(
        'Percentiles of execution_time_ms (0 when no run finished)',
        object({ executions: int, p50_ms: ms('p50 of execution_time_ms'), p95_ms: ms('p95 of execution_time_ms'), p99_ms: ms('p99 of execution_time_ms') }),
      ),
      wrap: false,
      summary: 'Exact p50/p95/p99 of execution_time_ms (finished runs)',
    },
    '/analytics/failures': {
      query: failureReasons,
      schema: described('One row per error code', list({ error_code: str, executions: int })),
      wrap: true,
      summary: 'Failed runs per error code',
    },
  };

export function analyticsRoutes(readModel: ReadModel): FastifyPluginAsync {
  return async (app) => {
    for (const [url, route] of Object.entries(ROUTES)) {
      app.get<{ Querystring: { from?: string; to?: string } }>(
        url,
        {
          schema: {
            summary: route.summary,
            tags: ['analytics'],
            querystring: analyticsQuerySchema,
            response: { 200: route.schema, ...errorResponses(400, 500, 503) },
          },
        },
        async (request) => {
          const { from, to } = request.query;
          const range: TimeRange = {
            ...(from === undefined ? {} : { from: chTime(isoOrThrow(from, 'from')) }),
            ...(to === undefined ? {} : { to: chTime(isoOrThrow(to, 'to')) }),
          };
          const result = await readModel.query((store) => route.query(store, range));
          return route.wrap ? { items: result } : result;
        },
      );
    }
  };
}
