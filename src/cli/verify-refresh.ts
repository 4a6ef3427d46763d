/**
 * `ephemera verify --refresh` (docs/transparency.md §12): fetches the log's
 * latest checkpoint and the tiles it needs from `<server>/tlog/…`, bounded in
 * size and time and without redirects, and checks that the certificate's
 * checkpoint is part of it (src/verify/consistency.ts). A split view or a
 * rewritten history leaves both signed notes in the evidence directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { NOTE_MAX_BYTES, TILE_WIDTH, HASH_SIZE } from '../tlog/index.js';
import { checkFreshCheckpoint, LogEvidenceError, type FreshCheckpoint, type TransparencyVerdict } from '../verify/index.js';
import { serverUrl } from './common.js';

const REQUEST_TIMEOUT_MS = 10_000;
const TILE_MAX_BYTES = TILE_WIDTH * HASH_SIZE;

export interface RefreshOutcome {
  fresh: FreshCheckpoint;
  server: string;
}

/** Fetches and checks; on a split view or inconsistency writes the evidence and rethrows (with `evidence` naming the files). */
export async function refreshFromLog(
  member: Pick<TransparencyVerdict, 'checkpoint' | 'log_key'>,
  server: string,
  evidenceDir: string,
): Promise<RefreshOutcome> {
  const base = logBase(server);
  const bytes = await getBounded(new URL('checkpoint', base), NOTE_MAX_BYTES, 'TLOG_CHECKPOINT_UNAVAILABLE');
  let latest: string;
  try {
    latest = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new EphemeraError('TLOG_CHECKPOINT_UNAVAILABLE', `${new URL('checkpoint', base)} answered bytes that are not UTF-8`, { cause });
  }
  try {
    const fresh = await checkFreshCheckpoint(member, latest, (path) => getBounded(new URL(path, base), TILE_MAX_BYTES, 'TLOG_TILE_UNAVAILABLE'));
    return { fresh, server: base.href };
  } catch (error) {
    if (!(error instanceof LogEvidenceError)) throw error;
    const files = writeEvidence(error, evidenceDir);
    throw new EphemeraError(error.code, error.message, { cause: error, fields: { ...error.fields, evidence: files } });
  }
}

/** `<server>/tlog/`, for a server given with or without a path prefix. */
function logBase(server: string): URL {
  return new URL('tlog/', serverUrl(server.endsWith('/') ? server : `${server}/`));
}

async function getBounded(url: URL, max: number, code: 'TLOG_CHECKPOINT_UNAVAILABLE' | 'TLOG_TILE_UNAVAILABLE'): Promise<Uint8Array> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: 'error' });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new EphemeraError(code, `${url} answered HTTP ${response.status}`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.length;
      if (total > max) throw new EphemeraError(code, `${url} answered more than ${max} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  } catch (cause) {
    if (isEphemeraError(cause)) throw cause;
    throw new EphemeraError(code, `could not fetch ${url}`, { cause });
  }
}

/** Both notes, named by size and root, so evidence of several forks never overwrites itself. */
function writeEvidence(error: LogEvidenceError, dir: string): string[] {
  const target = resolve(dir);
  mkdirSync(target, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const files: string[] = [];
  for (const [which, note] of Object.entries(error.notes)) {
    const path = join(target, `tlog-evidence-${stamp}-${which}.checkpoint`);
    writeFileSync(path, note, { flag: 'wx' });
    files.push(path);
  }
  return files;
}
