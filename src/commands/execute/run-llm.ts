/**
 * The LLM part of a run: the agent loop with every API call recorded as
 * llm.called and every tool call as tool.invoked / tool.completed (caller
 * "llm"). Only hashes leave: the prompt hash is over the canonical request
 * body (no key, no headers), the response hash over the response body.
 * SECURITY: the API key goes to the SDK client and nowhere else.
 */
import { EphemeraError } from '../../errors.js';
import type { Config } from '../../config.js';
import { canonicalize } from '../../events/index.js';
import { runAgent, toolDefinitions, toSandboxCall, modelFailureCode, type LlmCallReport } from '../../sandbox/agent/index.js';
import type { ToolCall, ToolOutcome } from '../../sandbox/types.js';
import { LLM_DEFAULTS } from './describe.js';
import type { ExecuteRequest } from './request-schema.js';
import type { RunContext, RunTool, Totals } from './run-context.js';
import type { CallIds } from './tool-events.js';
import { runRecordedSynthetic, sqlArgsHash } from './tool-events.js';
import { stepHash } from './outcome.js';

/** The key an LLM step runs with: the request's own, else the server's; null when neither has one. */
export function llmApiKey(request: ExecuteRequest, config: Pick<Config, 'anthropicApiKey'>): string | null {
  return request.sandbox.llm?.api_key ?? config.anthropicApiKey ?? null;
}

/** What the model sees of one tool call, at most. */
const TOOL_RESULT_BYTES = 16 * 1024;

export async function runLlm(
  ctx: RunContext,
  ids: CallIds,
  runTool: RunTool,
  totals: Totals,
  scriptOutcome: ToolOutcome | null,
): Promise<{ answer: string; errorCode: string | null; killedBy: ToolOutcome['killedBy'] }> {
  const llm = ctx.request.sandbox.llm!;
  const apiKey = llmApiKey(ctx.request, ctx.config);
  // The handler refuses a keyless LLM request before anything is recorded; reaching here without one is a bug.
  if (!apiKey) throw new EphemeraError('LLM_API_KEY_REQUIRED', 'no API key for the LLM step');
  // Loaded on the first LLM step, not at start: the SDK is ~150 ms of serve's start-up, and a run without an LLM step never needs it.
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const client = new Anthropic({
    apiKey,
    baseURL: ctx.config.anthropicBaseUrl ?? undefined,
    maxRetries: ctx.config.llmMaxRetries,
    timeout: ctx.config.llmTimeoutMs,
  });
  const host = new URL(client.baseURL).host;
  const tools = toolDefinitions(ctx.request.sandbox.tools ?? []);
  const allowed = new Set(tools.map((t) => t.name as string));

  const onLlmCall = async (r: LlmCallReport) => {
    totals.llm_calls += 1;
    totals.input_tokens += r.inputTokens;
    totals.output_tokens += r.outputTokens;
    await ctx.recorder.record([
      'llm.called',
      {
        provider: 'anthropic',
        host,
        model: r.model,
        turn: r.turn,
        prompt_hash: stepHash(ctx.sealing, canonicalize(r.request)),
        response_hash: r.response ? stepHash(ctx.sealing, canonicalize(r.response)) : null,
        input_tokens: r.inputTokens,
        output_tokens: r.outputTokens,
        stop_reason: r.stopReason,
        latency_ms: r.latencyMs,
        error_code: r.errorCode,
      },
    ]);
  };

  let killedBy: ToolOutcome['killedBy'] = null;
  // timeout_seconds bounds the whole run, the model's turns included: a reader's lease (events/stream-state.ts) counts on it.
  const deadline = AbortSignal.timeout(Math.max(1, ctx.limits.timeoutMs - (Date.now() - ctx.started)));
  const runModelTool = async (name: string, input: unknown): Promise<{ content: string; isError: boolean }> => {
    const invoked = { tool: name, argsHash: stepHash(ctx.sealing, canonicalize({ tool: name, input: input ?? null })), caller: 'llm' as const };
    if (!allowed.has(name))
      return asToolResult(
        await runRecordedSynthetic(ctx.recorder, ids.take(), invoked, `this tool is not available; the tools are ${[...allowed].join(', ')}`, ctx.sealing),
      );
    if (name === 'list_files' || name === 'read_file') return asToolResult(await readOnlyHelper(ctx, ids, invoked, name, input));
    const call: ToolCall | null = toSandboxCall(name, input);
    if (!call) {
      const takes = Object.keys(tools.find((t) => t.name === name)!.input_schema.properties).join(', ');
      return asToolResult(await runRecordedSynthetic(ctx.recorder, ids.take(), invoked, `invalid input for this tool: ${name} takes ${takes}`, ctx.sealing));
    }
    // A query is known by its hash whoever asks it (tool-events.ts): members the tool does not take are not in it.
    const outcome = await runTool(call.kind === 'sql' ? { ...invoked, argsHash: sqlArgsHash(ctx.sealing, call.query) } : invoked, call);
    killedBy ??= outcome.killedBy === 'timeout' ? 'timeout' : null;
    return asToolResult(outcome);
  };

  try {
    const { answer } = await runAgent({
      client,
      model: llm.model,
      system: systemPrompt(
        ctx,
        tools.map((t) => t.name),
      ),
      prompt: userPrompt(llm.prompt, ctx.entrypoint, scriptOutcome),
      tools,
      maxTurns: llm.max_turns ?? LLM_DEFAULTS.max_turns,
      maxOutputTokens: llm.max_output_tokens ?? LLM_DEFAULTS.max_output_tokens,
      maxTotalTokens: llm.max_total_tokens ?? LLM_DEFAULTS.max_total_tokens,
      runTool: runModelTool,
      onLlmCall,
      signal: ctx.signal,
      deadline,
    });
    return { answer, errorCode: null, killedBy: null };
  } catch (error) {
    // Stopped by the drain (a cancelled model call, or a tool call refused once the sandbox went): the drain's failure.
    if (ctx.signal?.aborted) return { answer: '', errorCode: 'EXECUTOR_DRAINING', killedBy: null };
    if (deadline.aborted) return { answer: '', errorCode: 'EXECUTION_TIMEOUT', killedBy: 'timeout' };
    const code = modelFailureCode(error);
    if (code === null) throw error;
    return { answer: '', errorCode: code, killedBy };
  }
}

async function readOnlyHelper(ctx: RunContext, ids: CallIds, invoked: Parameters<RunTool>[0], name: string, input: unknown): Promise<ToolOutcome> {
  const i = (input ?? {}) as Record<string, unknown>;
  let text: string;
  try {
    if (name === 'list_files') {
      const entries = await ctx.sandbox.listFiles(typeof i.dir === 'string' ? i.dir : '/work');
      text = entries.map((e) => `${e.type === 'dir' ? 'd' : '-'} ${e.bytes}\t${e.path}`).join('\n');
    } else {
      const max = Number.isSafeInteger(i.max_bytes) ? Math.min(i.max_bytes as number, 65536) : 16384;
      const { content, truncated } = await ctx.sandbox.readFile(String(i.path ?? ''), max);
      text = Buffer.from(content).toString('utf8') + (truncated ? '\n[truncated]' : '');
    }
  } catch {
    return runRecordedSynthetic(ctx.recorder, ids.take(), invoked, 'cannot read that (regular files only, no symlinks)', ctx.sealing);
  }
  return runRecordedSynthetic(ctx.recorder, ids.take(), invoked, text, ctx.sealing, 0);
}

function asToolResult(outcome: ToolOutcome): { content: string; isError: boolean } {
  const cap = (b: Uint8Array) => Buffer.from(b.subarray(0, TOOL_RESULT_BYTES)).toString('utf8');
  const status = outcome.killedBy ? `killed (${outcome.killedBy})` : `exit code ${outcome.exitCode}`;
  const parts = [status, outcome.stdout.length ? `stdout:\n${cap(outcome.stdout)}` : '', outcome.stderr.length ? `stderr:\n${cap(outcome.stderr)}` : ''];
  return { content: parts.filter(Boolean).join('\n') + (outcome.truncated ? '\n[output truncated]' : ''), isError: outcome.exitCode !== 0 };
}

function systemPrompt(ctx: RunContext, tools: string[]): string {
  const d = ctx.request.dataset;
  const requested = ctx.recorder.events[0];
  const bytes = requested?.type === 'execution.requested' ? requested.data.dataset_bytes : 0;
  const scripts = Object.keys(ctx.request.sandbox.scripts ?? {});
  return [
    'You analyse a private dataset inside an isolated, disposable sandbox. Nothing you do can reach the network.',
    `The dataset is the file /data/dataset.${d.format} (format ${d.format}, ${bytes} bytes, read-only); work in /work.`,
    scripts.length ? `Scripts available in /work: ${scripts.join(', ')}.` : 'There are no scripts.',
    `Tools: ${tools.join(', ')}. Every call is recorded (as hashes) in a public execution certificate.`,
    ...(tools.includes('sql') ? ['With sql, the dataset is also the read-only SQLite table `dataset`, with typed columns.'] : []),
    ...(tools.includes('sql') && (tools.includes('bash') || tools.includes('python'))
      ? ['Programs you run can ask it too, with the `sql` command (`sql --csv "SELECT …"`; `sql --help`).']
      : []),
    'Do not copy personal data into your answer unless the task asks for it. End with your final answer; if it is structured, give it as one JSON object.',
  ].join('\n');
}

function userPrompt(prompt: string, entrypoint: string | null, scriptOutcome: ToolOutcome | null): string {
  if (!entrypoint || !scriptOutcome) return prompt;
  return `${prompt}\n\nThe entry script ${entrypoint} already ran; its output:\n${Buffer.from(scriptOutcome.stdout.subarray(0, TOOL_RESULT_BYTES)).toString('utf8')}`;
}
