/**
 * The log's side of C2SP tlog-witness (docs/transparency.md §13): after each
 * checkpoint the sequencer hands it to `WitnessClient.submit`, which posts it
 * to every configured witness with `old <the size that witness last cosigned>`
 * and the consistency proof, and resolves with the cosignature lines that
 * verify under each witness's key. A witness's word is never trusted: its
 * answer is bounded (WITNESS_ANSWER_MAX_BYTES, the timeout, no redirects) and
 * its cosignature verified against the checkpoint sent. It never throws: a
 * witness that fails is left out of the result and reported to `onReport`.
 *
 * Per witness one request at a time; a checkpoint submitted while one is in
 * flight waits, and a newer one replaces it (only the latest is sent next;
 * the replaced submit gets no line from that witness). Its last size starts
 * at 0 (the log does not remember it): the witness's 409 says where it is,
 * and the request is retried once from there.
 */
import { type ErrorCode, isErrorCode } from '../../error-codes.js';
import { EphemeraError, isEphemeraError } from '../../errors.js';
import { type CosignerVerifier, cosignatureTimestamp, parseCosignerVerifierKey } from '../../tlog/cosignature.js';
import { NOTE_MAX_SIGNATURES } from '../../tlog/note.js';
import { appendCosignatures, formatAddCheckpointRequest, parseTreeSizeBody, TREE_SIZE_CONTENT_TYPE } from '../../tlog/witness-messages.js';

export interface WitnessEndpoint {
  /** The witness's cosigner vkey (cosignature/v1, type 0x04: `ephemera witness key`). */
  vkey: string;
  /** Its submission prefix; requests go to `<url>/add-checkpoint`. */
  url: string;
}

/** One checkpoint to cosign. */
export interface WitnessSubmission {
  origin: string;
  /** The signed checkpoint (a note, as the log signed it). */
  checkpoint: string;
  /** Its tree size. */
  size: number;
  /** RFC 6962 PROOF(oldSize, D[0:size]); called only with 0 < oldSize < size. */
  consistencyProof(oldSize: number): Promise<Uint8Array[]>;
}

/** What became of one submission at one witness. */
export type WitnessReport =
  | { ok: true; vkey: string; url: string; size: number; cosignature: string }
  | { ok: false; vkey: string; url: string; size: number; code: ErrorCode; message: string; status?: number };

export interface WitnessClientOptions {
  /** Per request, from sending to the answer's last byte (default WITNESS_TIMEOUT_MS). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Called once per witness and checkpoint sent (a checkpoint replaced before it was sent is not reported: it was never sent). */
  onReport?: (report: WitnessReport) => void;
}

export const WITNESS_TIMEOUT_MS = 10_000;
/** A witness answers a few signature lines (or a size): anything longer is refused unread. */
export const WITNESS_ANSWER_MAX_BYTES = 64 * 1024;
/** A checkpoint carries the log's signature and one per witness, within a note's 100 lines. */
const MAX_WITNESSES = NOTE_MAX_SIGNATURES - 1;
const VARIABLE = 'EPHEMERA_TLOG_WITNESSES';

const configInvalid = (message: string) => new EphemeraError('CONFIG_INVALID', `${VARIABLE}: ${message}`, { fields: { variable: VARIABLE } });

/**
 * EPHEMERA_TLOG_WITNESSES: `<cosigner vkey>@<url>`, comma-separated (split at the first '@': a vkey has none). Strict:
 * a vkey that is not a cosignature/v1 key, a URL that is not plain http(s) (no credentials, query or fragment), an
 * empty entry or a witness given twice is CONFIG_INVALID. Empty text: no witnesses.
 */
export function parseWitnessList(text: string): WitnessEndpoint[] {
  if (text.trim() === '') return [];
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.length > MAX_WITNESSES) throw configInvalid(`at most ${MAX_WITNESSES} witnesses`);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const at = entry.indexOf('@');
    if (at <= 0) throw configInvalid(`entry ${i + 1} is not <cosigner vkey>@<url>`);
    const vkey = entry.slice(0, at);
    try {
      parseCosignerVerifierKey(vkey);
    } catch (error) {
      throw configInvalid(
        `entry ${i + 1}'s key is not a cosigner vkey (name+keyid+base64 of type 0x04, as ephemera witness key prints): ${(error as Error).message}`,
      );
    }
    if (seen.has(vkey)) throw configInvalid(`entry ${i + 1} repeats a witness key`);
    seen.add(vkey);
    return { vkey, url: parseWitnessUrl(entry.slice(at + 1), i) };
  });
}

function parseWitnessUrl(text: string, i: number): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configInvalid(`entry ${i + 1}'s URL is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configInvalid(`entry ${i + 1}'s URL is not http(s)`);
  // Credentials would end up in logs and errors; a query or fragment has no place before /add-checkpoint.
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || text.includes('?') || text.includes('#'))
    throw configInvalid(`entry ${i + 1}'s URL has credentials, a query or a fragment`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** A refusal of a witness's answer, with the status it came with. */
class AnswerError extends EphemeraError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(code, message);
  }
}

/** The status a witness refuses with, as §4's code. */
const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: 'TLOG_WITNESS_REQUEST_MALFORMED',
  403: 'TLOG_WITNESS_CHECKPOINT_UNVERIFIED',
  404: 'TLOG_WITNESS_ORIGIN_UNKNOWN',
  422: 'TLOG_WITNESS_INCONSISTENT',
};

/** One witness: its key, its last cosigned size as far as this log knows, and the one submission waiting. */
class Follower {
  private lastSize = 0;
  private running = false;
  private waiting: { submission: WitnessSubmission; resolve: (line: string | null) => void } | null = null;
  private readonly verifier: CosignerVerifier;

  constructor(
    readonly endpoint: WitnessEndpoint,
    private readonly options: Required<Pick<WitnessClientOptions, 'timeoutMs' | 'fetch'>> & Pick<WitnessClientOptions, 'onReport'>,
  ) {
    this.verifier = parseCosignerVerifierKey(endpoint.vkey);
  }

  submit(submission: WitnessSubmission): Promise<string | null> {
    return new Promise((resolve) => {
      if (this.waiting !== null) {
        // A newer checkpoint replaces the one not yet sent: the witness only ever needs the latest.
        this.waiting.resolve(null);
      }
      this.waiting = { submission, resolve };
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting !== null) {
      const { submission, resolve } = this.waiting;
      this.waiting = null;
      resolve(await this.cosign(submission));
    }
    this.running = false;
  }

  /** The verified cosignature line, or null (reported). Never throws. */
  private async cosign(submission: WitnessSubmission): Promise<string | null> {
    try {
      let answer = await this.post(submission, this.lastSize);
      if (answer.status === 409) {
        this.lastSize = answer.size;
        answer = await this.post(submission, answer.size);
        if (answer.status === 409) {
          this.lastSize = answer.size;
          throw new AnswerError('TLOG_WITNESS_OLD_SIZE_MISMATCH', `the witness answered 409 twice (its size ${answer.size})`, 409);
        }
      }
      // The answer's lines appended to the checkpoint sent and opened with this witness's key only: its line is over exactly this checkpoint.
      const ours = appendCosignatures(submission.checkpoint, answer.body, [this.verifier]).opened.verified[0]!;
      // tlog-witness: "the timestamp MUST NOT be zero" (a cosignature without a time says nothing of freshness).
      if (cosignatureTimestamp(ours) === 0) throw new AnswerError('TLOG_WITNESS_RESPONSE_MALFORMED', 'the cosignature has the timestamp 0', 200);
      this.lastSize = submission.size;
      const line = `— ${ours.name} ${ours.base64}\n`;
      this.report(submission, null, line);
      return line;
    } catch (error) {
      this.report(submission, error);
      return null;
    }
  }

  /** One add-checkpoint request from `oldSize`: a 200's body or a 409's size; any other answer throws. */
  private async post(submission: WitnessSubmission, oldSize: number): Promise<{ status: 200; body: string } | { status: 409; size: number }> {
    if (oldSize > submission.size)
      throw new AnswerError('TLOG_WITNESS_OLD_SIZE_MISMATCH', `the witness has cosigned size ${oldSize}, beyond this checkpoint's ${submission.size}`);
    const proof = oldSize === 0 || oldSize === submission.size ? [] : await submission.consistencyProof(oldSize);
    const body = formatAddCheckpointRequest({ oldSize, proof, signedCheckpoint: submission.checkpoint });
    let response: Response;
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    try {
      response = await this.options.fetch(`${this.endpoint.url}/add-checkpoint`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        redirect: 'manual',
        signal,
      });
    } catch (cause) {
      throw new AnswerError('TLOG_WITNESS_UNREACHABLE', `no answer: ${signal.aborted ? `timed out after ${this.options.timeoutMs} ms` : failureOf(cause)}`);
    }
    const text = await readBounded(response, signal, this.options.timeoutMs);
    if (response.status === 200) return { status: 200, body: text };
    if (response.status === 409) {
      if (response.headers.get('content-type')?.split(';')[0]?.trim() !== TREE_SIZE_CONTENT_TYPE)
        throw new AnswerError('TLOG_WITNESS_RESPONSE_MALFORMED', `a 409 answer is ${TREE_SIZE_CONTENT_TYPE}`, 409);
      return { status: 409, size: parseTreeSizeBody(text) };
    }
    const code = CODE_OF_STATUS[response.status];
    if (code) throw new AnswerError(code, `the witness refused the checkpoint (${response.status})`, response.status);
    throw new AnswerError(
      'TLOG_WITNESS_UNREACHABLE',
      `the witness answered ${response.status}${response.status >= 300 && response.status < 400 ? ' (a redirect, not followed)' : ''}`,
      response.status,
    );
  }

  private report(submission: WitnessSubmission, error: unknown, cosignature?: string): void {
    const { onReport } = this.options;
    if (!onReport) return;
    const base = { vkey: this.endpoint.vkey, url: this.endpoint.url, size: submission.size };
    try {
      if (cosignature !== undefined) return onReport({ ok: true, ...base, cosignature });
      const code = isEphemeraError(error) && isErrorCode(error.code) ? error.code : 'INTERNAL';
      const status = error instanceof AnswerError ? error.status : undefined;
      onReport({ ok: false, ...base, code, message: isEphemeraError(error) ? error.message : 'internal error', ...(status === undefined ? {} : { status }) });
    } catch {
      // A reporter that throws must not stop the witness's queue.
    }
  }
}

/** Why a fetch failed, in a word (ECONNREFUSED, …): never its URL or a body. */
function failureOf(cause: unknown): string {
  const inner = (cause as { cause?: { code?: string } })?.cause?.code;
  return inner ?? (cause instanceof Error ? cause.name : 'error');
}

/** The answer's text, at most WITNESS_ANSWER_MAX_BYTES, within the request's time. */
async function readBounded(response: Response, signal: AbortSignal, timeoutMs: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  const refuse = () => {
    void response.body?.cancel().catch(() => undefined);
    return new AnswerError('TLOG_WITNESS_UNREACHABLE', `the answer is larger than ${WITNESS_ANSWER_MAX_BYTES} bytes`, response.status);
  };
  if (declared > WITNESS_ANSWER_MAX_BYTES) throw refuse();
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > WITNESS_ANSWER_MAX_BYTES) throw refuse();
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof AnswerError) throw error;
    throw new AnswerError(
      'TLOG_WITNESS_UNREACHABLE',
      signal.aborted ? `the answer did not arrive within ${timeoutMs} ms` : 'the answer was cut off',
      response.status,
    );
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

export class WitnessClient {
  private readonly followers: Follower[];

  constructor(endpoints: WitnessEndpoint[], options: WitnessClientOptions = {}) {
    const settings = {
      timeoutMs: options.timeoutMs ?? WITNESS_TIMEOUT_MS,
      fetch: options.fetch ?? fetch,
      ...(options.onReport ? { onReport: options.onReport } : {}),
    };
    this.followers = endpoints.map((endpoint) => new Follower(endpoint, settings));
  }

  /** Posts the checkpoint to every witness in parallel; resolves with the verified cosignature lines ("— name base64\n"), one per witness that cosigned it. */
  async submit(submission: WitnessSubmission): Promise<string[]> {
    const lines = await Promise.all(this.followers.map((follower) => follower.submit(submission)));
    return lines.filter((line): line is string => line !== null);
  }
}
