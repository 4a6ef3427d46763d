/**
 * The reader's pinned keys (docs/verification.md §8): one Ed25519 public key
 * (64 hex) or fingerprint (sha256:<64 hex>) per line, `#` starts a comment,
 * in `$XDG_CONFIG_HOME/ephemera/trusted-keys` (default ~/.config). Read
 * strictly: a line that is neither is an error naming the line, never
 * skipped. Written with mode 0600 in a 0700 directory.
 * The same file holds the transparency log's trust (docs/transparency.md
 * §9, §12): `log-key <vkey>` lines (log keys trusted without their
 * attestation) and `witness <cosigner vkey>` lines (witnesses whose
 * cosignatures `verify` requires, all of them unless --witnesses-required).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { EphemeraError } from '../errors.js';
import { KEY_PIN } from '../config.js';
import { cosignerVerifierKey, parseCosignerVerifierKey, parseNoteVerifierKey } from '../tlog/index.js';

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

export interface LogTrust {
  logKeys: string[];
  witnesses: string[];
}

const LOG_LINE = /^\s*(log-key|witness)\s+(\S+)\s*$/;

/** A log key (Ed25519 note vkey) or witness (cosigner vkey; an Ed25519 vkey names the same key's cosigner key) as the file keeps it. */
export function parseLogPin(kind: 'log-key' | 'witness', text: string, where: string): string {
  try {
    if (kind === 'log-key') return parseNoteVerifierKey(text.trim()) && text.trim();
    try {
      parseCosignerVerifierKey(text.trim());
      return text.trim();
    } catch {
      return cosignerVerifierKey(text.trim());
    }
  } catch (cause) {
    throw new EphemeraError('CLI_USAGE', `${where}: expected ${kind === 'log-key' ? 'a log vkey (origin+keyid+key)' : "a witness's cosigner vkey"}`, { cause });
  }
}

/** The `log-key` and `witness` lines of the trust file. */
export function readLogTrust(path = trustFilePath()): LogTrust {
  const trust: LogTrust = { logKeys: [], witnesses: [] };
  if (!existsSync(path)) return trust;
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const match = LOG_LINE.exec(line.split('#')[0]!);
      if (!match) return;
      try {
        const key = parseLogPin(match[1] as 'log-key' | 'witness', match[2]!, `${path}:${i + 1}`);
        (match[1] === 'log-key' ? trust.logKeys : trust.witnesses).push(key);
      } catch (cause) {
        throw new EphemeraError('CONFIG_INVALID', (cause as Error).message, { cause });
      }
    });
  return trust;
}

/** Rewrites the log lines of the trust file, keeping its key pins. */
export function writeLogTrust(trust: LogTrust, path = trustFilePath()): void {
  writePins(readPins(path), path, trust);
}

export function readPins(path = trustFilePath()): Pin[] {
  if (!existsSync(path)) return [];
  const pins: Pin[] = [];
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const [entry, ...comment] = line.split('#');
      if (entry!.trim() === '' || LOG_LINE.test(entry!)) return;
      try {
        pins.push({ key: parsePin(entry!, `${path}:${i + 1}`), note: comment.join('#').trim() });
      } catch (cause) {
        throw new EphemeraError('CONFIG_INVALID', (cause as Error).message, { cause });
      }
    });
  return pins;
}

export function writePins(pins: readonly Pin[], path = trustFilePath(), log: LogTrust = readLogTrust(path)): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const logLines = [...log.logKeys.map((k) => `log-key ${k}`), ...log.witnesses.map((k) => `witness ${k}`)];
  const text = `# Ed25519 keys (or sha256: fingerprints) whose simulated Ephemera certificates you trust.\n${pins.map((p) => `${p.key}${p.note ? `  # ${p.note.replace(/\n/g, ' ')}` : ''}`).join('\n')}\n${logLines.map((l) => `${l}\n`).join('')}`;
  writeFileSync(path, text, { mode: 0o600 });
  chmodSync(path, 0o600);
}
