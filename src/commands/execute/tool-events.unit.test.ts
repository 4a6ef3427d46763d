/**
 * Nested sql calls (docs/sql-tool.md §7): a failed append of a nested call's batch, while its parent still runs,
 * must reach runRecordedTool's caller as its error, not the process as an unhandled rejection (which ends Node 20).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EphemeraError } from '../../errors.js';
import type { NestedSqlCall, Sandbox, ToolOutcome } from '../../sandbox/types.js';
import type { StreamRecorder } from './recorder.js';
import { runRecordedTool } from './tool-events.js';

const outcome: ToolOutcome = {
  exitCode: 0,
  killedBy: null,
  stdout: new Uint8Array(0),
  stderr: new Uint8Array(0),
  stderrTail: new Uint8Array(0),
  stdoutBytes: 0,
  stderrBytes: 0,
  truncated: false,
  durationMs: 1,
  cpuMs: 1,
  maxRssKb: 1,
  files: [],
  network: [],
  sql: null,
};

const nested: NestedSqlCall = {
  query: 'SELECT 1',
  answer: new TextEncoder().encode('{"rows":[[1]]}'),
  exitCode: 0,
  killedBy: null,
  durationMs: 1,
  cpuMs: 1,
  maxRssKb: 1,
  sql: { rows: 1, bytes: 5, truncated: false, error_code: null },
};

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('runRecordedTool with nested sql calls', () => {
  it('surfaces a failed append of a nested call as its own rejection, never an unhandled one', async () => {
    process.on('unhandledRejection', onUnhandled);
    let appends = 0;
    const recorder = {
      record: async () => {
        appends += 1;
        if (appends === 2) throw new EphemeraError('LOG_APPEND_FAILED', 'the broker went away');
        return [];
      },
    } as unknown as StreamRecorder;
    const sandbox = {
      run: async (_call: unknown, options: { onNestedSql?: (c: NestedSqlCall) => void }) => {
        options.onNestedSql?.(nested);
        await new Promise((r) => setTimeout(r, 200)); // the parent call goes on running after its query
        return outcome;
      },
    } as unknown as Sandbox;
    let ids = 0;
    const result = runRecordedTool(
      recorder,
      sandbox,
      'call_1',
      { tool: 'bash', argsHash: `sha256:${'0'.repeat(64)}`, caller: 'script' },
      { kind: 'bash', command: 'sql "SELECT 1"' },
      null,
      { takeId: () => `call_n${++ids}`, counted: () => undefined },
    );
    await expect(result).rejects.toThrow('the broker went away');
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
  });
});
