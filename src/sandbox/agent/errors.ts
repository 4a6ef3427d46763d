/**
 * Maps Anthropic SDK failures (after its own retries) to stable codes.
 * SECURITY: SDK errors can carry request headers; only the code leaves here.
 */
import {
  APIConnectionError, APIConnectionTimeoutError, AuthenticationError, BadRequestError, InternalServerError,
  NotFoundError, PermissionDeniedError, RateLimitError, APIError,
} from '@anthropic-ai/sdk';
import { EphemeraError } from '../../errors.js';

export type LlmErrorCode =
  | 'LLM_AUTH'
  | 'LLM_RATE_LIMITED'
  | 'LLM_UNAVAILABLE'
  | 'LLM_TIMEOUT'
  | 'LLM_BAD_REQUEST'
  | 'LLM_BAD_RESPONSE'
  | 'LLM_MAX_TURNS'
  | 'LLM_TOKEN_BUDGET'
  | 'LLM_NO_API_KEY';

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

export function llmError(code: LlmErrorCode, message: string): EphemeraError<LlmErrorCode> {
  return new EphemeraError<LlmErrorCode>(code, message);
}
