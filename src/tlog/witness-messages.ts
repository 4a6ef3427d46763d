/**
 * The messages of the C2SP witness protocol's add-checkpoint call
 * (c2sp.org/tlog-witness, docs/transparency.md §4), and the witness's checks
 * on a request, without storage or HTTP (the route comes later):
 *
 *   request  = "old " decimal "\n" *63(base64(32-byte hash) "\n") "\n" signed checkpoint
 *   response = 1*("— " name " " base64(key ID ‖ cosignature) "\n")
 *   conflict = decimal "\n"                      (409, Content-Type text/x.tlog.size)
 *
 * Each refusal has the HTTP status the spec assigns (WITNESS_HTTP_STATUS).
 * sign-subtree (OPTIONAL in the spec, ML-DSA-44 only) is not implemented.
 * Isomorphic.
 */
import { rootFromLeafHashes, verifyConsistency } from '../attest/merkle.js';
import type { Registered } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { type Checkpoint, parseCheckpoint } from './checkpoint.js';
import { decodeBase64, decodeNoteText, encodeBase64, encodeNoteText, isSafeCount, parseDecimal } from './lines.js';
import {
  NOTE_MAX_BYTES,
  NOTE_MAX_SIGNATURES,
  type Note,
  type NoteSignature,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  parseNote,
  parseSignatureLine,
} from './note.js';

export type WitnessErrorCode = Registered<
  | 'TLOG_WITNESS_REQUEST_MALFORMED'
  | 'TLOG_WITNESS_ORIGIN_UNKNOWN'
  | 'TLOG_WITNESS_CHECKPOINT_UNVERIFIED'
  | 'TLOG_WITNESS_OLD_SIZE_MISMATCH'
  | 'TLOG_WITNESS_INCONSISTENT'
  | 'TLOG_WITNESS_RESPONSE_MALFORMED'
>;

/** The HTTP status c2sp.org/tlog-witness assigns to each refusal of add-checkpoint (and to success). */
export const WITNESS_HTTP_STATUS = {
  ok: 200,
  TLOG_WITNESS_REQUEST_MALFORMED: 400,
  TLOG_WITNESS_CHECKPOINT_UNVERIFIED: 403,
  TLOG_WITNESS_ORIGIN_UNKNOWN: 404,
  TLOG_WITNESS_OLD_SIZE_MISMATCH: 409,
  TLOG_WITNESS_INCONSISTENT: 422,
} as const;

/** The Content-Type of a 409 answer's body (the witness's latest cosigned size). */
export const TREE_SIZE_CONTENT_TYPE = 'text/x.tlog.size';
/** "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_PROOF_LINES = 63;
/** The largest request read: the old size line, 63 proof lines, the blank line and a note of NOTE_MAX_BYTES. */
export const ADD_CHECKPOINT_MAX_BYTES = NOTE_MAX_BYTES + 4 + 17 + MAX_PROOF_LINES * 45 + 1;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  /** The checkpoint's note, parsed (form only) and its text read as a checkpoint. */
  readonly note: Note;
  readonly checkpoint: Checkpoint;
}

function requestMalformed(message: string, cause?: unknown): EphemeraError<WitnessErrorCode> {
  return new EphemeraError('TLOG_WITNESS_REQUEST_MALFORMED', message, cause === undefined ? {} : { cause });
}

/** Reads an add-checkpoint body; a malformed note or checkpoint is a malformed request (400), and so is an old size above the checkpoint's. */
export function parseAddCheckpointRequest(body: Uint8Array | string): AddCheckpointRequest {
  // The size before any work: a string has at most as many UTF-16 units as UTF-8 bytes.
  if (body.length > ADD_CHECKPOINT_MAX_BYTES) throw requestMalformed(`the request is larger than ${ADD_CHECKPOINT_MAX_BYTES} bytes`);
  const bytes = typeof body === 'string' ? encodeNoteText(body) : body;
  if (bytes === null) throw requestMalformed('the request holds a control character other than the newline');
  if (bytes.length > ADD_CHECKPOINT_MAX_BYTES) throw requestMalformed(`the request is larger than ${ADD_CHECKPOINT_MAX_BYTES} bytes`);
  const text = decodeNoteText(bytes);
  if (text === null) throw requestMalformed('the request is not UTF-8, or holds a control character other than the newline');
  const firstEnd = text.indexOf('\n');
  const oldLine = firstEnd < 0 ? text : text.slice(0, firstEnd);
  const oldSize = oldLine.startsWith('old ') ? parseDecimal(oldLine.slice(4)) : null;
  if (firstEnd < 0 || oldSize === null)
    throw requestMalformed('the request starts with "old", a space, the old size in decimal with no leading zero, and a newline');
  const proof: Uint8Array[] = [];
  let at = firstEnd + 1;
  for (;;) {
    const end = text.indexOf('\n', at);
    if (end < 0) throw requestMalformed('the proof lines end with an empty line before the checkpoint');
    const line = text.slice(at, end);
    at = end + 1;
    if (line.length === 0) break;
    if (proof.length === MAX_PROOF_LINES) throw requestMalformed(`a request has at most ${MAX_PROOF_LINES} consistency proof lines`);
    const hash = decodeBase64(line);
    if (hash === null || hash.length !== 32) throw requestMalformed('a consistency proof line is the base64 of a 32-byte hash');
    proof.push(hash);
  }
  let note: Note;
  let checkpoint: Checkpoint;
  try {
    note = parseNote(text.slice(at));
    checkpoint = parseCheckpoint(note.text);
  } catch (error) {
    if (isEphemeraError(error)) throw requestMalformed(`the checkpoint is malformed: ${error.message}`, error);
    throw error;
  }
  if (oldSize > checkpoint.size) throw requestMalformed("the old size is above the checkpoint's size");
  return { oldSize, proof, note, checkpoint };
}

/** Writes an add-checkpoint body: the old size, the proof, a blank line, the signed checkpoint (a note, as sent). */
export function formatAddCheckpointRequest(request: { oldSize: number; proof: readonly Uint8Array[]; signedCheckpoint: string }): string {
  if (!isSafeCount(request.oldSize)) throw requestMalformed('the old size is a non-negative safe integer');
  if (request.proof.length > MAX_PROOF_LINES) throw requestMalformed(`a request has at most ${MAX_PROOF_LINES} consistency proof lines`);
  if (request.proof.some((hash) => hash.length !== 32)) throw requestMalformed('a consistency proof hash is 32 bytes');
  const body = `old ${request.oldSize}\n${request.proof.map((hash) => `${encodeBase64(hash)}\n`).join('')}\n${request.signedCheckpoint}`;
  parseAddCheckpointRequest(body);
  return body;
}

/**
 * The witness's checks on a parsed request, in the spec's terms (each refusal's status in WITNESS_HTTP_STATUS):
 * the origin's log keys (none: 404), the log's signature (none of them verifies, or one fails: 403), the old size
 * against the latest size it cosigned for the origin, 0 if none (409, whose body is formatTreeSizeBody(latest)),
 * then consistency (422): a size-0 checkpoint has the empty tree's root, an old size of 0 comes with no proof, an
 * old size equal to the size with the same root, otherwise the proof is an RFC 6962 consistency proof from the
 * latest cosigned root. On success the caller persists the checkpoint (atomically with the size check) and cosigns.
 */
export function checkAddCheckpoint(
  request: AddCheckpointRequest,
  witness: { logKeys: (origin: string) => readonly NoteVerifier[] | undefined; latest: { size: number; rootHash: Uint8Array } | null },
): OpenedNote {
  const { checkpoint, oldSize, proof } = request;
  const keys = witness.logKeys(checkpoint.origin);
  if (keys === undefined || keys.length === 0) throw new EphemeraError('TLOG_WITNESS_ORIGIN_UNKNOWN', 'the witness knows no log of this origin');
  let opened: OpenedNote;
  try {
    opened = openNote(request.note, keys);
  } catch (error) {
    if (isEphemeraError(error) && (error.code === 'TLOG_NOTE_UNVERIFIED' || error.code === 'TLOG_NOTE_SIGNATURE_INVALID'))
      throw new EphemeraError('TLOG_WITNESS_CHECKPOINT_UNVERIFIED', `the checkpoint is not signed by the log: ${error.message}`, { cause: error });
    throw error;
  }
  const latestSize = witness.latest?.size ?? 0;
  if (oldSize !== latestSize)
    throw new EphemeraError('TLOG_WITNESS_OLD_SIZE_MISMATCH', 'the old size is not the size of the latest checkpoint this witness cosigned', {
      fields: { size: latestSize },
    });
  const inconsistent = (message: string, cause?: unknown) => new EphemeraError('TLOG_WITNESS_INCONSISTENT', message, cause === undefined ? {} : { cause });
  if (checkpoint.size === 0 && !sameBytes(checkpoint.rootHash, rootFromLeafHashes([])))
    throw inconsistent('a checkpoint of size 0 has the root of the empty tree');
  if (oldSize === 0) {
    if (proof.length !== 0) throw inconsistent('a consistency proof from size 0 is empty');
    return opened;
  }
  try {
    verifyConsistency(oldSize, checkpoint.size, proof, witness.latest!.rootHash, checkpoint.rootHash);
  } catch (error) {
    throw inconsistent('the consistency proof does not lead from the latest cosigned root to the checkpoint', error);
  }
  return opened;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Writes the 200 answer: the cosignature lines (each already a whole "— name base64\n" line, as signNote writes them). */
export function formatAddCheckpointResponse(signatures: readonly NoteSignature[]): string {
  if (signatures.length === 0) throw new EphemeraError('TLOG_WITNESS_RESPONSE_MALFORMED', 'an answer has at least one cosignature');
  return signatures.map((sig) => `— ${sig.name} ${sig.base64}\n`).join('');
}

/** Reads a 200 answer: one or more signature lines, each ending in a newline (their verification is openNote's: appendCosignatures). */
export function parseAddCheckpointResponse(body: Uint8Array | string): NoteSignature[] {
  const bytes = body.length > NOTE_MAX_BYTES ? null : typeof body === 'string' ? encodeNoteText(body) : body;
  const text = bytes === null || bytes.length > NOTE_MAX_BYTES ? null : decodeNoteText(bytes);
  if (text === null)
    throw new EphemeraError('TLOG_WITNESS_RESPONSE_MALFORMED', `the answer is not text of at most ${NOTE_MAX_BYTES} bytes without control characters`);
  if (text.length === 0 || !text.endsWith('\n'))
    throw new EphemeraError('TLOG_WITNESS_RESPONSE_MALFORMED', 'the answer is signature lines, each ending in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length > NOTE_MAX_SIGNATURES) throw new EphemeraError('TLOG_WITNESS_RESPONSE_MALFORMED', `the answer has more than ${NOTE_MAX_SIGNATURES} lines`);
  try {
    return lines.map((line, i) => parseSignatureLine(line, i));
  } catch (error) {
    throw new EphemeraError('TLOG_WITNESS_RESPONSE_MALFORMED', `the answer holds a malformed signature line: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * "The client MAY concatenate it to the checkpoint, and use a note verification function configured with the
 * witness keys it trusts": the signed checkpoint with the answer's lines after its own, opened with the cosigner
 * keys (openNote: an answer line of a trusted key that fails refuses all; none trusted is TLOG_NOTE_UNVERIFIED).
 */
export function appendCosignatures(
  signedCheckpoint: string,
  response: Uint8Array | string,
  cosigners: readonly NoteVerifier[],
): { note: string; opened: OpenedNote } {
  const lines = parseAddCheckpointResponse(response);
  const note = `${signedCheckpoint}${lines.map((sig) => `— ${sig.name} ${sig.base64}\n`).join('')}`;
  return { note, opened: openNote(note, cosigners) };
}

/** The 409 body: the witness's latest cosigned size and a newline. */
export function formatTreeSizeBody(size: number): string {
  if (!isSafeCount(size)) throw new EphemeraError('TLOG_WITNESS_RESPONSE_MALFORMED', 'a tree size is a non-negative safe integer');
  return `${size}\n`;
}

export function parseTreeSizeBody(body: string): number {
  const size = body.endsWith('\n') ? parseDecimal(body.slice(0, -1)) : null;
  if (size === null) throw new EphemeraError('TLOG_WITNESS_RESPONSE_MALFORMED', 'a conflict answer is the tree size in decimal and a newline');
  return size;
}
