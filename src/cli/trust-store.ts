/**
 * The reader's pinned keys (docs/verification.md §8): one Ed25519 public key
 * (64 hex) or fingerprint (sha256:<64 hex>) per line, `#` starts a comment,
 * in `$XDG_CONFIG_HOME/ephemera/trusted-keys` (default ~/.config). Read
 * strictly: a line that is neither is an error naming the line, never
 * skipped. Written with mode 0600 in a 0700 directory.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { EphemeraError } from '../errors.js';
import { KEY_PIN } from '../config.js';

/** Where a server publishes its key for `ephemera trust pin`. */
export const WELL_KNOWN_KEY_PATH = '/.well-known/ephemera-key.json';

export interface Pin {
  key: string;
  note: string;
}

export function trustFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.startsWith('/') ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(base, 'ephemera', 'trusted-keys');
}

/** Parses a pin; throws CLI_USAGE naming what it is not. */
export function parsePin(text: string, where = 'key'): string {
  const pin = text.trim().toLowerCase();
  if (!KEY_PIN.test(pin)) throw new EphemeraError('CLI_USAGE', `${where}: expected an Ed25519 public key (64 hex) or a fingerprint (sha256:<64 hex>)`);
  return pin;
}

export function readPins(path = trustFilePath()): Pin[] {
  if (!existsSync(path)) return [];
  const pins: Pin[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const [entry, ...comment] = line.split('#');
      if (entry!.trim() === '') return;
      try {
        pins.push({ key: parsePin(entry!, `${path}:${i + 1}`), note: comment.join('#').trim() });
      } catch (cause) {
        throw new EphemeraError('CONFIG_INVALID', (cause as Error).message, { cause });
      }
    });
  return pins;
}

export function writePins(pins: readonly Pin[], path = trustFilePath()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const text = `# Ed25519 keys (or sha256: fingerprints) whose simulated Ephemera certificates you trust.\n${pins.map((p) => `${p.key}${p.note ? `  # ${p.note.replace(/\n/g, ' ')}` : ''}`).join('\n')}\n`;
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}
