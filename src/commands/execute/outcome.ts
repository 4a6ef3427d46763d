/**
 * What an outcome event (execution.completed / execution.failed) says of the
 * result, for every path that ends a run: the result in the clear, or, when
 * the request names a result recipient, sealed to it (docs/sealed.md §5):
 * the empty result, no stderr tail, a salted commitment as result_hash and
 * the ciphertext as sealed_result.
 */
import type { Hash, RunResult, SealedResult, StderrTail } from '../../events/index.js';
import { sealResult } from '../../seal/index.js';
import { nodeSealCrypto } from '../../seal/node-aead.js';
import { requestInvalid } from './request.js';

/** The result a sealed outcome records: it says nothing. */
export const EMPTY_RESULT: RunResult = { output: '', bytes: 0, truncated: false, json: null };

export interface OutcomeResult {
  result: RunResult;
  result_hash: Hash;
  stderr_tail?: StderrTail;
  sealed_result?: SealedResult;
}

export async function outcomeResult(
  recipient: string | undefined,
  executionId: string,
  result: RunResult,
  resultHash: Hash,
  tail: StderrTail | null = null,
): Promise<OutcomeResult> {
  if (recipient === undefined) return { result, result_hash: resultHash, ...(tail ? { stderr_tail: tail } : {}) };
  const sealed = await sealResult(recipient, executionId, { result, stderr_tail: tail }, nodeSealCrypto);
  return { result: { ...EMPTY_RESULT }, result_hash: sealed.resultHash, sealed_result: sealed.sealed };
}

/**
 * A recipient key a result cannot be sealed to (a point of small order makes HPKE refuse) is refused with the
 * request, before anything is loaded or recorded: found at the outcome, it would leave a run with no certificate.
 */
export async function checkRecipient(recipient: string | undefined): Promise<void> {
  if (recipient === undefined) return;
  try {
    await sealResult(recipient, 'recipient-check', { result: { ...EMPTY_RESULT }, stderr_tail: null }, nodeSealCrypto);
  } catch {
    throw requestInvalid([{ path: 'result_recipient', code: 'REQUEST_INVALID', message: 'is not an X25519 public key a result can be sealed to' }]);
  }
}
