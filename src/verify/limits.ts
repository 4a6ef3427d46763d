/**
 * Limits a verifier checks before doing the work (THREATS E40,
 * docs/verification.md §3). All configurable; the defaults admit a run of a
 * million events with room to spare.
 */
import type { JsonLimits } from '../events/index.js';

export interface VerifyLimits extends JsonLimits {
  /** Size of the certificate text, bytes (UTF-8). */
  maxBytes: number;
  /** Events in the stream, the sealing event included. */
  maxEvents: number;
}

export const DEFAULT_VERIFY_LIMITS: VerifyLimits = Object.freeze({
  maxBytes: 1024 * 1024 * 1024,
  maxEvents: 2_000_000,
  maxDepth: 64,
  maxStringLength: 4 * 1024 * 1024,
});
