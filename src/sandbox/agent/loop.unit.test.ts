/** The agent loop's decisions, against recorded transcripts (no server): what it asks, which tools it runs, when it stops, and with which code. */
import { RateLimitError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { runAgent, type AgentOptions, type LlmCallReport } from './loop.js';
import { finalText, toolUse, transcriptClient, type Answer } from './testing/transcript.js';

function agent(answers: Answer[], overrides: Partial<AgentOptions> = {}) {
  const client = transcriptClient(answers);
  const calls: LlmCallReport[] = [];
  const tools: { name: string; input: unknown }[] = [];
  const options: AgentOptions = {
    client,
    model: 'claude-test',
    system: 'sys',
    prompt: 'count the rows',
    tools: [],
    maxTurns: 5,
    maxOutputTokens: 100,
    maxTotalTokens: 10_000,
    runTool: async (name, input) => {
      tools.push({ name, input });
      return { content: `ran ${name}`, isError: name === 'broken' };
    },
    onLlmCall: async (report) => {
      calls.push(report);
    },
    ...overrides,
  };
  return { run: () => runAgent(options), client, calls, tools };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: { code?: string }) => error.code ?? 'thrown',
  );

describe('runAgent', () => {
  describe('when the executor drains during a model call', () => {
    it('hands the signal to the call, reports the call as EXECUTOR_DRAINING and throws that code', async () => {
      const drain = new AbortController();
      const calls: LlmCallReport[] = [];
      let given: AbortSignal | undefined;
      const client = {
        messages: {
          // Like the SDK: a pending request rejects once its signal fires.
          create: (_request: never, options?: { signal?: AbortSignal }) =>
            new Promise((_resolve, reject) => {
              given = options?.signal;
              given?.addEventListener('abort', () => reject(new Error('Request was aborted.')));
            }),
        },
      };
      const running = agent([], { client, signal: drain.signal, onLlmCall: async (r) => void calls.push(r) }).run();
      await new Promise((resolve) => setImmediate(resolve));
      expect(given).toBe(drain.signal);
      drain.abort();
      expect(await failure(running)).toBe('EXECUTOR_DRAINING');
      expect(calls).toMatchObject([{ turn: 1, response: null, errorCode: 'EXECUTOR_DRAINING' }]);
    });
  });

  describe("when the run's deadline passes", () => {
    it('cancels the pending call and reports it as EXECUTION_TIMEOUT; the drain, when both fired, names the cause', async () => {
      const deadline = new AbortController();
      const calls: LlmCallReport[] = [];
      const client = {
        messages: {
          create: (_request: never, options?: { signal?: AbortSignal }) =>
            new Promise((_resolve, reject) => options?.signal?.addEventListener('abort', () => reject(new Error('Request was aborted.')))),
        },
      };
      const running = agent([], { client, deadline: deadline.signal, onLlmCall: async (r) => void calls.push(r) }).run();
      await new Promise((resolve) => setImmediate(resolve));
      deadline.abort();
      expect(await failure(running)).toBe('EXECUTION_TIMEOUT');
      expect(calls).toMatchObject([{ turn: 1, response: null, errorCode: 'EXECUTION_TIMEOUT' }]);

      const both = agent([], { client, deadline: AbortSignal.abort(), signal: AbortSignal.abort() });
      expect(await failure(both.run())).toBe('EXECUTOR_DRAINING');
    });

    it('starts no turn once it has passed: nothing is asked, nothing reported', async () => {
      const a = agent([finalText('42 rows')], { deadline: AbortSignal.abort() });
      expect(await failure(a.run())).toBe('EXECUTION_TIMEOUT');
      expect(a.client.requests).toEqual([]);
      expect(a.calls).toEqual([]);
    });
  });

  describe('when the model answers at once', () => {
    it('returns its text, reports one call, runs no tool', async () => {
      const a = agent([finalText('42 rows')]);
      expect(await a.run()).toEqual({ answer: '42 rows', turns: 1, inputTokens: 10, outputTokens: 5 });
      expect(a.tools).toEqual([]);
      expect(a.calls).toMatchObject([{ turn: 1, model: 'claude-test', stopReason: 'end_turn', errorCode: null, inputTokens: 10, outputTokens: 5 }]);
      expect(a.client.requests[0]).toMatchObject({
        model: 'claude-test',
        max_tokens: 100,
        system: 'sys',
        messages: [{ role: 'user', content: 'count the rows' }],
      });
    });
  });

  describe('when the model asks for tools', () => {
    it('runs each in order, sends every result back with its id, and keeps the conversation', async () => {
      const a = agent([
        toolUse([
          { id: 't1', name: 'bash', input: { command: 'wc -l' } },
          { id: 't2', name: 'broken', input: {} },
        ]),
        finalText('done'),
      ]);
      expect((await a.run()).answer).toBe('done');
      expect(a.tools).toEqual([
        { name: 'bash', input: { command: 'wc -l' } },
        { name: 'broken', input: {} },
      ]);
      const second = a.client.requests[1]!.messages as { role: string; content: unknown }[];
      expect(second.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
      expect(second[2]!.content).toEqual([
        { type: 'tool_result', tool_use_id: 't1', content: 'ran bash', is_error: false },
        { type: 'tool_result', tool_use_id: 't2', content: 'ran broken', is_error: true },
      ]);
      // What was sent first is not changed by what came after.
      expect(a.client.requests[0]!.messages).toHaveLength(1);
    });

    it('stops with LLM_MAX_TURNS when the model never finishes', async () => {
      const a = agent(
        Array.from({ length: 3 }, () => toolUse([{ id: 'x', name: 'bash', input: {} }])),
        { maxTurns: 3 },
      );
      expect(await failure(a.run())).toBe('LLM_MAX_TURNS');
      expect(a.calls).toHaveLength(3);
    });

    it('stops with LLM_TOKEN_BUDGET once the tokens spent pass the budget, before running more tools', async () => {
      const a = agent([toolUse([{ id: 'x', name: 'bash', input: {} }], { input: 60, output: 50 })], { maxTotalTokens: 100 });
      expect(await failure(a.run())).toBe('LLM_TOKEN_BUDGET');
      expect(a.tools).toEqual([]);
    });
  });

  describe('when the model call fails', () => {
    it('reports the call with the mapped code, then ends with it', async () => {
      const a = agent([new RateLimitError(429, undefined, 'slow down', new Headers())]);
      expect(await failure(a.run())).toBe('LLM_RATE_LIMITED');
      expect(a.calls).toMatchObject([{ turn: 1, response: null, errorCode: 'LLM_RATE_LIMITED', inputTokens: 0 }]);
    });

    it.each([
      ['no content list', { stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } }],
      ['no usage', { content: [], stop_reason: 'end_turn' }],
      ['fractional token counts', { content: [], stop_reason: 'end_turn', usage: { input_tokens: 1.5, output_tokens: 1 } }],
    ])('refuses a response with %s as LLM_BAD_RESPONSE, reported without its body', async (_what, body) => {
      const a = agent([body]);
      expect(await failure(a.run())).toBe('LLM_BAD_RESPONSE');
      expect(a.calls).toMatchObject([{ response: null, errorCode: 'LLM_BAD_RESPONSE', inputTokens: 0, outputTokens: 0 }]);
    });
  });
});
