/**
 * The witness's decision on an add-checkpoint request (C2SP tlog-witness,
 * docs/transparency.md §4 and §13), without HTTP: parse, check against the
 * latest checkpoint it cosigned (checkAddCheckpoint), cosign, persist, answer.
 * Check and persist are one step under a lock (the spec's race: a slower
 * request for a smaller tree must not roll back a larger one); the lock is
 * one for all origins because they share the state file. A signed checkpoint
 * that conflicts with the cosigned one (a failed proof, or the same size with
 * another root) is kept as evidence before the refusal is answered.
 */
import { createHash } from 'node:crypto';
import type { ErrorCode } from '../error-codes.js';
import { ERROR_REGISTRY } from '../error-codes.js';
import { isEphemeraError } from '../errors.js';
import { type Cosigner, cosignatureTimestamp } from '../tlog/cosignature.js';
import { type NoteVerifier, parseNote, signNote } from '../tlog/note.js';
import {
  type AddCheckpointRequest,
  checkAddCheckpoint,
  formatAddCheckpointResponse,
  formatTreeSizeBody,
  parseAddCheckpointRequest,
  TREE_SIZE_CONTENT_TYPE,
} from '../tlog/witness-messages.js';
import type { WitnessState } from './state.js';

/** An HTTP answer, decided: status, Content-Type, body, and the refusal's code (none on success). */
export interface WitnessAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly code?: ErrorCode;
  /** The evidence file written for this request, if any. */
  readonly evidence?: string;
}

export interface WitnessOptions {
  /** Each followed log's origin and its keys. */
  readonly logs: ReadonlyMap<string, readonly NoteVerifier[]>;
  readonly state: WitnessState;
  readonly cosigner: Cosigner;
  /** Reports a refusal or the evidence kept (the CLI prints it); never the key. */
  readonly onEvent?: (event: { code: ErrorCode | 'COSIGNED'; origin: string | null; size: number | null; evidence?: string }) => void;
}

const TEXT = 'text/plain; charset=utf-8';
/** Refusals the stored state cannot change: the origin's keys and the log's signature. */
const STATELESS_REFUSALS: ReadonlySet<string> = new Set<ErrorCode>(['TLOG_WITNESS_ORIGIN_UNKNOWN', 'TLOG_WITNESS_CHECKPOINT_UNVERIFIED']);
const JSON_TYPE = 'application/json; charset=utf-8';

/** A refusal's body: the code and our own words (never the request's bytes), as the API's error answers. */
export function errorAnswer(code: ErrorCode, message: string): WitnessAnswer {
  const status = ERROR_REGISTRY[code].http ?? 500;
  return {
    status,
    contentType: JSON_TYPE,
    body: `${JSON.stringify({ error: { code, message: status >= 500 ? ERROR_REGISTRY[code].message : message } })}\n`,
    code,
  };
}

export class Witness {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: WitnessOptions) {}

  get vkey(): string {
    return this.options.cosigner.vkey;
  }

  origins(): string[] {
    return [...this.options.logs.keys()];
  }

  /** The monitoring answer (tlog-witness "GET <prefix>/<origin hash>/checkpoint"): the latest cosigned note of the origin whose SHA-256 is `originHash`. */
  latestByOriginHash(originHash: string): string | null {
    for (const origin of this.options.logs.keys())
      if (createHash('sha256').update(origin).digest('hex') === originHash) return this.options.state.latest(origin)?.note ?? null;
    return null;
  }

  async addCheckpoint(body: Uint8Array): Promise<WitnessAnswer> {
    let request: AddCheckpointRequest;
    try {
      request = parseAddCheckpointRequest(body);
    } catch (error) {
      return this.refused(error, null, null);
    }
    // What does not depend on the state (the origin, the log's signature) is refused without waiting for the lock, so
    // requests nobody signed never queue ahead of the log's.
    try {
      checkAddCheckpoint(request, { logKeys: (origin) => this.options.logs.get(origin), latest: this.options.state.latest(request.checkpoint.origin) });
    } catch (error) {
      if (isEphemeraError(error) && STATELESS_REFUSALS.has(error.code)) return this.refused(error, request.checkpoint.origin, request.checkpoint.size);
    }
    // One at a time from the check to the durable write: the spec's atomic check-and-persist.
    const turn = this.queue.then(() => this.decide(request));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async decide(request: AddCheckpointRequest): Promise<WitnessAnswer> {
    const { checkpoint } = request;
    const { state, cosigner, logs } = this.options;
    const latest = state.latest(checkpoint.origin);
    let text: string;
    let logSignatures: Parameters<typeof signNote>[0]['signatures'];
    try {
      const opened = checkAddCheckpoint(request, { logKeys: (origin) => logs.get(origin), latest });
      text = opened.text;
      logSignatures = opened.verified;
    } catch (error) {
      const code = isEphemeraError(error) ? error.code : null;
      // Signed by the log (these checks come after the signature's) and at odds with what was cosigned: keep it.
      const splitView =
        code === 'TLOG_WITNESS_OLD_SIZE_MISMATCH' && latest !== null && latest.size === checkpoint.size && !sameBytes(latest.rootHash, checkpoint.rootHash);
      const evidence =
        code === 'TLOG_WITNESS_INCONSISTENT' || splitView
          ? await state.keepEvidence({
              code: code!,
              origin: checkpoint.origin,
              cosigned: latest,
              submitted: { oldSize: request.oldSize, proof: request.proof, note: noteText(request) },
              submittedSize: checkpoint.size,
            })
          : undefined;
      return this.refused(error, checkpoint.origin, checkpoint.size, evidence);
    }
    // Sign first (pure), keep the cosigned note, and only then answer with the line.
    const note = signNote({ text, signatures: logSignatures }, [cosigner]);
    const ours = parseNote(note).signatures.at(-1)!;
    await state.commit(checkpoint.origin, { size: checkpoint.size, rootHash: checkpoint.rootHash, note, cosignedAt: cosignatureTimestamp(ours) });
    this.options.onEvent?.({ code: 'COSIGNED', origin: checkpoint.origin, size: checkpoint.size });
    return { status: 200, contentType: TEXT, body: formatAddCheckpointResponse([ours]) };
  }

  private refused(error: unknown, origin: string | null, size: number | null, evidence?: string): WitnessAnswer {
    if (!isEphemeraError(error)) throw error;
    this.options.onEvent?.({ code: error.code, origin, size, ...(evidence ? { evidence } : {}) });
    if (error.code === 'TLOG_WITNESS_OLD_SIZE_MISMATCH')
      return {
        status: 409,
        contentType: TREE_SIZE_CONTENT_TYPE,
        body: formatTreeSizeBody(error.fields.size as number),
        code: error.code,
        ...(evidence ? { evidence } : {}),
      };
    // Every other failure of a request is one of §4's (checkAddCheckpoint maps the note's own errors).
    const code = ERROR_REGISTRY[error.code].http === null ? 'TLOG_WITNESS_REQUEST_MALFORMED' : error.code;
    return { ...errorAnswer(code, error.message), ...(evidence ? { evidence } : {}) };
  }
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The submitted note as received (text, blank line, signature lines). */
function noteText(request: AddCheckpointRequest): string {
  return `${request.note.text}\n${request.note.signatures.map((sig) => `— ${sig.name} ${sig.base64}\n`).join('')}`;
}
