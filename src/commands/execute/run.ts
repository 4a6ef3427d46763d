/**
 * The computation itself: the entry script (caller "script"), then, when the
 * request has one, the LLM agent (caller "llm"). Ends with
 * execution.completed or execution.failed.
 */
import { EphemeraError } from '../../errors.js';
import { canonicalize, type RunResult, type Hash, type StderrTail } from '../../events/index.js';
import type { ToolOutcome } from '../../sandbox/types.js';
import type { RunContext, RunTool, Totals } from './run-context.js';
import { buildResult, failureCode, stderrTail } from './result.js';
import { CallIds, runRecordedTool } from './tool-events.js';
import { runLlm } from './run-llm.js';
import { outcomeResult, stepHash } from './outcome.js';

export async function runComputation(ctx: RunContext): Promise<void> {
  const ids = new CallIds();
  const totals: Totals = { tool_calls: 0, cpu_ms: 0, max_rss_kb: 0, llm_calls: 0, input_tokens: 0, output_tokens: 0 };
  const remainingMs = () => Math.max(1, ctx.limits.timeoutMs - (Date.now() - ctx.started));
  const count = (outcome: ToolOutcome) => {
    totals.tool_calls += 1;
    totals.cpu_ms += Math.round(outcome.cpuMs);
    totals.max_rss_kb = Math.max(totals.max_rss_kb, Math.round(outcome.maxRssKb));
  };
  const nested = { takeId: () => ids.take(), counted: count };
  const runTool: RunTool = async (invoked, call) => {
    // Once the drain stopped the run, no new call starts (the sandbox is gone or going).
    if (ctx.signal?.aborted) throw new EphemeraError('EXECUTOR_DRAINING', 'the executor is shutting down: no new tool call');
    const outcome = await runRecordedTool(ctx.recorder, ctx.sandbox, ids.take(), invoked, call, ctx.sealing, nested, { timeoutMs: remainingMs() });
    count(outcome);
    return outcome;
  };

  let scriptOutcome: ToolOutcome | null = null;
  if (ctx.signal?.aborted) return finishDrained(ctx, totals);
  if (ctx.entrypoint) {
    const name = ctx.entrypoint;
    scriptOutcome = await runTool({ tool: name, argsHash: stepHash(ctx.sealing, canonicalize({ script: name })), caller: 'script' }, { kind: 'script', name });
    const error = failureCode(scriptOutcome.exitCode, scriptOutcome.killedBy);
    // A script that failed because the drain destroyed its sandbox failed for the drain's reason, not its own.
    if (error && ctx.signal?.aborted) return finishDrained(ctx, totals);
    if (error || !ctx.request.sandbox.llm) {
      const { result, resultHash } = buildResult(scriptOutcome.stdout, scriptOutcome.truncated);
      // A failed script says why on stderr: the caller gets its tail (the LLM sees stderr through its tool results).
      const tail = error ? stderrTail(scriptOutcome.stderrTail, scriptOutcome.stderrBytes) : null;
      return finish(ctx, totals, error, scriptOutcome.exitCode, scriptOutcome.killedBy, result, resultHash, tail);
    }
  }
  const llm = await runLlm(ctx, ids, runTool, totals, scriptOutcome);
  const { result, resultHash } = buildResult(llm.answer);
  return finish(ctx, totals, llm.errorCode, llm.errorCode ? null : 0, llm.killedBy, result, resultHash);
}

/** The drain stopped the run: a certified failure with no result. */
function finishDrained(ctx: RunContext, totals: Totals): Promise<void> {
  const { result, resultHash } = buildResult('');
  return finish(ctx, totals, 'EXECUTOR_DRAINING', null, null, result, resultHash);
}

async function finish(
  ctx: RunContext,
  totals: Totals,
  error: string | null,
  exitCode: number | null,
  killedBy: ToolOutcome['killedBy'],
  result: RunResult,
  resultHash: Hash,
  tail: StderrTail | null = null,
): Promise<void> {
  const duration_ms = Date.now() - ctx.started;
  const outcome = await outcomeResult(ctx.sealing, ctx.recorder.executionId, result, resultHash, tail);
  if (error === null) {
    await ctx.recorder.record(['execution.completed', { exit_code: exitCode ?? 0, ...outcome, duration_ms, totals: { ...totals } }]);
  } else {
    await ctx.recorder.record([
      'execution.failed',
      { error_code: error, exit_code: exitCode, killed_by: killedBy, ...outcome, duration_ms, totals: { ...totals } },
    ]);
  }
}
