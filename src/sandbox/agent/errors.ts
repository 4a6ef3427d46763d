/**
 * Maps Anthropic SDK failures (after its own retries) to stable codes.
 * SECURITY: SDK errors can carry request headers; only the code leaves here.
 */
import type { ErrorCode } from '../../error-codes.js';
// The SDK's error module alone (the very classes its client throws): the client loads on a run's first model call (run-llm.ts).
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  APIError,
} from '@anthropic-ai/sdk/error';
import { EphemeraError } from '../../errors.js';

/** The codes of a run that ends for the model's reasons (error-codes.ts). */
export type LlmErrorCode = Extract<ErrorCode, `LLM_${string}`>;

export function llmErrorCode(error: unknown): LlmErrorCode {
  if (error instanceof EphemeraError && error.code.startsWith('LLM_')) return error.code as LlmErrorCode;
  if (error instanceof AuthenticationError || error instanceof PermissionDeniedError) return 'LLM_AUTH';
  if (error instanceof RateLimitError) return 'LLM_RATE_LIMITED';
  if (error instanceof APIConnectionTimeoutError) return 'LLM_TIMEOUT';
  if (error instanceof InternalServerError || error instanceof APIConnectionError) return 'LLM_UNAVAILABLE';
  if (error instanceof BadRequestError || error instanceof NotFoundError) return 'LLM_BAD_REQUEST';
  if (error instanceof APIError && error.status === 408) return 'LLM_TIMEOUT';
  return 'LLM_BAD_RESPONSE';
}

/**
 * The code a run ends with when the agent loop threw `error`: the loop's own
 * LLM_* codes only. Anything else (the sandbox, the log, a limit, a bug) is
 * not the model's fault and keeps its own code: null says "rethrow it".
 */
export function modelFailureCode(error: unknown): LlmErrorCode | null {
  return error instanceof EphemeraError && error.code.startsWith('LLM_') ? (error.code as LlmErrorCode) : null;
}

export function llmError(code: LlmErrorCode, message: string): EphemeraError<LlmErrorCode> {
  return new EphemeraError<LlmErrorCode>(code, message);
}
