/** The run summary's tool lines: one per tool_uses row, printable, bounded. */
import { describe, expect, it } from 'vitest';
import type { Certificate, ToolUse } from '../verify/index.js';
import { toolLines } from './summary.js';

const certificateWith = (uses: Partial<ToolUse>[]) =>
  ({
    execution_trace: {
      tool_uses: uses.map((u) => ({ tool: 'scan.py', caller: 'script', count: 1, args_hashes: [], duration_ms: 0, cpu_ms: 0, failures: 0, ...u })),
    },
  }) as unknown as Certificate;

describe('toolLines', () => {
  it('gives each row a line, an sql row with its answers', () => {
    expect(
      toolLines(
        certificateWith([
          {},
          { tool: 'sql', count: 3, sql: { rows: 1204, bytes: 56_210, truncated: 1 } },
          { tool: 'sql', caller: 'llm', sql: { rows: 3, bytes: 52, truncated: 0 } },
        ]),
      ),
    ).toEqual(['scan.py (script): 1 call', 'sql (script): 3 calls, 1,204 rows, 56,210 bytes, 1 truncated', 'sql (llm): 1 call, 3 rows, 52 bytes']);
    expect(toolLines(certificateWith([]))).toEqual([]);
  });

  it('prints a tool name without terminal controls or line breaks', () => {
    expect(toolLines(certificateWith([{ tool: 'evil\u001b]0;owned\u0007\nnext' }]))).toEqual(['evil\\x1b]0;owned\\x07\\nnext (script): 1 call']);
  });

  it('stops after 20 rows and says how many more the certificate has', () => {
    const lines = toolLines(certificateWith(Array.from({ length: 25 }, (_, i) => ({ tool: `t${i}` }))));
    expect(lines).toHaveLength(21);
    expect(lines[19]).toBe('t19 (script): 1 call');
    expect(lines[20]).toBe("… and 5 more (the certificate's execution_trace.tool_uses)");
  });
});
