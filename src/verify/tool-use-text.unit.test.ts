/** A tool_uses row in words, as the run summary and the certificate page show it. */
import { describe, expect, it } from 'vitest';
import type { ToolUse } from './certificate.js';
import { sqlAnswersText, toolUseText } from './tool-use-text.js';

const use = (over: Partial<ToolUse>): ToolUse => ({
  tool: 'sql',
  caller: 'script',
  count: 1,
  args_hashes: [],
  duration_ms: 0,
  cpu_ms: 0,
  failures: 0,
  ...over,
});

describe('toolUseText', () => {
  it("gives an sql row its calls, failures and the answers' rows, bytes and truncated count, grouped by thousands", () => {
    expect(toolUseText(use({ count: 3, failures: 1, sql: { rows: 1204, bytes: 56_210, truncated: 1 } }))).toBe(
      'sql (script): 3 calls, 1 failed, 1,204 rows, 56,210 bytes, 1 truncated',
    );
    expect(toolUseText(use({ caller: 'llm', count: 1_000_000, sql: { rows: 1, bytes: 1, truncated: 0 } }))).toBe('sql (llm): 1,000,000 calls, 1 row, 1 byte');
  });

  it('says only calls and failures for any other row, and for an sql row none of whose calls answered', () => {
    expect(toolUseText(use({ tool: 'scan.py' }))).toBe('scan.py (script): 1 call');
    expect(toolUseText(use({ tool: 'bash', caller: 'llm', count: 2, failures: 2 }))).toBe('bash (llm): 2 calls, 2 failed');
    expect(toolUseText(use({ count: 2, failures: 2 }))).toBe('sql (script): 2 calls, 2 failed');
  });

  it('writes values from an unverified document as they are, never as numbers they are not', () => {
    const odd = { rows: '<b>x</b>', bytes: null, truncated: 1.5 } as unknown as ToolUse['sql'];
    expect(toolUseText(use({ count: '7' as unknown as number, sql: odd }))).toBe('sql (script): 7 calls, <b>x</b> rows, null bytes, 1.5 truncated');
    expect(toolUseText(use({ sql: null as unknown as ToolUse['sql'] }))).toBe('sql (script): 1 call');
    expect(sqlAnswersText({ rows: 2 ** 53, bytes: 0, truncated: 0 })).toBe('9007199254740992 rows, 0 bytes');
  });
});
