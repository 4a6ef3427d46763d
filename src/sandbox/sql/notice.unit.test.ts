/** The executor reads the supervisor's sql notices and summaries strictly: a malformed one is a broken sandbox. */
import { describe, expect, it } from 'vitest';
import { nestedSqlCall, sqlSummary } from './notice.js';

const answered = {
  notice: 'sql',
  query: 'SELECT 1',
  answer: Buffer.from('{"rows":[[1]]}').toString('base64'),
  exit_code: 0,
  killed_by: null,
  duration_ms: 3,
  cpu_ms: 0,
  max_rss_kb: 9000,
  sql: { rows: 1, bytes: 7, truncated: false, error_code: null },
};

describe('sql notices', () => {
  it('become nested calls: an answered one, a refused one, a stopped one', () => {
    expect(nestedSqlCall(answered)).toEqual({
      query: 'SELECT 1',
      answer: new Uint8Array(Buffer.from('{"rows":[[1]]}')),
      exitCode: 0,
      killedBy: null,
      durationMs: 3,
      cpuMs: 0,
      maxRssKb: 9000,
      sql: answered.sql,
    });
    const refused = { ...answered, exit_code: 2, sql: { rows: 0, bytes: 0, truncated: false, error_code: 'SQL_QUERY_REFUSED' } };
    expect(nestedSqlCall(refused).sql?.error_code).toBe('SQL_QUERY_REFUSED');
    const stopped = { ...answered, answer: '', exit_code: null, killed_by: 'timeout', sql: null };
    expect(nestedSqlCall(stopped)).toMatchObject({ exitCode: null, killedBy: 'timeout', sql: null });
  });

  it.each([
    ['a member missing', { ...answered, cpu_ms: undefined }],
    ['a member more', { ...answered, extra: 1 }],
    ['another kind', { ...answered, notice: 'bash' }],
    ['a query that is not text', { ...answered, query: 42 }],
    ['an answer that is not base64', { ...answered, answer: '{"rows":[]}' }],
    ['a negative duration', { ...answered, duration_ms: -1 }],
    ['an unknown killed_by', { ...answered, killed_by: 'boredom', exit_code: null, sql: null }],
    ['killed, yet with an exit code', { ...answered, killed_by: 'timeout' }],
    ['answered, without a summary', { ...answered, sql: null }],
    ['exit 0 with an error code', { ...answered, sql: { ...answered.sql, error_code: 'SQL_QUERY_INVALID' } }],
    ['exit 2 without an error code', { ...answered, exit_code: 2 }],
    ['an exit code no engine gives', { ...answered, exit_code: 3 }],
    ['a code that is not an SQL code', { ...answered, exit_code: 2, sql: { ...answered.sql, error_code: 'rm -rf' } }],
    ['a summary with a member more', { ...answered, sql: { ...answered.sql, schema: [] } }],
    ['rows that are not a count', { ...answered, sql: { ...answered.sql, rows: 1.5 } }],
  ])('refuses %s as SANDBOX_DESTROYED', (_name, notice) => {
    const clean = Object.fromEntries(Object.entries(notice).filter(([, v]) => v !== undefined));
    expect(() => nestedSqlCall(clean)).toThrow(expect.objectContaining({ code: 'SANDBOX_DESTROYED' }));
  });

  it('reads a summary or its absence', () => {
    expect(sqlSummary(null)).toBeNull();
    expect(sqlSummary({ rows: 0, bytes: 2, truncated: true, error_code: null })).toEqual({ rows: 0, bytes: 2, truncated: true, error_code: null });
    expect(() => sqlSummary('rows')).toThrow(expect.objectContaining({ code: 'SANDBOX_DESTROYED' }));
  });
});
