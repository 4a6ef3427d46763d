/**
 * Analytics over the projections (ClickHouse), each one query with bound
 * parameters, optionally limited to runs requested in [from, to).
 */
import { rows, type Store } from '../store/clickhouse.js';

export interface TimeRange {
  /** ClickHouse DateTime64(3) text (`chTime`), inclusive. */
  from?: string;
  /** Exclusive. */
  to?: string;
}

const num = (v: unknown) => Number(v);

/** The WHERE clause for a range plus fixed conditions; only bound values vary. */
function where(range: TimeRange, ...fixed: string[]): { sql: string; params: Record<string, string> } {
  const clauses = [...fixed];
  const params: Record<string, string> = {};
  if (range.from !== undefined) clauses.push("requested_at >= {from:DateTime64(3, 'UTC')}"), (params.from = range.from);
  if (range.to !== undefined) clauses.push("requested_at < {to:DateTime64(3, 'UTC')}"), (params.to = range.to);
  return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export async function executionsPerDay(store: Store, range: TimeRange = {}) {
  const w = where(range);
  return (
    await rows<Record<string, unknown>>(
      store,
      `SELECT toString(toDate(requested_at)) AS day, count() AS executions, countIf(status = 'completed') AS completed, countIf(status = 'failed') AS failed, countIf(status = 'aborted') AS aborted
    FROM certificates FINAL ${w.sql} GROUP BY day ORDER BY day`,
      w.params,
    )
  ).map((r) => ({ day: String(r.day), executions: num(r.executions), completed: num(r.completed), failed: num(r.failed), aborted: num(r.aborted) }));
}

export async function tokensByModel(store: Store, range: TimeRange = {}) {
  const w = where(range);
  return (
    await rows<Record<string, unknown>>(
      store,
      `SELECT model, sum(calls) AS calls, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens FROM model_uses FINAL ${w.sql} GROUP BY model ORDER BY model`,
      w.params,
    )
  ).map((r) => ({ model: String(r.model), calls: num(r.calls), input_tokens: num(r.input_tokens), output_tokens: num(r.output_tokens) }));
}

export async function toolUsage(store: Store, range: TimeRange = {}) {
  const w = where(range);
  return (
    await rows<Record<string, unknown>>(
      store,
      `SELECT tool, caller, sum(calls) AS calls, sum(failures) AS failures, sum(duration_ms) AS duration_ms FROM tool_uses FINAL ${w.sql} GROUP BY tool, caller ORDER BY calls DESC, tool, caller`,
      w.params,
    )
  ).map((r) => ({ tool: String(r.tool), caller: String(r.caller), calls: num(r.calls), failures: num(r.failures), duration_ms: num(r.duration_ms) }));
}

/**
 * Exact percentiles of `execution_time_ms` over finished runs:
 * `quantilesExactLow` returns the element at rank ceil(level·n) of the sorted
 * durations (the lower median for even n), so tests compare for equality.
 */
export async function durationPercentiles(store: Store, range: TimeRange = {}) {
  const w = where(range, "status IN ('completed', 'failed')");
  const [r] = await rows<{ n: string; q: number[] }>(
    store,
    `SELECT count() AS n, quantilesExactLow(0.5, 0.95, 0.99)(execution_time_ms) AS q FROM certificates FINAL ${w.sql}`,
    w.params,
  );
  const q = r?.q ?? [0, 0, 0];
  return { executions: num(r?.n ?? 0), p50_ms: num(q[0] ?? 0), p95_ms: num(q[1] ?? 0), p99_ms: num(q[2] ?? 0) };
}

export async function failureReasons(store: Store, range: TimeRange = {}) {
  const w = where(range, "status = 'failed'");
  return (
    await rows<Record<string, unknown>>(
      store,
      `SELECT error_code, count() AS executions FROM certificates FINAL ${w.sql} GROUP BY error_code ORDER BY executions DESC, error_code`,
      w.params,
    )
  ).map((r) => ({ error_code: String(r.error_code), executions: num(r.executions) }));
}
