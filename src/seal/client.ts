/**
 * The client of sealed submissions, for Node and the browser: fetch the
 * server's key document, check it under the caller's policy, and only then
 * seal and send (docs/sealed.md §2–4). Nothing is sent when a check fails.
 */
import { EphemeraError, isEphemeraError } from '../errors.js';
import { concatBytes, isPlainObject, parseStrictJson, type Hash } from '../events/index.js';
import { MAX_KEY_DOCUMENT_BYTES, checkKeyDocument, parseKeyDocument } from './key-document.js';
import { sealRequest } from './sealed-request.js';
import { refuse } from './strict.js';
import {
  KEY_DOCUMENT_PATH,
  SEALED_REQUEST_CONTENT_TYPE,
  type KeyDocument,
  type KeyPolicy,
  type SealCrypto,
  type SealRequestInput,
  type VerifiedKey,
} from './types.js';

const KEY_DOCUMENT_TIMEOUT_MS = 10_000;
/** The answer of POST /execute: a summary and the event-free parts of a certificate, far below this. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

function endpoint(server: string, path: string): URL {
  let url: URL;
  try {
    url = new URL(path, server);
  } catch {
    return refuse('SEAL_KEY_DOCUMENT_UNAVAILABLE', 'the server is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') refuse('SEAL_KEY_DOCUMENT_UNAVAILABLE', 'the server URL must be http(s)');
  return url;
}

/** Reads a response body, refusing it (with `tooLarge`) as soon as it passes `max` bytes. */
async function readBounded(response: Response, max: number, tooLarge: () => never): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > max) tooLarge();
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      tooLarge();
    }
    chunks.push(value);
  }
  return concatBytes(...chunks);
}

/** GET server + KEY_DOCUMENT_PATH: 10 s, 8 MiB, no redirects (the key belongs to the node that answers), read strictly. */
export async function fetchKeyDocument(server: string, fetchImpl: typeof fetch = fetch): Promise<KeyDocument> {
  return (await fetchKeyDocumentFrom(server, fetchImpl)).document;
}

/**
 * The cookies a key document's answer set, as a Cookie header (null: none). Behind a proxy a sealed request must
 * reach the node that holds its key (another node answers SEALED_KEY_UNKNOWN): the proxy makes that node sticky
 * with a cookie (deploy/nodes/haproxy.cfg), which a browser returns by itself and this client returns by hand.
 * Only each cookie's name=value is kept; a browser exposes no Set-Cookie (it keeps them itself): null there.
 */
function affinityOf(response: Response): string | null {
  const cookies = (response.headers.getSetCookie?.() ?? []).map((line) => line.split(';', 1)[0]!.trim()).filter((pair) => /^[^=\s]+=/.test(pair));
  return cookies.length > 0 ? cookies.join('; ') : null;
}

async function fetchKeyDocumentFrom(server: string, fetchImpl: typeof fetch): Promise<{ document: KeyDocument; affinity: string | null }> {
  const url = endpoint(server, KEY_DOCUMENT_PATH);
  let bytes: Uint8Array;
  let affinity: string | null;
  try {
    const response = await fetchImpl(url, { signal: AbortSignal.timeout(KEY_DOCUMENT_TIMEOUT_MS), redirect: 'error', headers: { accept: 'application/json' } });
    affinity = affinityOf(response);
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      refuse('SEAL_KEY_DOCUMENT_UNAVAILABLE', `${url} answered HTTP ${response.status}`);
    }
    bytes = await readBounded(response, MAX_KEY_DOCUMENT_BYTES, () =>
      refuse('SEAL_KEY_DOCUMENT_MALFORMED', `the key document is larger than ${MAX_KEY_DOCUMENT_BYTES} bytes`),
    );
  } catch (cause) {
    if (isEphemeraError(cause)) throw cause;
    throw new EphemeraError('SEAL_KEY_DOCUMENT_UNAVAILABLE', `could not fetch ${url}: ${failureOf(cause)}`, { cause });
  }
  return { document: parseKeyDocument(bytes), affinity };
}

export interface SubmitSealedOptions {
  server: string;
  token?: string;
  policy: KeyPolicy;
  input: SealRequestInput;
  fetch?: typeof fetch;
  crypto?: SealCrypto;
  /** Called once the key document passed every check, before anything is sealed or sent. */
  onVerified?: (key: VerifiedKey) => void;
  /** Ask for the async answer (202 and the run's id) with `Prefer: respond-async`. */
  async?: boolean;
}

/**
 * Fetches and checks the key document, seals the request to it, POSTs it to /execute. Returns the
 * HTTP status and the parsed answer (null when it is not JSON). A 200 that names a submission must
 * name the statement this request was sealed to: SEAL_SUBMISSION_MISMATCH otherwise. `rowSecret` is the
 * run's row secret when the run committed its records (docs/row-proofs.md §7).
 */
export async function submitSealed(
  options: SubmitSealedOptions,
): Promise<{ verified: VerifiedKey; statementHash: Hash; status: number; body: unknown; rowSecret: Uint8Array }> {
  const fetchImpl = options.fetch ?? fetch;
  const { document, affinity } = await fetchKeyDocumentFrom(options.server, fetchImpl);
  const verified = await checkKeyDocument(document, options.policy);
  options.onVerified?.(verified);
  const statementHash = document.statement_hash;
  // The row secret is derived from this request's HPKE context (docs/row-proofs.md §7): the server never sends it.
  const { body, rowSecret } = await sealRequest(document, options.input, options.crypto);
  const headers: Record<string, string> = { 'content-type': SEALED_REQUEST_CONTENT_TYPE, accept: 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.async) headers.prefer = 'respond-async';
  if (affinity !== null) headers.cookie = affinity;
  const response = await fetchImpl(endpoint(options.server, '/execute'), { method: 'POST', headers, body: body as Uint8Array<ArrayBuffer>, redirect: 'error' });
  const bytes = await readBounded(response, MAX_ANSWER_BYTES, () => refuse('INTERNAL', `the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
  let answer: unknown = null;
  try {
    answer = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    answer = null;
  }
  if (response.status === 200 && isPlainObject(answer) && Object.hasOwn(answer, 'submission')) {
    const submission = answer.submission;
    if (!isPlainObject(submission) || submission.key_statement_hash !== statementHash)
      refuse('SEAL_SUBMISSION_MISMATCH', `the answer's submission does not name key statement ${statementHash}`, 'submission.key_statement_hash');
  }
  return { verified, statementHash, status: response.status, body: answer, rowSecret };
}

/** Why a fetch failed, in a word the user can act on (the system's code: ECONNREFUSED, a TLS error, a timeout). */
function failureOf(cause: unknown): string {
  const error = cause as { name?: unknown; cause?: { code?: unknown } };
  if (error?.name === 'TimeoutError') return `no answer within ${KEY_DOCUMENT_TIMEOUT_MS / 1000} s`;
  const code = error?.cause?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,64}$/.test(code) ? `the connection failed (${code})` : 'the connection failed';
}
