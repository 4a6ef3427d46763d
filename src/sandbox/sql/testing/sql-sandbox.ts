/** A real sandbox offering sql over a small typed CSV, and calls that collect their nested sql calls. Tests only. */
import { ulid } from 'ulid';
import { createSandbox } from '../../index.js';
import type { NestedSqlCall, Sandbox, SandboxSpec, ToolCall, ToolOutcome } from '../../types.js';

export const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');
export const SQL_CSV = 'id,name,amount,day\n1,ann,2.5,2024-01-02\n2,bob,4,2024-02-29\n3,cy,,2024-03-01\n';

export const sqlSpec = (over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  executionId: ulid(),
  dataset: new TextEncoder().encode(SQL_CSV),
  datasetFile: 'dataset.csv',
  scripts: [],
  limits: { timeoutMs: 20_000, memoryMb: 128, maxProcesses: 64, cpuSeconds: 20, workBytes: 8 << 20, outBytes: 1 << 20, outputBytes: 1 << 16, maxOpenFiles: 64 },
  networkAllow: [],
  sql: { format: 'csv', maxSeconds: 20 },
  ...over,
});

/** The model's way: one direct sql call. */
export const query = (q: string, max_rows = 100, max_bytes = 8192, max_seconds = 30) => ({ kind: 'sql' as const, query: q, max_rows, max_bytes, max_seconds });

export async function withSqlSandbox<T>(over: Partial<SandboxSpec>, body: (sandbox: Sandbox) => Promise<T>): Promise<T> {
  const sandbox = await createSandbox(sqlSpec(over));
  try {
    return await body(sandbox);
  } finally {
    await sandbox.destroy();
  }
}

/** Runs a call, collecting the sql calls its processes made. */
export async function runCollecting(sandbox: Sandbox, call: ToolCall, timeoutMs?: number): Promise<{ outcome: ToolOutcome; nested: NestedSqlCall[] }> {
  const nested: NestedSqlCall[] = [];
  const outcome = await sandbox.run(call, { timeoutMs, onNestedSql: (c) => nested.push(c) });
  return { outcome, nested };
}
