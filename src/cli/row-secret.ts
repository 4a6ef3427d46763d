/**
 * The row secret on the command line (docs/row-proofs.md §6–7): `--rows`
 * says how the records are committed, `--row-secret FILE` where the run's
 * secret goes (64 hex and a newline, mode 0600, created exclusively: an
 * existing secret, and the proofs it makes, is never overwritten). The path
 * is checked before anything runs, so a run is not spent on a file that
 * cannot be written.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { EphemeraError } from '../errors.js';
import type { RowsRequest } from '../seal/index.js';

export function checkRowSecretPath(path: string | undefined, rows: RowsRequest | undefined): void {
  if (path === undefined) return;
  if (rows === 'none') throw new EphemeraError('CLI_USAGE', '--row-secret with --rows none: no records are committed, so there is no secret');
  if (existsSync(path)) throw new EphemeraError('CLI_USAGE', `${path} already exists: a row secret is never overwritten; choose another path`);
}

export function writeRowSecret(path: string, secretHex: string): void {
  try {
    writeFileSync(path, `${secretHex}\n`, { flag: 'wx', mode: 0o600 });
  } catch (cause) {
    throw new EphemeraError('CLI_OUT_UNWRITABLE', `cannot write the row secret to ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
