/**
 * Certificate search and browse: filters, sort, keyset (cursor) pagination,
 * bounded pages. Every value is a bound parameter; only column names chosen
 * from fixed lists enter the SQL text (THREATS: SQL injection in filters).
 */
import { EphemeraError } from '../../errors.js';
import { CERTIFICATE_ID_PATTERN } from '../../verify/index.js';
import { rows, type Store } from '../store/clickhouse.js';
import { chTime, rfc3339 } from '../projector.js';
import { isoOrThrow, MAX_PAGE, SORTS, type SearchQuery } from './query.js';
import { DEFAULT_LEASE_MS } from '../../events/index.js';

/** Where the clock and the lease enter a search: an open row is `running` until its executor's lease is up, then `abandoned`. */
export interface SearchClock {
  now: number;
  leaseMs: number;
}

/** The status a row answers with (streamState's rule, events/stream-state.ts): decided at read time, never stored. */
const STATE =
  "if(status = 'incomplete', if(toUnixTimestamp64Milli(assumeNotNull(silent_after)) + {lease_ms:Int64} < {now_ms:Int64}, 'abandoned', 'running'), status)";

/** Nullable sort columns sort as their floor (never-sealed, never-finished runs first ascending), so keyset cursors compare plain values. */
const SORT_EXPR: Record<keyof typeof SORTS, string> = {
  requested_at: 'requested_at',
  execution_time_ms: 'ifNull(execution_time_ms, 0)',
  sealed_at: "ifNull(sealed_at, toDateTime64(0, 3, 'UTC'))",
};
/** What a cursor's sort value must look like, per sort column type (checked before ClickHouse parses it). */
const CURSOR_VALUE: Record<(typeof SORTS)[keyof typeof SORTS], RegExp> = {
  UInt64: /^[0-9]{1,19}$/,
  "DateTime64(3, 'UTC')": /^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}$/,
};

/** One search result, as the API answers it: times RFC 3339 UTC, "none" as null. */
export interface CertificateRow {
  certificate_id: string;
  status: string;
  executor: string | null;
  input: 'plain' | 'sealed';
  result_sealed: boolean;
  requested_at: string;
  sealed_at: string | null;
  dataset_hash: string;
  sandbox_hash: string;
  fingerprint: string;
  models: string[];
  tools: string[];
  llm_calls: number;
  input_tokens: number;
  output_tokens: number;
  tool_calls: number;
  execution_time_ms: number | null;
  exit_code: number | null;
  error_code: string | null;
  tee: string | null;
  result_preview: string;
}

const COLUMNS =
  'certificate_id, state AS status, executor, input, result_sealed, requested_at, sealed_at, dataset_hash, sandbox_hash, fingerprint, models, tools, llm_calls, input_tokens, output_tokens, tool_calls, execution_time_ms, exit_code, error_code, tee, result_preview';

export async function searchCertificates(
  store: Store,
  query: SearchQuery,
  clock: SearchClock = { now: Date.now(), leaseMs: DEFAULT_LEASE_MS },
): Promise<{ items: CertificateRow[]; next_cursor: string | null }> {
  const where: string[] = [];
  const params: Record<string, unknown> = { now_ms: clock.now, lease_ms: clock.leaseMs };
  if (query.status !== undefined) where.push('state = {status:String}'), (params.status = query.status);
  const eq = (column: 'dataset_hash' | 'sandbox_hash' | 'fingerprint' | 'executor') => {
    if (query[column] !== undefined) {
      where.push(`${column} = {${column}:String}`);
      params[column] = query[column];
    }
  };
  (['dataset_hash', 'sandbox_hash', 'fingerprint', 'executor'] as const).forEach(eq);
  if (query.input !== undefined) where.push('input = {input:String}'), (params.input = query.input);
  if (query.result !== undefined) where.push('result_sealed = {result_sealed:Bool}'), (params.result_sealed = query.result === 'sealed');
  if (query.model !== undefined) where.push('has(models, {model:String})'), (params.model = query.model);
  if (query.tool !== undefined) where.push('has(tools, {tool:String})'), (params.tool = query.tool);
  if (query.from !== undefined) where.push("requested_at >= {from:DateTime64(3, 'UTC')}"), (params.from = chTime(isoOrThrow(query.from, 'from')));
  if (query.to !== undefined) where.push("requested_at < {to:DateTime64(3, 'UTC')}"), (params.to = chTime(isoOrThrow(query.to, 'to')));
  if (query.q !== undefined) where.push('positionCaseInsensitiveUTF8(result_preview, {q:String}) > 0'), (params.q = query.q);

  const sort = query.sort ?? 'requested_at';
  const order = query.order ?? 'desc';
  const limit = query.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new EphemeraError('REQUEST_INVALID', `limit: must be 1…${MAX_PAGE}`, { fields: { field: 'querystring.limit' } });
  const sortExpr = SORT_EXPR[sort];
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor, sort, order);
    where.push(`(${sortExpr}, certificate_id) ${order === 'desc' ? '<' : '>'} ({cursor_value:${SORTS[sort]}}, {cursor_id:String})`);
    params.cursor_value = value;
    params.cursor_id = id;
  }
  const sql = `SELECT ${COLUMNS}, toString(${sortExpr}) AS sort_value FROM (SELECT *, ${STATE} AS state FROM certificates FINAL)
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${sortExpr} ${order}, certificate_id ${order} LIMIT {limit:UInt32}`;
  params.limit = limit + 1;
  const found = await rows<CertificateRow & { sort_value: string }>(store, sql, params);
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ sort_value: _ignored, ...row }) => normalize(row)),
    next_cursor: found.length > limit && last ? encodeCursor(sort, order, last.sort_value, last.certificate_id) : null,
  };
}

/** ClickHouse's rendering → the API's: 64-bit integers arrive as strings, times as DateTime64 text, and String columns hold '' for "none". */
function normalize(row: CertificateRow): CertificateRow {
  return {
    ...row,
    requested_at: rfc3339(row.requested_at),
    sealed_at: row.sealed_at === null ? null : rfc3339(row.sealed_at),
    llm_calls: Number(row.llm_calls),
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    tool_calls: Number(row.tool_calls),
    execution_time_ms: row.execution_time_ms === null ? null : Number(row.execution_time_ms),
    exit_code: row.exit_code === null ? null : Number(row.exit_code),
    error_code: row.error_code || null,
    tee: row.tee || null,
    executor: row.executor || null,
    result_sealed: Boolean(row.result_sealed),
  };
}

/** Keyset cursor: base64url(JSON [sort, order, last sort value, last certificate id]); only valid with the same sort and order. */
const encodeCursor = (sort: string, order: string, value: string, id: string) => Buffer.from(JSON.stringify([sort, order, value, id])).toString('base64url');

function decodeCursor(cursor: string, sort: keyof typeof SORTS, order: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(value) &&
      value.length === 4 &&
      value[0] === sort &&
      value[1] === order &&
      typeof value[2] === 'string' &&
      CURSOR_VALUE[SORTS[sort]].test(value[2]) &&
      typeof value[3] === 'string' &&
      CERTIFICATE_ID_PATTERN.test(value[3])
    )
      return [value[2], value[3]];
  } catch {
    // fall through: the same error for every malformed cursor
  }
  throw new EphemeraError('REQUEST_INVALID', 'querystring.cursor: not a cursor this API issued for this sort and order', {
    fields: { field: 'querystring.cursor' },
  });
}
