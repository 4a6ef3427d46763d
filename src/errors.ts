/**
 * The one base error of Ephemera. Every module owns its literal code list and
 * throws `EphemeraError<ItsCode>`; the HTTP layer and the CLI map codes, never
 * messages. Messages must never contain dataset text or credentials.
 *
 * Codes are those of the registry (error-codes.ts): a code that is not there
 * does not type-check.
 *
 * This file is a leaf: it imports only types, so every layer may import it.
 */
import type { ErrorCode } from './error-codes.js';

export class EphemeraError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code;
  readonly fields: Readonly<Record<string, unknown>>;
  /** When the caller may try again, whole seconds: the HTTP answer's Retry-After (a refusal for overload or shutdown). */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: Code, message: string, options: { cause?: unknown; fields?: Record<string, unknown>; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EphemeraError';
    this.code = code;
    this.fields = Object.freeze({ ...(options.fields ?? {}) });
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isEphemeraError(value: unknown): value is EphemeraError {
  return value instanceof EphemeraError;
}
