import { APIConnectionTimeoutError, AuthenticationError, RateLimitError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { EphemeraError } from '../../errors.js';
import { llmError, llmErrorCode, modelFailureCode } from './errors.js';

describe("which failures are the model's", () => {
  it("maps the SDK's errors to their codes, and anything else it threw to LLM_BAD_RESPONSE", () => {
    expect(llmErrorCode(new AuthenticationError(401, undefined, 'no', new Headers()))).toBe('LLM_AUTH');
    expect(llmErrorCode(new RateLimitError(429, undefined, 'slow', new Headers()))).toBe('LLM_RATE_LIMITED');
    expect(llmErrorCode(new APIConnectionTimeoutError())).toBe('LLM_TIMEOUT');
    expect(llmErrorCode(new SyntaxError('Unexpected token'))).toBe('LLM_BAD_RESPONSE');
  });

  it("ends a run with the loop's own LLM_* codes", () => {
    expect(modelFailureCode(llmError('LLM_MAX_TURNS', 'too many'))).toBe('LLM_MAX_TURNS');
    expect(modelFailureCode(llmError('LLM_TOKEN_BUDGET', 'spent'))).toBe('LLM_TOKEN_BUDGET');
  });

  it.each([
    ['the sandbox', new EphemeraError('SANDBOX_UNRESPONSIVE', 'the supervisor did not answer')],
    ['the log', new EphemeraError('LOG_APPEND_FAILED', 'the broker is gone')],
    ['a bug', new TypeError('x is undefined')],
  ])('leaves a failure of %s its own code (it is not a bad model response)', (_what, error) => {
    expect(modelFailureCode(error)).toBeNull();
  });
});
