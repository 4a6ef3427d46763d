/** GET /analytics/*: figures over every certificate, from the ClickHouse projections. */
import type { FastifyPluginAsync } from 'fastify';
import { errorBodySchema } from '../../http-errors.js';
import type { ReadModel } from '../read-model.js';
import type { Store } from '../store/clickhouse.js';
import { durationPercentiles, executionsPerDay, failureReasons, tokensByModel, toolUsage } from './queries.js';

const list = (properties: Record<string, unknown>) => ({ type: 'object', properties: { items: { type: 'array', items: { type: 'object', properties } } } });
const int = { type: 'integer' };
const str = { type: 'string' };

const ROUTES: Record<string, { query: (store: Store) => Promise<unknown>; schema: Record<string, unknown>; wrap: boolean }> = {
  '/analytics/executions-per-day': { query: executionsPerDay, schema: list({ day: str, executions: int, completed: int, failed: int, aborted: int }), wrap: true },
  '/analytics/tokens-by-model': { query: tokensByModel, schema: list({ model: str, calls: int, input_tokens: int, output_tokens: int }), wrap: true },
  '/analytics/tool-usage': { query: toolUsage, schema: list({ tool: str, caller: str, calls: int, failures: int, duration_ms: int }), wrap: true },
  '/analytics/durations': { query: durationPercentiles, schema: { type: 'object', properties: { executions: int, p50_ms: int, p95_ms: int, p99_ms: int } }, wrap: false },
  '/analytics/failures': { query: failureReasons, schema: list({ error_code: str, executions: int }), wrap: true },
};

export function analyticsRoutes(readModel: ReadModel): FastifyPluginAsync {
  return async (app) => {
    for (const [url, route] of Object.entries(ROUTES)) {
      app.get(url, { schema: { response: { 200: route.schema, 503: errorBodySchema } } }, async () => {
        await readModel.refresh();
        const result = await route.query(await readModel.store());
        return route.wrap ? { items: result } : result;
      });
    }
  };
}
