/** Analytics over the projections (ClickHouse), each one query with bound parameters. */
import { rows, type Store } from '../store/clickhouse.js';

const num = (v: unknown) => Number(v);

export async function executionsPerDay(store: Store) {
  return (await rows<Record<string, unknown>>(store, `SELECT toString(toDate(requested_at)) AS day, count() AS executions, countIf(status = 'completed') AS completed, countIf(status = 'failed') AS failed, countIf(status = 'aborted') AS aborted
    FROM certificates FINAL GROUP BY day ORDER BY day`)).map((r) => ({ day: String(r.day), executions: num(r.executions), completed: num(r.completed), failed: num(r.failed), aborted: num(r.aborted) }));
}

export async function tokensByModel(store: Store) {
  return (await rows<Record<string, unknown>>(store, 'SELECT model, sum(calls) AS calls, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens FROM model_uses FINAL GROUP BY model ORDER BY model'))
    .map((r) => ({ model: String(r.model), calls: num(r.calls), input_tokens: num(r.input_tokens), output_tokens: num(r.output_tokens) }));
}

export async function toolUsage(store: Store) {
  return (await rows<Record<string, unknown>>(store, 'SELECT tool, caller, sum(calls) AS calls, sum(failures) AS failures, sum(duration_ms) AS duration_ms FROM tool_uses FINAL GROUP BY tool, caller ORDER BY calls DESC, tool'))
    .map((r) => ({ tool: String(r.tool), caller: String(r.caller), calls: num(r.calls), failures: num(r.failures), duration_ms: num(r.duration_ms) }));
}

/** Exact percentiles of execution duration over finished runs. */
export async function durationPercentiles(store: Store) {
  const [r] = await rows<{ n: string; q: number[] }>(store, "SELECT count() AS n, quantilesExactLow(0.5, 0.95, 0.99)(duration_ms) AS q FROM certificates FINAL WHERE status IN ('completed', 'failed')");
  const q = r?.q ?? [0, 0, 0];
  return { executions: num(r?.n ?? 0), p50_ms: num(q[0] ?? 0), p95_ms: num(q[1] ?? 0), p99_ms: num(q[2] ?? 0) };
}

export async function failureReasons(store: Store) {
  return (await rows<Record<string, unknown>>(store, "SELECT error_code, count() AS executions FROM certificates FINAL WHERE status = 'failed' GROUP BY error_code ORDER BY executions DESC, error_code"))
    .map((r) => ({ error_code: String(r.error_code), executions: num(r.executions) }));
}
