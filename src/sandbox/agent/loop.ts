/**
 * The agent loop on the Anthropic Messages API with tool use. It knows
 * nothing about events: it reports every API call (request and response
 * bodies, never credentials) and hands every tool call to `runTool`, which
 * runs it in the sandbox; the command handler records both.
 * Ends on the model's final answer, on max_turns, or on the token budget.
 */
import { EphemeraError } from '../../errors.js';
import { llmError, llmErrorCode, type LlmErrorCode } from './errors.js';
import type { ToolDefinition } from './tools.js';

export interface LlmCallReport {
  turn: number;
  model: string;
  request: Record<string, unknown>;
  response: Record<string, unknown> | null;
  inputTokens: number;
  outputTokens: number;
  stopReason: string | null;
  latencyMs: number;
  /** Why the call failed; EXECUTOR_DRAINING when the executor cancelled it on shutdown. */
  errorCode: LlmErrorCode | 'EXECUTOR_DRAINING' | 'EXECUTION_TIMEOUT' | null;
}

/**
 * The one call the loop makes (a port): the Anthropic SDK's client in
 * production, a recorded transcript in tests (testing/transcript.ts), so the
 * loop's decisions are tested without a server.
 */
export interface ModelClient {
  messages: { create(request: never, options?: { signal?: AbortSignal }): Promise<unknown> };
}

export interface AgentOptions {
  client: ModelClient;
  model: string;
  system: string;
  prompt: string;
  tools: ToolDefinition[];
  maxTurns: number;
  maxOutputTokens: number;
  maxTotalTokens: number;
  runTool(name: string, input: unknown): Promise<{ content: string; isError: boolean }>;
  onLlmCall(report: LlmCallReport): Promise<void>;
  /** Cancels a pending model call (the executor drains); the loop then throws EXECUTOR_DRAINING. */
  signal?: AbortSignal;
  /** The run's own deadline (timeout_seconds covers the model too): a pending call is cancelled, no turn starts after it; EXECUTION_TIMEOUT. */
  deadline?: AbortSignal;
}

export interface AgentResult {
  answer: string;
  turns: number;
  inputTokens: number;
  outputTokens: number;
}

type Block = { type: string; text?: string; id?: string; name?: string; input?: unknown };

export async function runAgent(o: AgentOptions): Promise<AgentResult> {
  const messages: { role: 'user' | 'assistant'; content: unknown }[] = [{ role: 'user', content: o.prompt }];
  let inputTokens = 0;
  let outputTokens = 0;
  // Why the loop must stop now: the drain first (it is the executor's), then the run's deadline.
  const stopped = () => (o.signal?.aborted ? 'EXECUTOR_DRAINING' : o.deadline?.aborted ? 'EXECUTION_TIMEOUT' : null);
  const signal = o.signal && o.deadline ? AbortSignal.any([o.signal, o.deadline]) : (o.signal ?? o.deadline);
  for (let turn = 1; turn <= o.maxTurns; turn++) {
    const before = stopped();
    if (before) throw stopError(before);
    const request = { model: o.model, max_tokens: o.maxOutputTokens, system: o.system, tools: o.tools, messages: structuredClone(messages) };
    const started = Date.now();
    let response: Record<string, unknown>;
    try {
      response = (await o.client.messages.create(request as never, signal ? { signal } : undefined)) as unknown as Record<string, unknown>;
    } catch (error) {
      const code = stopped() ?? llmErrorCode(error);
      await o.onLlmCall({
        turn,
        model: o.model,
        request,
        response: null,
        inputTokens: 0,
        outputTokens: 0,
        stopReason: null,
        latencyMs: Date.now() - started,
        errorCode: code,
      });
      if (code === 'EXECUTOR_DRAINING' || code === 'EXECUTION_TIMEOUT') throw stopError(code);
      throw llmError(code, `the model call failed (${code})`);
    }
    const usage = response.usage as { input_tokens?: unknown; output_tokens?: unknown } | undefined;
    const wellFormed =
      typeof response === 'object' &&
      response !== null &&
      Array.isArray(response.content) &&
      Number.isSafeInteger(usage?.input_tokens) &&
      Number.isSafeInteger(usage?.output_tokens);
    const report: LlmCallReport = {
      turn,
      model: o.model,
      request,
      response: wellFormed ? { ...response } : null,
      inputTokens: wellFormed ? (usage!.input_tokens as number) : 0,
      outputTokens: wellFormed ? (usage!.output_tokens as number) : 0,
      stopReason: typeof response.stop_reason === 'string' ? response.stop_reason : null,
      latencyMs: Date.now() - started,
      errorCode: wellFormed ? null : 'LLM_BAD_RESPONSE',
    };
    await o.onLlmCall(report);
    if (!wellFormed) throw llmError('LLM_BAD_RESPONSE', 'the model answered something that is not a Messages API response');
    inputTokens += report.inputTokens;
    outputTokens += report.outputTokens;

    const content = response.content as Block[];
    messages.push({ role: 'assistant', content });
    const toolUses = content.filter((b) => b.type === 'tool_use');
    if (report.stopReason !== 'tool_use' || toolUses.length === 0) {
      return {
        answer: content
          .filter((b) => b.type === 'text')
          .map((b) => b.text ?? '')
          .join('\n')
          .trim(),
        turns: turn,
        inputTokens,
        outputTokens,
      };
    }
    if (inputTokens + outputTokens > o.maxTotalTokens) throw llmError('LLM_TOKEN_BUDGET', 'the token budget is spent');
    const results = [];
    for (const use of toolUses) {
      const { content: text, isError } = await o.runTool(String(use.name), use.input);
      results.push({ type: 'tool_result', tool_use_id: use.id, content: text, is_error: isError });
    }
    messages.push({ role: 'user', content: results });
  }
  throw llmError('LLM_MAX_TURNS', 'the model did not finish within max_turns');
}

function stopError(code: 'EXECUTOR_DRAINING' | 'EXECUTION_TIMEOUT'): EphemeraError {
  return code === 'EXECUTOR_DRAINING'
    ? new EphemeraError(code, 'the model call was cancelled: the executor is shutting down')
    : new EphemeraError(code, "the run's timeout_seconds passed during its LLM step");
}
