/**
 * A model client that plays back a recorded transcript: each call gets the
 * next answer (a Messages API response body, or an error to throw) and is
 * kept, so a test sees exactly what the loop sent.
 */
import type { ModelClient } from '../loop.js';

export type Answer = Record<string, unknown> | Error;

export function transcriptClient(answers: readonly Answer[]): ModelClient & { requests: Record<string, unknown>[] } {
  const requests: Record<string, unknown>[] = [];
  let next = 0;
  return {
    requests,
    messages: {
      create: async (request: never) => {
        requests.push(structuredClone(request) as Record<string, unknown>);
        const answer = answers[next++];
        if (answer === undefined) throw new Error('the transcript has no more answers');
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  };
}

/** A response that asks for tools. */
export const toolUse = (calls: { id: string; name: string; input: unknown }[], tokens = { input: 10, output: 5 }): Answer => ({
  content: calls.map((c) => ({ type: 'tool_use', ...c })),
  stop_reason: 'tool_use',
  usage: { input_tokens: tokens.input, output_tokens: tokens.output },
});

/** A final answer. */
export const finalText = (text: string, tokens = { input: 10, output: 5 }): Answer => ({
  content: [{ type: 'text', text }],
  stop_reason: 'end_turn',
  usage: { input_tokens: tokens.input, output_tokens: tokens.output },
});
