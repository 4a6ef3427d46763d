/**
 * The computation itself: the entry script (caller "script"). The LLM agent,
 * when the request has one, plugs in here too. Ends with execution.completed
 * or execution.failed.
 */
import { hashUtf8, canonicalize } from '../../events/index.js';
import type { Sandbox, SandboxLimits } from '../../sandbox/types.js';
import type { StreamRecorder } from './recorder.js';
import { buildResult, failureCode } from './result.js';
import { CallIds, runRecordedTool } from './tool-events.js';

export interface RunContext {
  recorder: StreamRecorder;
  sandbox: Sandbox;
  entrypoint: string | null;
  limits: SandboxLimits;
  started: number;
}

export async function runComputation(ctx: RunContext): Promise<void> {
  const { recorder, sandbox, entrypoint } = ctx;
  const ids = new CallIds();
  const name = entrypoint!;
  const outcome = await runRecordedTool(
    recorder,
    sandbox,
    ids.take(),
    { tool: name, argsHash: hashUtf8(canonicalize({ script: name })), caller: 'script' },
    { kind: 'script', name },
    { timeoutMs: Math.max(1, ctx.limits.timeoutMs - (Date.now() - ctx.started)) },
  );
  const { result, resultHash } = buildResult(outcome.stdout, outcome.truncated);
  const totals = { tool_calls: 1, cpu_ms: Math.round(outcome.cpuMs), max_rss_kb: Math.round(outcome.maxRssKb) };
  const duration_ms = Date.now() - ctx.started;
  const error = failureCode(outcome.exitCode, outcome.killedBy);
  if (error === null) {
    await recorder.record(['execution.completed', { exit_code: 0, result_hash: resultHash, result, duration_ms, totals }]);
  } else {
    await recorder.record(['execution.failed', { error_code: error, exit_code: outcome.exitCode, killed_by: outcome.killedBy, result_hash: resultHash, result, duration_ms, totals }]);
  }
}
