/**
 * The witness's memory (docs/transparency.md §13): `<dir>/state.json`, per
 * origin the latest checkpoint it cosigned, and `<dir>/evidence/`, the signed
 * checkpoints that conflict with it. A cosignature is returned only after the
 * state that forbids going back is on disk (write a temporary file, fsync,
 * rename, fsync the directory), so a crash or restart never lets it sign a
 * smaller or conflicting tree. A state file it cannot read back refuses the
 * start (TLOG_WITNESS_STATE_INVALID): an empty memory would cosign anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { parseCheckpoint } from '../tlog/checkpoint.js';
import { decodeBase64, encodeBase64 } from '../tlog/lines.js';
import { parseNote } from '../tlog/note.js';

export type WitnessStateErrorCode = Registered<'TLOG_WITNESS_STATE_INVALID'>;

export const STATE_FILE = 'state.json';
export const EVIDENCE_DIR = 'evidence';
const STATE_TYPE = 'ephemera.witness-state';
/** One entry is at most a note of 256 KiB; a witness follows a handful of logs. Read no more than this. */
const STATE_MAX_BYTES = 64 * 1024 * 1024;

/** The latest checkpoint cosigned for one origin. */
export interface CosignedCheckpoint {
  readonly size: number;
  readonly rootHash: Uint8Array;
  /** The checkpoint text, the log's verified signatures and this witness's cosignature: a note (the monitoring answer). */
  readonly note: string;
  /** POSIX seconds of the cosignature. */
  readonly cosignedAt: number;
}

/** What a conflicting checkpoint is kept with: why it was refused, what the witness had cosigned, what it was sent. */
export interface Evidence {
  readonly code: string;
  readonly origin: string;
  readonly cosigned: CosignedCheckpoint | null;
  readonly submitted: { readonly oldSize: number; readonly proof: readonly Uint8Array[]; readonly note: string };
  readonly submittedSize: number;
}

const invalid = (message: string, cause?: unknown) =>
  new EphemeraError<WitnessStateErrorCode>('TLOG_WITNESS_STATE_INVALID', message, cause === undefined ? {} : { cause });

/** Reads one entry strictly: exactly these members, and a note whose checkpoint has the recorded size and root. */
function readEntry(origin: string, value: unknown): CosignedCheckpoint {
  const entry = value as Record<string, unknown>;
  const keys = typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.keys(entry).sort().join(',') : '';
  if (keys !== 'checkpoint,cosigned_at,root_hash,size')
    throw invalid(`the entry of ${JSON.stringify(origin)} is not {size, root_hash, checkpoint, cosigned_at}`);
  const { size, root_hash: root, checkpoint: note, cosigned_at: cosignedAt } = entry;
  const rootHash = typeof root === 'string' ? decodeBase64(root) : null;
  if (!Number.isSafeInteger(size) || (size as number) < 0 || rootHash?.length !== 32 || typeof note !== 'string' || !Number.isSafeInteger(cosignedAt))
    throw invalid(`the entry of ${JSON.stringify(origin)} has a malformed member`);
  let checkpoint: ReturnType<typeof parseCheckpoint>;
  try {
    checkpoint = parseCheckpoint(parseNote(note).text);
  } catch (cause) {
    throw invalid(`the checkpoint kept for ${JSON.stringify(origin)} is not a signed checkpoint`, cause);
  }
  if (checkpoint.origin !== origin || checkpoint.size !== size || encodeBase64(checkpoint.rootHash) !== root)
    throw invalid(`the checkpoint kept for ${JSON.stringify(origin)} is not the recorded origin, size and root`);
  return { size: size as number, rootHash, note, cosignedAt: cosignedAt as number };
}

export class WitnessState {
  private constructor(
    private readonly dir: string,
    private readonly entries: Map<string, CosignedCheckpoint>,
  ) {}

  /** Reads `<dir>/state.json` (none: nothing cosigned yet), and removes temporary files a crash left. */
  static async open(dir: string): Promise<WitnessState> {
    await mkdir(join(dir, EVIDENCE_DIR), { recursive: true, mode: 0o700 });
    for (const folder of [dir, join(dir, EVIDENCE_DIR)])
      for (const name of await readdir(folder)) if (/^\..+\.tmp$/.test(name)) await rm(join(folder, name), { force: true });
    let text: string | null;
    try {
      const handle = await open(join(dir, STATE_FILE), 'r');
      try {
        if ((await handle.stat()).size > STATE_MAX_BYTES) throw invalid(`${STATE_FILE} is larger than ${STATE_MAX_BYTES} bytes`);
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error instanceof EphemeraError ? error : invalid(`cannot read ${STATE_FILE}`, error);
      text = null;
    }
    return new WitnessState(dir, text === null ? new Map() : parseState(text));
  }

  latest(origin: string): CosignedCheckpoint | null {
    return this.entries.get(origin) ?? null;
  }

  /** Records the new latest checkpoint of `origin`, durably, before it resolves; the caller serializes commits. */
  async commit(origin: string, entry: CosignedCheckpoint): Promise<void> {
    const next = new Map(this.entries).set(origin, entry);
    await writeDurably(this.dir, STATE_FILE, formatState(next));
    this.entries.set(origin, entry);
  }

  /**
   * Keeps a conflicting checkpoint with the one it conflicts with, as `evidence/<size>-<16 hex>.json`: the submitted
   * checkpoint's size and the SHA-256 of the content, so two different conflicts never share a name and the same one
   * sent again is kept once (the file's mtime is when it was first seen). Returns the file's path.
   */
  async keepEvidence(evidence: Evidence): Promise<string> {
    const text = `${JSON.stringify(
      {
        type: 'ephemera.witness-evidence',
        v: 1,
        code: evidence.code,
        origin: evidence.origin,
        cosigned: evidence.cosigned && formatEntry(evidence.cosigned),
        submitted: {
          size: evidence.submittedSize,
          old_size: evidence.submitted.oldSize,
          proof: evidence.submitted.proof.map(encodeBase64),
          checkpoint: evidence.submitted.note,
        },
      },
      null,
      2,
    )}\n`;
    const name = `${evidence.submittedSize}-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`;
    await writeDurably(join(this.dir, EVIDENCE_DIR), name, text);
    return join(this.dir, EVIDENCE_DIR, name);
  }
}

function formatEntry(entry: CosignedCheckpoint) {
  return { size: entry.size, root_hash: encodeBase64(entry.rootHash), checkpoint: entry.note, cosigned_at: entry.cosignedAt };
}

function formatState(entries: ReadonlyMap<string, CosignedCheckpoint>): string {
  const logs = Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : 1)).map(([origin, entry]) => [origin, formatEntry(entry)]));
  return `${JSON.stringify({ type: STATE_TYPE, v: 1, logs }, null, 2)}\n`;
}

function parseState(text: string): Map<string, CosignedCheckpoint> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalid(`${STATE_FILE} is not JSON`, cause);
  }
  const state = value as { type?: unknown; v?: unknown; logs?: unknown };
  if (typeof value !== 'object' || value === null || Object.keys(value).sort().join(',') !== 'logs,type,v' || state.type !== STATE_TYPE || state.v !== 1)
    throw invalid(`${STATE_FILE} is not {"type": "${STATE_TYPE}", "v": 1, "logs": {…}}`);
  if (typeof state.logs !== 'object' || state.logs === null || Array.isArray(state.logs)) throw invalid(`${STATE_FILE}'s logs is not an object`);
  return new Map(Object.entries(state.logs).map(([origin, entry]) => [origin, readEntry(origin, entry)]));
}

/** Write a temporary file, fsync it, rename it over `name`, fsync the directory: after this resolves the content survives a crash. */
async function writeDurably(dir: string, name: string, text: string): Promise<void> {
  const temporary = join(dir, `.${name}.${randomBytes(8).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  await rename(temporary, join(dir, name));
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
