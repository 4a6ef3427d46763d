/**
 * The supervisor's word on SQL calls (supervisor/45-sql.py), read strictly: a `sql` command's notice
 * becomes a NestedSqlCall, an answer's summary a SqlSummary. The supervisor is ours, but what it relays
 * passed through sandboxed code (the query, the engine's answer): anything of the wrong shape is a broken
 * sandbox, not a value to guess at.
 */
import { EphemeraError } from '../../errors.js';
import { PROTOCOL } from '../protocol.js';
import type { KilledBy, NestedSqlCall, SqlSummary } from '../types.js';

const KILLED_BY: readonly KilledBy[] = ['timeout', 'memory', 'pids', 'output_limit', 'disk', 'cpu', 'sandbox_lost', null];
/** The longest query a request can carry (its JSON is at most max_request_bytes). */
const MAX_QUERY_CHARS = PROTOCOL.sql.max_request_bytes;
/** An answer's rows (max_bytes) and the rest of it, as the supervisor caps it, base64. */
const MAX_ANSWER_CHARS = Math.ceil(((PROTOCOL.sql.max_bytes + PROTOCOL.sql.answer_overhead_bytes) * 4) / 3) + 4;

function broken(what: string): never {
  throw new EphemeraError('SANDBOX_DESTROYED', `the sandbox supervisor sent a malformed sql ${what}`);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export function sqlSummary(value: unknown): SqlSummary | null {
  if (value === null) return null;
  const v = value as Record<string, unknown>;
  if (typeof v !== 'object' || Object.keys(v).sort().join() !== 'bytes,error_code,rows,truncated') broken('summary');
  if (!isCount(v.rows) || !isCount(v.bytes) || typeof v.truncated !== 'boolean') broken('summary');
  if (v.error_code !== null && !(typeof v.error_code === 'string' && /^SQL_[A-Z_]{1,60}$/.test(v.error_code))) broken('summary');
  return { rows: v.rows, bytes: v.bytes, truncated: v.truncated, error_code: v.error_code };
}

export function nestedSqlCall(notice: Record<string, unknown>): NestedSqlCall {
  const members = [...PROTOCOL.notices.sql, 'notice'].sort().join();
  if (notice.notice !== 'sql' || Object.keys(notice).sort().join() !== members) broken('notice');
  const n = notice as Record<(typeof PROTOCOL.notices.sql)[number], unknown>;
  if (typeof n.query !== 'string' || n.query.length > MAX_QUERY_CHARS) broken('notice');
  if (typeof n.answer !== 'string' || n.answer.length > MAX_ANSWER_CHARS || !/^[A-Za-z0-9+/]*={0,2}$/.test(n.answer)) broken('notice');
  if (!(n.exit_code === null || (Number.isSafeInteger(n.exit_code) && [0, 1, 2].includes(n.exit_code as number)))) broken('notice');
  if (!KILLED_BY.includes(n.killed_by as KilledBy) || !isCount(n.duration_ms) || !isCount(n.cpu_ms) || !isCount(n.max_rss_kb)) broken('notice');
  // Answered (an exit code and a summary, which agree) or stopped (how, and neither).
  const sql = sqlSummary(n.sql);
  const answered = n.killed_by === null;
  if (answered !== (n.exit_code !== null) || answered !== (sql !== null)) broken('notice');
  if (sql && (sql.error_code === null) !== (n.exit_code === 0)) broken('notice');
  const answer = Buffer.from(n.answer, 'base64');
  return {
    query: n.query,
    answer: new Uint8Array(answer.buffer, answer.byteOffset, answer.length),
    exitCode: n.exit_code as number | null,
    killedBy: n.killed_by as KilledBy,
    durationMs: n.duration_ms,
    cpuMs: n.cpu_ms,
    maxRssKb: n.max_rss_kb,
    sql,
  };
}
