/**
 * A sealed POST /execute body (docs/sealed.md §3), opened in memory: the
 * framing and header checked, the key looked up in the ring (unknown,
 * expired, other suite), a replay refused before and after opening, and the
 * opened parts assembled into the same ExecuteRequest a plain caller sends,
 * checked by the same schema and rules. The dataset stays bytes (never
 * base64); its plaintext buffer is zeroed on every refusal here, and by the
 * run once it is handed over.
 *
 * SECURITY: no error carries a header value, the ciphertext, `enc`, the
 * plaintext or any key; only codes and fixed words.
 */
import { EphemeraError } from '../../errors.js';
import { openSealedRequest, readSealedHeader } from '../../seal/index.js';
import { nodeSealCrypto } from '../../seal/node-aead.js';
import { isPlainObject, type Submission } from '../../events/index.js';
import type { KeyRing } from '../keys/key-ring.js';
import type { ExecuteRequest } from './request-schema.js';
import { requestInvalid, requestProblems } from './request.js';

/** What a sealed request hands the run besides its ExecuteRequest (ExecuteDeps.sealed). */
export interface SealedInput {
  /** A view into `plaintext`. */
  dataset: Uint8Array;
  /** Everything opened (inner part, API key, dataset): zeroed when the run ends, on every path. */
  plaintext: Uint8Array;
  submission: Submission;
  /** The row secret derived from the request's HPKE context (docs/row-proofs.md §7): zeroed with the plaintext. */
  rowSecret: Uint8Array;
}

export async function openSealedExecute(body: Uint8Array, keyRing: KeyRing): Promise<{ request: ExecuteRequest; sealed: SealedInput }> {
  const read = readSealedHeader(body);
  // readSealedHeader refuses a header that shows an API key: it travels only inside the ciphertext.
  const { header } = read;
  const key = keyRing.lookup(header.key_id, header.suite);
  keyRing.refuseReplay(key, header.enc);
  const opened = await openSealedRequest(body, read, { keyPair: key.keyPair, suite: key.suite }, nodeSealCrypto);
  try {
    keyRing.remember(key, header.enc);
    const request = assemble(opened.sandbox, opened.apiKey, header);
    return { request, sealed: { dataset: opened.dataset, plaintext: opened.plaintext, submission: opened.submission, rowSecret: opened.rowSecret } };
  } catch (error) {
    opened.plaintext.fill(0);
    opened.rowSecret.fill(0);
    throw error;
  }
}

/**
 * The request a plain caller would have sent, without its dataset bytes: checked with the same schema and rules
 * (the dataset checked as an empty inline one: its bytes are the sealed ones, checked by the run for size and emptiness).
 */
function assemble(sandbox: Record<string, unknown>, apiKey: string | null, header: ReturnType<typeof readSealedHeader>['header']): ExecuteRequest {
  let withKey: unknown = sandbox;
  if (apiKey !== null) {
    if (!isPlainObject(sandbox.llm)) throw new EphemeraError('SEALED_PAYLOAD_INVALID', 'an API key was sealed, but the sandbox has no llm step');
    withKey = { ...sandbox, llm: { ...sandbox.llm, api_key: apiKey } };
  }
  const dataset = {
    format: header.dataset.format,
    allow_empty: header.dataset.allow_empty,
    ...(header.dataset.rows === undefined ? {} : { rows: header.dataset.rows }),
  };
  const recipient = header.result_recipient === null ? {} : { result_recipient: header.result_recipient };
  const problems = requestProblems({ dataset: { ...dataset, data: 'base64:' }, sandbox: withKey, ...recipient });
  if (problems.length > 0) throw requestInvalid(problems);
  return { dataset, sandbox: withKey as ExecuteRequest['sandbox'], ...recipient };
}
