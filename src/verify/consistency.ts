/**
 * Is the log's latest checkpoint consistent with a certificate's
 * (docs/transparency.md §12, `ephemera verify --refresh`)? Both must be signed
 * by the log key the certificate names; the same size with another root is a
 * split view; a larger tree must contain the certificate's, which tiles read
 * from the log and authenticated against the fresh root show
 * (`treeHash(old size)` is the old root); a smaller one is a rollback. How the
 * tiles are fetched, and what is done with the evidence, is the caller's.
 * Isomorphic.
 */
import type { ErrorCode } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { bytesToHex } from '../events/index.js';
import { TiledTree, openCheckpoint, parseNoteVerifierKey, type TileReader } from '../tlog/index.js';
import type { TransparencyVerdict } from './transparency.js';

export interface FreshCheckpoint {
  /** The certificate's checkpoint and the fresh one: sizes and roots (hex). */
  old: { size: number; root: string };
  fresh: { size: number; root: string };
  /** `same`: the very same tree; `extends`: the fresh tree contains the certificate's. */
  relation: 'same' | 'extends';
}

/** A refusal that carries both signed notes, for the caller to keep as evidence. */
export class LogEvidenceError extends EphemeraError {
  constructor(
    code: Extract<ErrorCode, 'TLOG_SPLIT_VIEW' | 'TLOG_CONSISTENCY_INVALID'>,
    message: string,
    readonly notes: { certificate: string; latest: string },
    cause?: unknown,
  ) {
    super(code, message, { fields: { field: 'transparency.checkpoint' }, ...(cause === undefined ? {} : { cause }) });
  }
}

/**
 * Checks `latest` (the log's checkpoint note, as fetched) against the certificate's checkpoint and log key, as the
 * verifier's verdict gives them (already checked). Throws TLOG_CHECKPOINT_UNAVAILABLE when `latest` is another log's, TLOG_NOTE_* when it is not signed by the same log key, LogEvidenceError for a split
 * view or a rewritten history, and TLOG_TILE_* when the log's tiles do not authenticate.
 */
export async function checkFreshCheckpoint(
  member: Pick<TransparencyVerdict, 'checkpoint' | 'log_key'>,
  latest: string,
  readTile: TileReader,
): Promise<FreshCheckpoint> {
  const verifier = parseNoteVerifierKey(member.log_key);
  const old = openCheckpoint(member.checkpoint, [verifier]).checkpoint;
  // A server of another log (a wrong --server) cannot be asked about this one: not a verdict on the certificate.
  const servedOrigin = latest.slice(0, Math.max(0, latest.indexOf('\n')));
  if (servedOrigin !== old.origin)
    throw new EphemeraError(
      'TLOG_CHECKPOINT_UNAVAILABLE',
      `the server answers for another log (${JSON.stringify(servedOrigin.slice(0, 120))}), not the certificate's ${old.origin}: ask that log's server`,
    );
  const fresh = openCheckpoint(latest, [verifier]).checkpoint;
  if (fresh.origin !== old.origin) throw new EphemeraError('TLOG_LOG_KEY_DOCUMENT_MALFORMED', `the latest checkpoint is of another log (${fresh.origin})`);
  const sizes = { old: { size: old.size, root: bytesToHex(old.rootHash) }, fresh: { size: fresh.size, root: bytesToHex(fresh.rootHash) } };
  const notes = { certificate: member.checkpoint, latest };
  if (fresh.size === old.size) {
    if (sizes.fresh.root !== sizes.old.root)
      throw new LogEvidenceError('TLOG_SPLIT_VIEW', `the log signed two different trees of ${old.size} leaves: a split view`, notes);
    return { ...sizes, relation: 'same' };
  }
  if (fresh.size < old.size)
    throw new LogEvidenceError(
      'TLOG_CONSISTENCY_INVALID',
      `the log's latest checkpoint (${fresh.size} leaves) is older than the certificate's (${old.size})`,
      notes,
    );
  const tree = new TiledTree({ size: fresh.size, root: fresh.rootHash }, readTile);
  let oldRoot: Uint8Array;
  try {
    oldRoot = await tree.treeHash(old.size);
  } catch (error) {
    // Tiles that do not fold into the fresh root are the server's fault, not evidence against the log key.
    if (isEphemeraError(error)) throw error;
    throw new EphemeraError('TLOG_TILE_UNAVAILABLE', 'reading the log tiles failed', { cause: error });
  }
  if (bytesToHex(oldRoot) !== sizes.old.root)
    throw new LogEvidenceError(
      'TLOG_CONSISTENCY_INVALID',
      `the log's tree of ${fresh.size} leaves does not contain the certificate's tree of ${old.size}: the log rewrote its history`,
      notes,
    );
  return { ...sizes, relation: 'extends' };
}
