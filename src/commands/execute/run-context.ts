/**
 * What the script part (run.ts) and the LLM part (run-llm.ts) of a
 * computation share: the run's context, its totals, and the one way to run
 * a recorded tool call.
 */
import type { Hash } from '../../events/index.js';
import type { Sandbox, SandboxLimits, ToolOutcome } from '../../sandbox/types.js';
import type { Config } from '../../config.js';
import type { ExecuteRequest } from './request-schema.js';
import type { StreamRecorder } from './recorder.js';
import type { ResultSealing } from './outcome.js';

export interface RunContext {
  recorder: StreamRecorder;
  sandbox: Sandbox;
  entrypoint: string | null;
  limits: SandboxLimits;
  started: number;
  request: ExecuteRequest;
  config: Config;
  /** Set when the result is sealed: its recipient, and the salt that keys every step's content hashes (outcome.ts). */
  sealing: ResultSealing | null;
  /** The drain's abort (ExecuteDeps.signal): once fired, nothing more runs and the run ends as EXECUTOR_DRAINING. */
  signal?: AbortSignal;
}

export interface Totals {
  tool_calls: number;
  cpu_ms: number;
  max_rss_kb: number;
  llm_calls: number;
  input_tokens: number;
  output_tokens: number;
}

export type RunTool = (invoked: { tool: string; argsHash: Hash; caller: 'llm' | 'script' }, call: Parameters<Sandbox['run']>[0]) => Promise<ToolOutcome>;
