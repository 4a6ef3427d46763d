/**
 * The witness's own key, `<dir>/witness.key`: an Ed25519 note skey (the one
 * secret Ephemera keeps on disk, mode 0600, created on first use and never
 * logged), from which the cosignature/v1 signer and its vkey derive (§3). And
 * the state directory's lock, `<dir>/witness.pid`: two witnesses on one state
 * would each check against a memory the other does not update.
 */
import { createHash } from 'node:crypto';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519';
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { type Cosigner, generateCosignerKey, parseCosignerSignerKey } from '../tlog/cosignature.js';
import { isValidKeyName } from '../tlog/lines.js';

type WitnessKeyErrorCode = Registered<'TLOG_WITNESS_STATE_INVALID' | 'TLOG_WITNESS_STATE_LOCKED' | 'TLOG_NOTE_KEY_INVALID'>;

export const KEY_FILE = 'witness.key';
const LOCK_FILE = 'witness.pid';

/** The default name of a new witness key: ephemera.witness/ and 16 hex digits of its public key's hash (as §9 names a log). */
function defaultName(seed: Uint8Array): string {
  return `ephemera.witness/${createHash('sha256').update(ed25519.getPublicKey(seed)).digest('hex').slice(0, 16)}`;
}

/** The cosigner of `<dir>/witness.key`; `create`: make one (named `name`, or the default) when there is none. */
export async function loadWitnessKey(dir: string, options: { create: boolean; name?: string }): Promise<Cosigner> {
  const path = join(dir, KEY_FILE);
  let skey: string;
  try {
    const mode = (await stat(path)).mode;
    // Like ssh: a secret key others can read is a key others may have copied.
    if ((mode & 0o077) !== 0)
      throw new EphemeraError('TLOG_WITNESS_STATE_INVALID', `${path} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it`);
    skey = (await readFile(path, 'utf8')).replace(/\n$/, '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!options.create) throw new EphemeraError('TLOG_WITNESS_STATE_INVALID', `no witness key in ${dir} (ephemera witness creates one on its first start)`);
    skey = await createKey(path, options.name);
  }
  try {
    return parseCosignerSignerKey(skey);
  } catch (cause) {
    // Never the key's text in the message.
    throw new EphemeraError('TLOG_WITNESS_STATE_INVALID', `${path} does not hold an Ed25519 note signer key`, { cause: stripped(cause) });
  }
}

async function createKey(path: string, name: string | undefined): Promise<string> {
  const seed = ed25519.utils.randomPrivateKey();
  const keyName = name ?? defaultName(seed);
  if (!isValidKeyName(keyName)) throw new EphemeraError('TLOG_NOTE_KEY_INVALID', 'a key name is non-empty, without spaces or "+"');
  const { skey } = generateCosignerKey(keyName, seed);
  // wx: two starts never both write a key; 0600 from creation, never wider.
  const file = await open(path, 'wx', 0o600);
  try {
    await file.writeFile(`${skey}\n`, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  return skey;
}

/** A parse error of the key's text, without anything that could quote the key. */
function stripped(cause: unknown): unknown {
  return cause instanceof EphemeraError ? new EphemeraError(cause.code, 'the key file is not a valid skey') : undefined;
}

/** Takes `<dir>/witness.pid`, or refuses when a live process holds it (a stale one, of a process gone, is taken over). Returns the release. */
export async function lockStateDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid))
      throw new EphemeraError<WitnessKeyErrorCode>('TLOG_WITNESS_STATE_LOCKED', `another ephemera witness (pid ${pid}) holds ${dir}; stop it first`, {
        fields: { pid },
      });
    await rm(path, { force: true });
  }
  throw new EphemeraError<WitnessKeyErrorCode>('TLOG_WITNESS_STATE_LOCKED', `cannot take ${path}: another witness is starting on ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
