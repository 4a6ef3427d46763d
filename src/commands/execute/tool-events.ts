/**
 * Turns one sandbox tool call into events: `tool.invoked` before it runs;
 * `tool.completed` with its `file.accessed` and `network.requested`
 * observations as one acknowledged batch after. Only hashes, counts and sizes
 * leave the sandbox (THREATS A14).
 *
 *   output_hash = SHA-256(u64be(len(stdout)) ‖ stdout ‖ stderr)   over the captured (capped) bytes
 * keyed by the run's salt (SHA-256(salt ‖ …)) when its result is sealed (outcome.ts).
 */
import { EphemeraError } from '../../errors.js';
import type { Hash } from '../../events/index.js';
import { canonicalize } from '../../events/index.js';
import type { NestedSqlCall, ToolCall, ToolOutcome, Sandbox } from '../../sandbox/types.js';
import type { Step, StreamRecorder } from './recorder.js';
import { stepHash, type ResultSealing } from './outcome.js';

export function outputHash(stdout: Uint8Array, stderr: Uint8Array, sealing: ResultSealing | null = null): Hash {
  const length = Buffer.alloc(8);
  length.writeBigUInt64BE(BigInt(stdout.length));
  return stepHash(sealing, length, stdout, stderr);
}

export function completionSteps(callId: string, outcome: ToolOutcome, sealing: ResultSealing | null): Step[] {
  return [
    [
      'tool.completed',
      {
        call_id: callId,
        exit_code: outcome.exitCode,
        duration_ms: Math.round(outcome.durationMs),
        cpu_ms: Math.round(outcome.cpuMs),
        max_rss_kb: Math.round(outcome.maxRssKb),
        stdout_bytes: outcome.stdoutBytes,
        stderr_bytes: outcome.stderrBytes,
        output_hash: outputHash(outcome.stdout, outcome.stderr, sealing),
        killed_by: outcome.killedBy,
        truncated: outcome.truncated,
        ...(outcome.sql ? { sql: outcome.sql } : {}),
      },
    ],
    ...outcome.files.map((f): Step => ['file.accessed', { call_id: callId, op: f.op, path: f.path, count: f.count }]),
    ...outcome.network.map((n): Step => ['network.requested', { call_id: callId, ...n }]),
  ];
}

/** Numbers tool calls within one execution. */
export class CallIds {
  private next = 1;
  take(): string {
    return `call_${this.next++}`;
  }
}

/** The hash a query is known by in tool.invoked, whoever asked it: the model's input form, `{tool, input}`. */
export const sqlArgsHash = (sealing: ResultSealing | null, query: string): Hash => stepHash(sealing, canonicalize({ tool: 'sql', input: { query } }));

/** How a call's nested calls (the `sql` command, run by its processes) get their ids and are counted. */
export interface NestedCalls {
  takeId(): string;
  counted(outcome: ToolOutcome): void;
}

/** Records, runs and records one tool call: the shared path for scripts and the LLM's tools. */
export async function runRecordedTool(
  recorder: StreamRecorder,
  sandbox: Sandbox,
  callId: string,
  invoked: { tool: string; argsHash: Hash; caller: 'llm' | 'script' },
  call: ToolCall,
  sealing: ResultSealing | null,
  nested: NestedCalls,
  options?: { timeoutMs?: number; signal?: AbortSignal },
): Promise<ToolOutcome> {
  await recorder.record(['tool.invoked', { call_id: callId, tool: invoked.tool, args_hash: invoked.argsHash, caller: invoked.caller }]);
  // Each nested call is one batch (invoked and completed: it is reported once answered), in the order
  // reported, all of them before this call's completion.
  // A failed append is kept, not left unhandled while the call runs on (it would end the process), and rethrown after.
  let nestedRecorded = Promise.resolve();
  let nestedFailure: { error: unknown } | null = null;
  const onNestedSql = (reported: NestedSqlCall) => {
    const nestedId = nested.takeId();
    const outcome = nestedOutcome(reported);
    nested.counted(outcome);
    const opened: Step = [
      'tool.invoked',
      { call_id: nestedId, tool: 'sql', args_hash: sqlArgsHash(sealing, reported.query), caller: invoked.caller, parent_call_id: callId },
    ];
    nestedRecorded = nestedRecorded
      .then(() => recorder.record(opened, ...completionSteps(nestedId, outcome, sealing)))
      .then(
        () => undefined,
        (error: unknown) => void (nestedFailure ??= { error }),
      );
  };
  let outcome: ToolOutcome;
  try {
    outcome = await sandbox.run(call, { timeoutMs: options?.timeoutMs, signal: options?.signal, onNestedSql });
  } catch (error) {
    // The sandbox was destroyed under the call (the drain stopped the run): the call is lost, and recorded so, closing it.
    if (!(error instanceof EphemeraError && error.code === 'SANDBOX_DESTROYED')) throw error;
    outcome = { ...plainOutcome(null, new Uint8Array(0), new Uint8Array(0)), killedBy: 'sandbox_lost' };
  }
  await nestedRecorded;
  if (nestedFailure) throw (nestedFailure as { error: unknown }).error;
  await recorder.record(...completionSteps(callId, outcome, sealing));
  return outcome;
}

/** A nested sql call as a call's outcome: its answer is its stdout; its file and network activity is its parent's. */
function nestedOutcome(nested: NestedSqlCall): ToolOutcome {
  return {
    ...plainOutcome(nested.exitCode, nested.answer, new Uint8Array(0)),
    killedBy: nested.killedBy,
    durationMs: nested.durationMs,
    cpuMs: nested.cpuMs,
    maxRssKb: nested.maxRssKb,
    sql: nested.sql,
  };
}

/**
 * Records a tool call that did not need a process (a read-only helper, or an
 * input the tool does not take) with the same events as any other call.
 */
export async function runRecordedSynthetic(
  recorder: StreamRecorder,
  callId: string,
  invoked: { tool: string; argsHash: Hash; caller: 'llm' | 'script' },
  text: string,
  sealing: ResultSealing | null,
  exitCode = 2,
): Promise<ToolOutcome> {
  await recorder.record(['tool.invoked', { call_id: callId, tool: invoked.tool, args_hash: invoked.argsHash, caller: invoked.caller }]);
  const stdout = exitCode === 0 ? new TextEncoder().encode(text) : new Uint8Array(0);
  const stderr = exitCode === 0 ? new Uint8Array(0) : new TextEncoder().encode(text);
  const outcome = plainOutcome(exitCode, stdout, stderr);
  await recorder.record(...completionSteps(callId, outcome, sealing));
  return outcome;
}

/** The outcome of a call no process answered: no time, no resources, no observations. */
function plainOutcome(exitCode: number | null, stdout: Uint8Array, stderr: Uint8Array): ToolOutcome {
  return {
    exitCode,
    killedBy: null,
    stdout,
    stderr,
    stderrTail: stderr,
    truncated: false,
    stdoutBytes: stdout.length,
    stderrBytes: stderr.length,
    durationMs: 0,
    cpuMs: 0,
    maxRssKb: 0,
    files: [],
    network: [],
    sql: null,
  };
}
