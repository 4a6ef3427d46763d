/** The CLI's file access: every failure names the file and has its own code (a missing file is not an unreadable one). */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EphemeraError } from '../errors.js';

/** Reads a whole input file: CLI_FILE_NOT_FOUND when it is not there, CLI_FILE_UNREADABLE when it cannot be read. */
export function readInput(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw inputError(cause, path, what);
  }
}

/** Fails as readInput would, without reading: for a file read later, in pieces (a bundle of hundreds of megabytes). */
export function assertReadable(path: string, what: string): void {
  try {
    closeSync(openSync(path, 'r'));
    if (statSync(path).isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
  } catch (cause) {
    throw inputError(cause, path, what);
  }
}

function inputError(cause: unknown, path: string, what: string): EphemeraError {
  const errno = (cause as NodeJS.ErrnoException).code;
  if (errno === 'ENOENT' || errno === 'ENOTDIR') return new EphemeraError('CLI_FILE_NOT_FOUND', `the ${what} file ${path} does not exist`);
  return new EphemeraError('CLI_FILE_UNREADABLE', `cannot read the ${what} file ${path} (${errno ?? 'error'})`);
}

export interface Kept {
  /** Where the certificate is now, or null when it could be written nowhere (then it goes to stdout). */
  path: string | null;
  /** Why --out failed, when it did. */
  error: EphemeraError | null;
}

/**
 * Writes an issued certificate to --out. If that fails, the certificate is
 * not lost: it goes to the data directory's certificates/ under its id (the
 * log holds it too, but a file is what the user asked for).
 */
export function keepCertificate(json: string, certificateId: string, out: string | undefined, dataDir: string): Kept {
  if (out === undefined) return { path: null, error: null };
  let why: string;
  try {
    writeFileSync(out, json);
    return { path: out, error: null };
  } catch (cause) {
    why = (cause as NodeJS.ErrnoException).code ?? 'error';
  }
  const beside = join(dataDir, 'certificates', `${certificateId}.json`);
  try {
    mkdirSync(join(dataDir, 'certificates'), { recursive: true, mode: 0o700 });
    writeFileSync(beside, json);
    return { path: beside, error: new EphemeraError('CLI_OUT_UNWRITABLE', `cannot write ${out} (${why}); the certificate is saved at ${beside}`) };
  } catch {
    return { path: null, error: new EphemeraError('CLI_OUT_UNWRITABLE', `cannot write ${out} (${why}) nor ${beside}; the certificate follows on stdout`) };
  }
}

/** A response body, refused (with `tooLarge`) as soon as it passes `max` bytes: a server's answer is not trusted for its size. */
export async function readBoundedBody(response: Response, max: number, tooLarge: () => never): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > max) tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
