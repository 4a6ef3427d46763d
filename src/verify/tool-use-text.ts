/**
 * A tool_uses row in a few words, as the CLI's run summary and the web
 * certificate page show it (`sql (script): 3 calls, 1,204 rows, 56,210 bytes,
 * 1 truncated`). The row may come from a document nobody verified yet (the
 * page shows it before its check): a value that is not a number is written as
 * it is, never trusted as one. Names are returned raw; each reader makes them
 * safe for where it writes them. Isomorphic.
 */
import type { ToolUse } from './certificate.js';

/** 1204 → "1,204"; anything else as text. */
function grouped(value: unknown): string {
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',') : String(value);
}

const counted = (value: unknown, one: string, many: string) => `${grouped(value)} ${value === 1 ? one : many}`;

/** What the SQL engine's answers of one row returned (docs/sql-tool.md §8): "1,204 rows, 56,210 bytes, 1 truncated". */
export function sqlAnswersText(sql: NonNullable<ToolUse['sql']>): string {
  const cut = sql.truncated === 0 ? '' : `, ${grouped(sql.truncated)} truncated`;
  return `${counted(sql.rows, 'row', 'rows')}, ${counted(sql.bytes, 'byte', 'bytes')}${cut}`;
}

/** "sql (script): 3 calls, 1 failed, 1,204 rows, 56,210 bytes, 1 truncated". */
export function toolUseText(use: ToolUse): string {
  const failed = use.failures === 0 ? '' : `, ${grouped(use.failures)} failed`;
  const sql = typeof use.sql === 'object' && use.sql !== null ? `, ${sqlAnswersText(use.sql)}` : '';
  return `${use.tool} (${use.caller}): ${counted(use.count, 'call', 'calls')}${failed}${sql}`;
}
