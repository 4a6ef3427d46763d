/**
 * C2SP checkpoints (c2sp.org/tlog-checkpoint, docs/transparency.md §2): the
 * text of a signed note that names a tree head.
 *
 *   origin "\n" tree size "\n" base64(root hash) "\n" *(extension line "\n")
 *
 * "The note text is a sequence of at least three non-empty lines": origin
 * non-empty (any text: "clients MUST NOT assume that the origin is following
 * this format"), tree size in decimal with no leading zeroes (a safe integer
 * here), root hash the base64 of 32 bytes (canonical), extension lines
 * non-empty. Go's tlog.ParseTree reads the same, for its one fixed origin.
 * Isomorphic.
 */
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { decodeBase64, encodeBase64, encodeNoteText, isSafeCount, parseDecimal } from './lines.js';
import { type NoteLimits, type NoteVerifier, type OpenedNote, openNote } from './note.js';

export type CheckpointErrorCode = Registered<'TLOG_CHECKPOINT_MALFORMED'>;

/** The largest checkpoint text read or written (Go's ParseTree: 1e6; three lines and a few extensions need far less). */
export const CHECKPOINT_MAX_BYTES = 64 * 1024;
const HASH_SIZE = 32;

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** Extension lines, without their newlines; opaque (and NOT RECOMMENDED). */
  readonly extensions: readonly string[];
}

function malformed(message: string, line?: number): EphemeraError<CheckpointErrorCode> {
  return new EphemeraError('TLOG_CHECKPOINT_MALFORMED', message, { fields: line === undefined ? {} : { line } });
}

/** Reads a checkpoint from a note's text (the text only: signatures are openNote's). */
export function parseCheckpoint(text: string): Checkpoint {
  if (text.length > CHECKPOINT_MAX_BYTES) throw malformed(`a checkpoint is at most ${CHECKPOINT_MAX_BYTES} bytes`);
  const bytes = encodeNoteText(text);
  if (bytes === null) throw malformed('a checkpoint holds no control character other than the newline, and is well-formed text');
  if (bytes.length > CHECKPOINT_MAX_BYTES) throw malformed(`a checkpoint is at most ${CHECKPOINT_MAX_BYTES} bytes`);
  if (!text.endsWith('\n')) throw malformed('a checkpoint ends in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('a checkpoint has at least three lines: origin, tree size, root hash');
  const empty = lines.findIndex((line) => line.length === 0);
  if (empty >= 0) throw malformed('a checkpoint has no empty line', empty);
  const [origin, sizeText, hashText, ...extensions] = lines as [string, string, string, ...string[]];
  const size = parseDecimal(sizeText);
  if (size === null) throw malformed('the tree size is a decimal with no leading zero, at most 2^53 - 1', 1);
  const rootHash = decodeBase64(hashText);
  if (rootHash === null || rootHash.length !== HASH_SIZE) throw malformed('the root hash is the base64 of 32 bytes', 2);
  return { origin, size, rootHash, extensions };
}

/** The checkpoint's text, checked by reading it back. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  if (!isSafeCount(checkpoint.size)) throw malformed('the tree size is a non-negative safe integer', 1);
  if (checkpoint.rootHash.length !== HASH_SIZE) throw malformed('the root hash is 32 bytes', 2);
  const text = [checkpoint.origin, String(checkpoint.size), encodeBase64(checkpoint.rootHash), ...checkpoint.extensions].map((line) => `${line}\n`).join('');
  const back = parseCheckpoint(text);
  if (back.origin !== checkpoint.origin || back.extensions.length !== checkpoint.extensions.length) throw malformed('a checkpoint line holds a newline');
  return text;
}

/** Verifies a signed checkpoint against the known keys (openNote) and reads its text. */
export function openCheckpoint(input: Uint8Array | string, known: readonly NoteVerifier[], limits?: NoteLimits): { checkpoint: Checkpoint; note: OpenedNote } {
  const note = openNote(input, known, limits);
  return { checkpoint: parseCheckpoint(note.text), note };
}
