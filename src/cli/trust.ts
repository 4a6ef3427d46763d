/**
 * ephemera trust ls | add KEY [--note TEXT] | rm KEY | pin URL [--expect-fingerprint F]
 * Manages the keys whose simulated certificates `ephemera verify` calls
 * trusted (trust-store.ts), and the transparency log's: a KEY with `+` is a
 * note vkey, a log key (Ed25519, type 0x01) or a witness's cosigner key
 * (type 0x04), kept as `log-key` / `witness` lines. `pin` fetches a server's key from its well-known
 * URL (/.well-known/ephemera-key.json) and pins it: the command itself is the
 * explicit step; --expect-fingerprint checks it against a fingerprint
 * obtained out of band. The fetched document is untrusted input: bounded in
 * size and time, read strictly, and its fingerprint recomputed.
 */
import { EphemeraError } from '../errors.js';
import { readBoundedBody } from './files.js';
import { parseStrictJson, s } from '../events/index.js';
import { keyFingerprint } from '../verify/index.js';
import { note, printJson, printTable } from './common.js';
import { parseLogPin, parsePin, readLogTrust, readPins, trustFilePath, WELL_KNOWN_KEY_PATH, writeLogTrust, writePins } from './trust-store.js';

const MAX_KEY_DOCUMENT_BYTES = 16 * 1024;
const FETCH_TIMEOUT_MS = 10_000;

const keyDocument = s.tagged('tee', {
  simulated: s.object({
    tee: s.literal('simulated'),
    algorithm: s.literal('ed25519'),
    public_key: s.hex(64),
    fingerprint: s.hash(),
    hardware_backed: s.literal(false),
  }),
  dstack: s.object({ tee: s.literal('dstack'), hardware_backed: s.literal(true), compose_hash: s.nullable(s.string(256)) }),
});

/** `trust ls` (the default): the pinned keys, each raw key with its fingerprint (what run, verify and the pages print). */
export function trustLs(options: { json?: boolean }): void {
  const path = trustFilePath();
  const pins = readPins(path);
  const rows = pins.map((p) => ({ ...p, fingerprint: p.key.length === 64 ? keyFingerprint(p.key) : p.key }));
  const log = readLogTrust(path);
  if (options.json) printJson({ file: path, keys: rows, log_keys: log.logKeys, witnesses: log.witnesses });
  else if (pins.length === 0 && log.logKeys.length + log.witnesses.length === 0) process.stdout.write(`no pinned keys (${path})\n`);
  else printTable(['fingerprint', 'key', 'note'], [...rows.map((p) => [p.fingerprint, p.key.length === 64 ? p.key : '', p.note]), ...logRows(log)]);
}

function logRows(log: ReturnType<typeof readLogTrust>): string[][] {
  return [...log.logKeys.map((k) => ['(log key)', k, '']), ...log.witnesses.map((k) => ['(witness)', k, ''])];
}

/** A vkey names a log key (Ed25519 note key) or a witness (cosigner key), by its type byte. */
function logPinOf(target: string): { kind: 'logKeys' | 'witnesses'; key: string } | null {
  if (!target.includes('+')) return null;
  try {
    return { kind: 'logKeys', key: parseLogPin('log-key', target, 'KEY') };
  } catch {
    try {
      return { kind: 'witnesses', key: parseLogPin('witness', target, 'ephemera trust add KEY') };
    } catch (cause) {
      // It had a '+': the reader meant a vkey, but either kind might be the one they got wrong.
      throw new EphemeraError('CLI_USAGE', `ephemera trust add ${target}: expected a log vkey or a witness's cosigner vkey (name+keyid+key)`, { cause });
    }
  }
}

export function trustAdd(target: string, options: { note?: string; json?: boolean }): void {
  const path = trustFilePath();
  const logPin = logPinOf(target);
  if (logPin) {
    const log = readLogTrust(path);
    if (!log[logPin.kind].includes(logPin.key)) log[logPin.kind].push(logPin.key);
    writeLogTrust(log, path);
    return report(
      options.json,
      { pinned: logPin.key, kind: logPin.kind === 'logKeys' ? 'log_key' : 'witness', file: path },
      `pinned ${logPin.key}\n(${path})\n`,
    );
  }
  const pins = readPins(path);
  const key = parsePin(target, 'ephemera trust add KEY');
  if (!pins.some((p) => p.key === key)) writePins([...pins, { key, note: options.note ?? '' }], path);
  report(options.json, { pinned: key, file: path }, `pinned ${key}\n(${path})\n`);
}

/** Unpins by key or fingerprint: either removes both pins. */
export function trustRm(target: string, options: { json?: boolean }): void {
  const path = trustFilePath();
  const logPin = logPinOf(target);
  if (logPin) {
    const log = readLogTrust(path);
    if (!log[logPin.kind].includes(logPin.key)) throw new EphemeraError('CLI_USAGE', `${logPin.key} is not pinned`);
    log[logPin.kind] = log[logPin.kind].filter((k) => k !== logPin.key);
    writeLogTrust(log, path);
    return report(options.json, { removed: logPin.key, file: path }, `removed ${logPin.key}\n`);
  }
  const pins = readPins(path);
  const key = parsePin(target, 'ephemera trust rm KEY');
  const fingerprintOf = (pin: string) => (pin.length === 64 ? keyFingerprint(pin) : pin);
  const kept = pins.filter((p) => fingerprintOf(p.key) !== fingerprintOf(key));
  if (kept.length === pins.length) throw new EphemeraError('CLI_USAGE', `${key} is not pinned`);
  writePins(kept, path);
  report(options.json, { removed: key, file: path }, `removed ${key}\n`);
}

export async function trustPin(target: string, options: { expectFingerprint?: string; json?: boolean }): Promise<void> {
  const path = trustFilePath();
  const pins = readPins(path);
  const document = await fetchKeyDocument(target);
  if (document.tee !== 'simulated') {
    throw new EphemeraError(
      'CLI_USAGE',
      `that server attests with TDX (compose hash ${document.compose_hash ?? 'unknown'}): trust its build with --trusted-compose-hashes, there is no key to pin`,
    );
  }
  const expected = options.expectFingerprint;
  // A fingerprint pasted without its `sha256:` names the same key.
  const expectedPin = expected === undefined ? undefined : parsePin(expected, '--expect-fingerprint');
  if (expectedPin !== undefined && expectedPin !== document.fingerprint && `sha256:${expectedPin}` !== document.fingerprint) {
    throw new EphemeraError('TRUST_FINGERPRINT_MISMATCH', `the server's key has fingerprint ${document.fingerprint}, not the one you expected: nothing pinned`);
  }
  // Over plain http to another machine, anyone on the path could have put their own key in the document.
  const { protocol, hostname } = new URL(target);
  if (protocol === 'http:' && expected === undefined && !['127.0.0.1', '[::1]', 'localhost'].includes(hostname))
    note(
      `WARNING: fetched over plain http from ${hostname}: anyone on the path could have substituted the key; compare the fingerprint with one you got another way (--expect-fingerprint)`,
    );
  if (!pins.some((p) => p.key === document.public_key))
    writePins([...pins, { key: document.public_key, note: `${new URL(target).origin} (simulated, not hardware-backed)` }], path);
  report(
    options.json,
    { pinned: document.public_key, fingerprint: document.fingerprint, file: path },
    `pinned the key of ${new URL(target).origin}\n  fingerprint ${document.fingerprint}\n  NOTE: a simulated key is not hardware-backed; anyone holding it can sign.\n`,
  );
}

function report(json: boolean | undefined, value: Record<string, unknown>, text: string): void {
  if (json) printJson(value);
  else process.stdout.write(text);
}

type KeyDocument = { tee: 'simulated'; public_key: string; fingerprint: string } | { tee: 'dstack'; compose_hash: string | null };

/** GET <origin>/.well-known/ephemera-key.json, within bounds, read strictly, its fingerprint recomputed. */
export async function fetchKeyDocument(base: string): Promise<KeyDocument> {
  let url: URL;
  try {
    url = new URL(WELL_KNOWN_KEY_PATH, base);
  } catch {
    throw new EphemeraError('CLI_USAGE', `${base} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EphemeraError('CLI_USAGE', 'the server URL must be http(s)');
  let body: Uint8Array;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) throw new EphemeraError('TRUST_KEY_UNAVAILABLE', `${url} answered HTTP ${response.status}`);
    body = await readBoundedBody(response, MAX_KEY_DOCUMENT_BYTES, () => {
      throw new EphemeraError('TRUST_KEY_DOCUMENT_INVALID', `the key document is larger than ${MAX_KEY_DOCUMENT_BYTES} bytes`);
    });
  } catch (cause) {
    if (cause instanceof EphemeraError) throw cause;
    throw new EphemeraError('TRUST_KEY_UNAVAILABLE', `could not fetch ${url}`, { cause });
  }
  let value: unknown;
  try {
    value = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new EphemeraError('TRUST_KEY_DOCUMENT_INVALID', `${url} is not a key document (${(cause as Error).message})`, { cause });
  }
  const problem = keyDocument.check(value, 'key document');
  if (problem) throw new EphemeraError('TRUST_KEY_DOCUMENT_INVALID', `${problem.path}: ${problem.reason}`);
  const document = value as KeyDocument;
  if (document.tee === 'simulated' && keyFingerprint(document.public_key) !== document.fingerprint) {
    throw new EphemeraError('TRUST_KEY_DOCUMENT_INVALID', "the key document's fingerprint is not its key's");
  }
  return document;
}
