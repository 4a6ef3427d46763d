/**
 * `--row-secret FILE` (docs/row-proofs.md §6–7): where a run's row secret goes, 64 hex and a newline, mode
 * 0600. The file is created (empty, exclusively) before anything runs, so a run is never spent on a path that
 * cannot take its secret: an existing file (a secret, and the proofs it makes, is never overwritten), a missing
 * directory, or the path of the certificate itself. When the run commits no rows, the empty file is removed.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { EphemeraError } from '../errors.js';
import type { RowsRequest } from '../seal/index.js';

export interface RowSecretFile {
  /** Writes the secret (hex) and closes the file. */
  write(secretHex: string): void;
  /** Removes the file unless the secret was written (no rows committed, or the run failed). */
  release(): void;
}

const NONE: RowSecretFile = { write: () => undefined, release: () => undefined };

export function reserveRowSecret(path: string | undefined, rows: RowsRequest | undefined, certificateOut: string | undefined): RowSecretFile {
  if (path === undefined) return NONE;
  if (rows === 'none') throw new EphemeraError('CLI_USAGE', '--row-secret with --rows none: no records are committed, so there is no secret');
  if (certificateOut !== undefined && resolve(path) === resolve(certificateOut))
    throw new EphemeraError('CLI_USAGE', '--row-secret and --out name the same file: the certificate would overwrite the secret');
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (cause) {
    const errno = (cause as NodeJS.ErrnoException).code;
    if (errno === 'EEXIST') throw new EphemeraError('CLI_USAGE', `${path} already exists: a row secret is never overwritten; choose another path`);
    throw new EphemeraError('CLI_OUT_UNWRITABLE', `cannot create the row secret file ${path} (${errno ?? 'error'}): nothing was run`);
  }
  let open = true;
  let written = false;
  return {
    write(secretHex) {
      writeSync(fd, `${secretHex}\n`);
      closeSync(fd);
      open = false;
      written = true;
    },
    release() {
      if (open) closeSync(fd);
      open = false;
      if (!written) rmSync(path, { force: true });
    },
  };
}
