/**
 * Certificate search and browse: filters, sort, keyset (cursor) pagination,
 * bounded pages. Every value is a bound parameter; only column names chosen
 * from fixed lists enter the SQL text (THREATS: SQL injection in filters).
 */
import { EphemeraError } from '../../errors.js';
import { rows, type Store } from '../store/clickhouse.js';
import { chTime } from '../projector.js';

export const MAX_PAGE = 100;
export const SORTS = { requested_at: 'DateTime64(3, \'UTC\')', duration_ms: 'UInt64', sealed_at: 'DateTime64(3, \'UTC\')' } as const;

export interface SearchQuery {
  status?: string;
  model?: string;
  tool?: string;
  dataset_hash?: string;
  sandbox_hash?: string;
  fingerprint?: string;
  from?: string;
  to?: string;
  q?: string;
  sort?: keyof typeof SORTS;
  order?: 'asc' | 'desc';
  limit?: number;
  cursor?: string;
}

export interface CertificateRow {
  certificate_id: string;
  status: string;
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
  duration_ms: number;
  exit_code: number | null;
  error_code: string;
  tee: string;
  result_preview: string;
}

const COLUMNS = 'certificate_id, status, requested_at, sealed_at, dataset_hash, sandbox_hash, fingerprint, models, tools, llm_calls, input_tokens, output_tokens, tool_calls, duration_ms, exit_code, error_code, tee, result_preview';

export async function searchCertificates(store: Store, query: SearchQuery): Promise<{ items: CertificateRow[]; next_cursor: string | null }> {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const eq = (column: 'status' | 'dataset_hash' | 'sandbox_hash' | 'fingerprint') => {
    if (query[column] !== undefined) {
      where.push(`${column} = {${column}:String}`);
      params[column] = query[column];
    }
  };
  (['status', 'dataset_hash', 'sandbox_hash', 'fingerprint'] as const).forEach(eq);
  if (query.model !== undefined) (where.push('has(models, {model:String})'), (params.model = query.model));
  if (query.tool !== undefined) (where.push('has(tools, {tool:String})'), (params.tool = query.tool));
  if (query.from !== undefined) (where.push("requested_at >= {from:DateTime64(3, 'UTC')}"), (params.from = chTime(isoOrThrow(query.from, 'from'))));
  if (query.to !== undefined) (where.push("requested_at < {to:DateTime64(3, 'UTC')}"), (params.to = chTime(isoOrThrow(query.to, 'to'))));
  if (query.q !== undefined) (where.push('positionCaseInsensitiveUTF8(result_preview, {q:String}) > 0'), (params.q = query.q));

  const sort = query.sort ?? 'requested_at';
  const order = query.order ?? 'desc';
  const limit = Math.min(Math.max(query.limit ?? 20, 1), MAX_PAGE);
  const sortExpr = sort === 'sealed_at' ? "ifNull(sealed_at, toDateTime64(0, 3, 'UTC'))" : sort;
  if (query.cursor) {
    const [value, id] = decodeCursor(query.cursor);
    where.push(`(${sortExpr}, certificate_id) ${order === 'desc' ? '<' : '>'} ({cursor_value:${SORTS[sort]}}, {cursor_id:String})`);
    params.cursor_value = value;
    params.cursor_id = id;
  }
  const sql = `SELECT ${COLUMNS}, toString(${sortExpr}) AS sort_value FROM certificates FINAL ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${sortExpr} ${order}, certificate_id ${order} LIMIT {limit:UInt32}`;
  params.limit = limit + 1;
  const found = await rows<CertificateRow & { sort_value: string }>(store, sql, params);
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ sort_value: _ignored, ...row }) => normalize(row)),
    next_cursor: found.length > limit && last ? encodeCursor(last.sort_value, last.certificate_id) : null,
  };
}

function normalize(row: CertificateRow): CertificateRow {
  return { ...row, llm_calls: Number(row.llm_calls), input_tokens: Number(row.input_tokens), output_tokens: Number(row.output_tokens), tool_calls: Number(row.tool_calls), duration_ms: Number(row.duration_ms), exit_code: row.exit_code === null ? null : Number(row.exit_code) };
}

const encodeCursor = (value: string, id: string) => Buffer.from(JSON.stringify([value, id])).toString('base64url');

function decodeCursor(cursor: string): [string, string] {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string')) return value as [string, string];
  } catch {
    // fall through: the same error for every malformed cursor
  }
  throw new EphemeraError('REQUEST_INVALID', 'querystring.cursor: not a cursor this API issued', { fields: { field: 'querystring.cursor' } });
}

function isoOrThrow(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new EphemeraError('REQUEST_INVALID', `querystring.${field}: expected an RFC 3339 time`, { fields: { field: `querystring.${field}` } });
  return new Date(ms).toISOString();
}
