/**
 * What an outcome event (execution.completed / execution.failed) says of the
 * result, for every path that ends a run: the result in the clear, or, when
 * the request names a result recipient, sealed to it (docs/sealed.md §5):
 * the empty result, no stderr tail, a salted commitment as result_hash and
 * the ciphertext as sealed_result.
 */
import { createHash, randomBytes } from 'node:crypto';
import { bytesToHex, type Hash, type RunResult, type SealedResult, type StderrTail } from '../../events/index.js';
import { sealResult } from '../../seal/index.js';
import { nodeSealCrypto } from '../../seal/node-aead.js';
import { requestInvalid } from './request.js';

/** The result a sealed outcome records: it says nothing. */
export const EMPTY_RESULT: RunResult = { output: '', bytes: 0, truncated: false, json: null };

/**
 * A run whose result is sealed: its recipient, and one random salt that keys every content hash its steps
 * record (args, outputs, model prompts and answers) and the result's commitment. Unkeyed, a guessable
 * output could be confirmed from a step's hash (an entry script's output_hash is its result's).
 */
export interface ResultSealing {
  recipient: string;
  salt: Uint8Array;
}

export function resultSealing(recipient: string | undefined): ResultSealing | null {
  return recipient === undefined ? null : { recipient, salt: randomBytes(32) };
}

/** SHA-256 of the parts, keyed by the run's salt when its result is sealed: SHA-256(salt ‖ parts). */
export function stepHash(sealing: ResultSealing | null, ...parts: (string | Uint8Array)[]): Hash {
  const hash = createHash('sha256');
  if (sealing) hash.update(sealing.salt);
  for (const part of parts) hash.update(part);
  return `sha256:${hash.digest('hex')}`;
}

export interface OutcomeResult {
  result: RunResult;
  result_hash: Hash;
  stderr_tail?: StderrTail;
  sealed_result?: SealedResult;
}

export async function outcomeResult(
  sealing: ResultSealing | null,
  executionId: string,
  result: RunResult,
  resultHash: Hash,
  tail: StderrTail | null = null,
): Promise<OutcomeResult> {
  if (sealing === null) return { result, result_hash: resultHash, ...(tail ? { stderr_tail: tail } : {}) };
  const sealed = await sealResult(sealing.recipient, executionId, { result, stderr_tail: tail }, nodeSealCrypto, bytesToHex(sealing.salt));
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
