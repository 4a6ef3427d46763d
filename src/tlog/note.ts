/**
 * C2SP signed notes (c2sp.org/signed-note, docs/transparency.md §1), with
 * Ed25519 keys in the string formats of Go's golang.org/x/mod/sumdb/note:
 *
 *   note      = text "\n" 1*("— " name " " base64(key ID ‖ signature) "\n")
 *   vkey      = name "+" hex8(key ID) "+" base64(type ‖ public key)
 *   skey      = "PRIVATE+KEY+" name "+" hex8(key ID) "+" base64(type ‖ seed)
 *   key ID    = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian
 *
 * Everything Go's note.Open refuses is refused here, and more: a note above
 * NOTE_MAX_BYTES, non-canonical base64, an upper-case key ID in a key, and
 * Ed25519 keys and signatures outside the strict rules of
 * src/attest/ed25519.ts (small-order keys, non-canonical points, S ≥ L).
 * Isomorphic: no node: import.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { verifyEd25519Strict } from '../attest/ed25519.js';
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { sha256Bytes } from '../events/index.js';
import { decodeBase64, decodeNoteText, encodeBase64, encodeNoteText, isValidKeyName } from './lines.js';

export type NoteErrorCode = Registered<
  | 'TLOG_NOTE_MALFORMED'
  | 'TLOG_NOTE_TOO_LARGE'
  | 'TLOG_NOTE_SIGNATURE_INVALID'
  | 'TLOG_NOTE_UNVERIFIED'
  | 'TLOG_NOTE_KEY_INVALID'
  | 'TLOG_NOTE_KEY_UNSUPPORTED'
  | 'TLOG_NOTE_KEYS_AMBIGUOUS'
>;

/** The largest note read: 16 signatures of the largest post-quantum size (≈5 kB each, base64) fit many times over. */
export const NOTE_MAX_BYTES = 256 * 1024;
/** The most signature lines read (Go's note.Open: 100; C2SP: at least 16). */
export const NOTE_MAX_SIGNATURES = 100;

/** Signature type identifier bytes (C2SP signed-note "Signature types"). */
export const SIGNATURE_TYPE = { ed25519: 0x01, cosignatureV1: 0x04 } as const;

const EM_DASH_SPACE = '— ';

/** One signature line. `signature` is the bytes after the key ID; `base64` the line's text after the name, as written. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
  readonly base64: string;
}

export interface Note {
  /** The text, ending in its newline, without the blank line before the signatures. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A known key: it verifies the signature bytes (after the key ID) over the note text. Never throws. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** A key that signs: returns the signature bytes (without the key ID) over the note text. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Uint8Array;
}

export interface OpenedNote {
  readonly text: string;
  /** The signatures of known keys, each verified; one per key (repeats dropped). */
  readonly verified: readonly NoteSignature[];
  /** The signatures of keys not given, ignored; identical repeated lines dropped. */
  readonly unverified: readonly NoteSignature[];
}

export interface NoteLimits {
  maxBytes: number;
  maxSignatures: number;
}

const DEFAULT_LIMITS: NoteLimits = { maxBytes: NOTE_MAX_BYTES, maxSignatures: NOTE_MAX_SIGNATURES };

function malformed(message: string, fields: Record<string, unknown> = {}): EphemeraError<NoteErrorCode> {
  return new EphemeraError('TLOG_NOTE_MALFORMED', message, { fields });
}

/** The key ID: the first four bytes, big-endian, of SHA-256(name ‖ "\n" ‖ type ‖ public key). */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const digest = sha256Bytes(new TextEncoder().encode(`${name}\n`), Uint8Array.of(type), publicKey);
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}

export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

/**
 * One signature line without its newline: "— " name " " base64(key ID ‖ signature), at least one byte of signature
 * (note.Open: len(sig) < 5 is malformed). `line` is for messages: its index among the signature lines.
 */
export function parseSignatureLine(text: string, line: number): NoteSignature {
  if (!text.startsWith(EM_DASH_SPACE)) throw malformed('a signature line does not start with an em dash and a space', { line });
  const rest = text.slice(EM_DASH_SPACE.length);
  const space = rest.indexOf(' ');
  const name = space < 0 ? rest : rest.slice(0, space);
  const base64 = space < 0 ? '' : rest.slice(space + 1);
  if (!isValidKeyName(name)) throw malformed('a signature line has no valid key name (non-empty, no space, no plus)', { line });
  const raw = decodeBase64(base64);
  if (raw === null || raw.length < 5) throw malformed('a signature line does not end in the base64 of a key ID and a signature', { line });
  const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
  return { name, keyId, signature: raw.slice(4), base64 };
}

export function formatSignatureLine(name: string, keyId: number, signature: Uint8Array): string {
  const raw = new Uint8Array(4 + signature.length);
  new DataView(raw.buffer).setUint32(0, keyId);
  raw.set(signature, 4);
  return `${EM_DASH_SPACE}${name} ${encodeBase64(raw)}\n`;
}

function toBytes(input: Uint8Array | string, maxBytes: number): Uint8Array {
  if (typeof input !== 'string') {
    if (input.length > maxBytes) throw new EphemeraError('TLOG_NOTE_TOO_LARGE', `the note is larger than ${maxBytes} bytes`, { fields: { limit: maxBytes } });
    return input;
  }
  if (input.length > maxBytes) throw new EphemeraError('TLOG_NOTE_TOO_LARGE', `the note is larger than ${maxBytes} bytes`, { fields: { limit: maxBytes } });
  const bytes = encodeNoteText(input);
  if (bytes === null) throw malformed('the note holds a control character other than the newline, or is not well-formed text');
  if (bytes.length > maxBytes) throw new EphemeraError('TLOG_NOTE_TOO_LARGE', `the note is larger than ${maxBytes} bytes`, { fields: { limit: maxBytes } });
  return bytes;
}

/**
 * Splits a note into its text and signature lines, checking only its form (C2SP signed-note "Format"): UTF-8, no
 * control character but the newline, the text separated from the signatures by the last blank line, at least one
 * signature line, each one well-formed, and the last ending in a newline. Nothing is verified.
 */
export function parseNote(input: Uint8Array | string, limits: NoteLimits = DEFAULT_LIMITS): Note {
  const bytes = toBytes(input, limits.maxBytes);
  const all = decodeNoteText(bytes);
  if (all === null) throw malformed('the note is not UTF-8, or holds a control character other than the newline');
  const split = all.lastIndexOf('\n\n');
  if (split < 0) throw malformed('the note has no blank line before its signatures');
  const text = all.slice(0, split + 1);
  const block = all.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw malformed('the note does not end in signature lines, each ending in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > limits.maxSignatures)
    throw new EphemeraError('TLOG_NOTE_TOO_LARGE', `the note has more than ${limits.maxSignatures} signature lines`, {
      fields: { limit: limits.maxSignatures },
    });
  return { text, signatures: lines.map((line, i) => parseSignatureLine(line, i)) };
}

/** name+id → key, refusing two keys that share both (Go: ambiguousVerifierError). */
function keyIndex<K extends { name: string; keyId: number }>(keys: readonly K[]): Map<string, K> {
  const index = new Map<string, K>();
  for (const key of keys) {
    const id = `${key.name}+${keyIdHex(key.keyId)}`;
    if (index.has(id)) throw new EphemeraError('TLOG_NOTE_KEYS_AMBIGUOUS', `two keys are named ${id}`, { fields: { key: id } });
    index.set(id, key);
  }
  return index;
}

/**
 * Parses and verifies a note against the known keys (C2SP signed-note "Signatures"): a signature whose name and key ID
 * (both) match a known key is verified, and one that fails refuses the whole note (TLOG_NOTE_SIGNATURE_INVALID) —
 * every such line, repeats included (Go's note.Open checks only the first of a key's repeats); the others are kept
 * as unverified. No verified signature: TLOG_NOTE_UNVERIFIED.
 */
export function openNote(input: Uint8Array | string | Note, known: readonly NoteVerifier[], limits: NoteLimits = DEFAULT_LIMITS): OpenedNote {
  const index = keyIndex(known);
  const note = typeof input === 'string' || input instanceof Uint8Array ? parseNote(input, limits) : input;
  const message = new TextEncoder().encode(note.text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const [line, sig] of note.signatures.entries()) {
    const id = `${sig.name}+${keyIdHex(sig.keyId)}`;
    const verifier = index.get(id);
    if (verifier === undefined) {
      const text = `${id} ${sig.base64}`;
      if (!seen.has(text)) unverified.push(sig);
      seen.add(text);
      continue;
    }
    if (!verifier.verify(message, sig.signature))
      throw new EphemeraError('TLOG_NOTE_SIGNATURE_INVALID', `the signature of ${id} does not verify`, { fields: { key: id, line } });
    if (!seen.has(id)) verified.push(sig);
    seen.add(id);
  }
  if (verified.length === 0)
    throw new EphemeraError('TLOG_NOTE_UNVERIFIED', 'no signature of the note is from a known key', { fields: { signatures: note.signatures.length } });
  return { text: note.text, verified, unverified };
}

/**
 * The note text signed by each signer, after the signatures it already has (Go's note.Sign: an existing signature of
 * a key that signs again is dropped; the new ones come last, in the signers' order). The text must end in a newline
 * and be valid note text.
 */
export function signNote(
  note: { text: string; signatures?: readonly NoteSignature[] },
  signers: readonly NoteSigner[],
  limits: NoteLimits = DEFAULT_LIMITS,
): string {
  const message = encodeNoteText(note.text);
  if (message === null || !note.text.endsWith('\n')) throw malformed('a note text ends in a newline and holds no other control character');
  keyIndex(signers);
  const signing = new Set(signers.map((s) => `${s.name}+${keyIdHex(s.keyId)}`));
  let out = `${note.text}\n`;
  for (const sig of note.signatures ?? []) {
    if (signing.has(`${sig.name}+${keyIdHex(sig.keyId)}`)) continue;
    const again = parseSignatureLine(`${EM_DASH_SPACE}${sig.name} ${sig.base64}`, 0);
    if (again.keyId !== sig.keyId) throw malformed("an existing signature's key ID is not the one its base64 holds");
    out += `${EM_DASH_SPACE}${sig.name} ${sig.base64}\n`;
  }
  for (const signer of signers) {
    if (!isValidKeyName(signer.name)) throw new EphemeraError('TLOG_NOTE_KEY_INVALID', 'a signer has no valid key name');
    out += formatSignatureLine(signer.name, signer.keyId, signer.sign(message));
  }
  parseNote(out, limits);
  return out;
}

// ---- Keys

interface KeyParts {
  name: string;
  keyId: number;
  type: number;
  key: Uint8Array;
}

function keyInvalid(message: string): EphemeraError<NoteErrorCode> {
  return new EphemeraError('TLOG_NOTE_KEY_INVALID', message);
}

/** name "+" hex8 "+" base64(type ‖ key); the base64 may itself hold plus signs. */
function splitKey(text: string, what: string): KeyParts {
  const first = text.indexOf('+');
  const second = first < 0 ? -1 : text.indexOf('+', first + 1);
  if (second < 0) throw keyInvalid(`${what} is name+keyid+base64`);
  const name = text.slice(0, first);
  const hex = text.slice(first + 1, second);
  const raw = decodeBase64(text.slice(second + 1));
  if (!isValidKeyName(name)) throw keyInvalid(`${what} has no valid key name (non-empty, no space, no plus)`);
  if (!/^[0-9a-f]{8}$/.test(hex)) throw keyInvalid(`${what}'s key ID is not 8 lower-case hex digits`);
  if (raw === null || raw.length < 2) throw keyInvalid(`${what}'s key is not base64 of a type byte and key material`);
  return { name, keyId: Number.parseInt(hex, 16), type: raw[0]!, key: raw.slice(1) };
}

/** Parses a vkey of any signature type, checking its form and that its key ID is its hash; the caller checks the type. */
export function parseVerifierKeyParts(vkey: string): KeyParts {
  const parts = splitKey(vkey, 'a verifier key');
  if (noteKeyId(parts.name, parts.type, parts.key) !== parts.keyId) throw keyInvalid("the verifier key's key ID is not the hash of its name and key");
  return parts;
}

/** Parses an skey (PRIVATE+KEY+…) whose key material is a 32-byte Ed25519 seed of the type given; checks its key ID. */
export function parseSeedSignerKey(skey: string, type: number): { name: string; keyId: number; seed: Uint8Array; publicKey: Uint8Array } {
  if (!skey.startsWith('PRIVATE+KEY+')) throw keyInvalid('a signer key starts with PRIVATE+KEY+');
  const parts = splitKey(skey.slice('PRIVATE+KEY+'.length), 'a signer key');
  if (parts.type !== type)
    throw new EphemeraError('TLOG_NOTE_KEY_UNSUPPORTED', `the signer key is of type 0x${parts.type.toString(16).padStart(2, '0')}, not the one expected here`);
  if (parts.key.length !== 32) throw keyInvalid('an Ed25519 signer key holds a 32-byte seed');
  const publicKey = ed25519.getPublicKey(parts.key);
  if (noteKeyId(parts.name, type, publicKey) !== parts.keyId) throw keyInvalid("the signer key's key ID is not the hash of its name and public key");
  return { name: parts.name, keyId: parts.keyId, seed: parts.key, publicKey };
}

/** A 32-byte Ed25519 public key that strict verification accepts: canonical, not of small order, in the prime-order subgroup. */
export function checkEd25519PublicKey(key: Uint8Array): void {
  if (key.length !== 32) throw keyInvalid('an Ed25519 public key is 32 bytes');
  let point: ReturnType<typeof ed25519.Point.fromBytes>;
  try {
    point = ed25519.Point.fromBytes(key, false);
  } catch {
    throw keyInvalid('the Ed25519 public key is not a canonical encoding of a curve point');
  }
  if (point.isSmallOrder() || !point.isTorsionFree()) throw keyInvalid('the Ed25519 public key is of small order or not in the prime-order subgroup');
}

/** Strict Ed25519 (src/attest/ed25519.ts) as a yes/no. */
export function ed25519Verifies(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    verifyEd25519Strict(signature, message, publicKey);
    return true;
  } catch {
    return false;
  }
}

export interface Ed25519NoteVerifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  /** The vkey this verifier was read from, or would be written as. */
  readonly vkey: string;
}

function ed25519Verifier(name: string, keyId: number, publicKey: Uint8Array, vkey: string): Ed25519NoteVerifier {
  return { name, keyId, type: SIGNATURE_TYPE.ed25519, publicKey, vkey, verify: (text, sig) => ed25519Verifies(sig, text, publicKey) };
}

/** A vkey of signature type 0x01 (Ed25519 over the note text), as Go's note.NewVerifier reads it. */
export function parseNoteVerifierKey(vkey: string): Ed25519NoteVerifier {
  const parts = parseVerifierKeyParts(vkey);
  if (parts.type !== SIGNATURE_TYPE.ed25519)
    throw new EphemeraError(
      'TLOG_NOTE_KEY_UNSUPPORTED',
      `the verifier key is of signature type 0x${parts.type.toString(16).padStart(2, '0')}, not Ed25519 (0x01)`,
    );
  checkEd25519PublicKey(parts.key);
  return ed25519Verifier(parts.name, parts.keyId, parts.key, vkey);
}

/** The vkey of an Ed25519 public key of the given signature type (Go's note.NewEd25519VerifierKey for 0x01). */
export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw keyInvalid('a key name is non-empty, with no space and no plus');
  return `${name}+${keyIdHex(noteKeyId(name, type, publicKey))}+${encodeBase64(Uint8Array.of(type, ...publicKey))}`;
}

export function formatSignerKey(name: string, type: number, seed: Uint8Array): string {
  if (!isValidKeyName(name)) throw keyInvalid('a key name is non-empty, with no space and no plus');
  if (seed.length !== 32) throw keyInvalid('an Ed25519 seed is 32 bytes');
  const keyId = noteKeyId(name, type, ed25519.getPublicKey(seed));
  return `PRIVATE+KEY+${name}+${keyIdHex(keyId)}+${encodeBase64(Uint8Array.of(type, ...seed))}`;
}

/** An skey of signature type 0x01 (Go's note.NewSigner): signs the note text with Ed25519 (RFC 8032, deterministic). */
export function parseNoteSignerKey(skey: string): NoteSigner & { readonly vkey: string } {
  const { name, keyId, seed, publicKey } = parseSeedSignerKey(skey, SIGNATURE_TYPE.ed25519);
  return { name, keyId, vkey: formatVerifierKey(name, SIGNATURE_TYPE.ed25519, publicKey), sign: (text) => ed25519.sign(text, seed) };
}

/** The Ed25519 signer (0x01) of a 32-byte seed the caller derived (a log key never written as an skey), with its vkey. */
export function noteSignerFromSeed(name: string, seed: Uint8Array): NoteSigner & { readonly vkey: string } {
  return parseNoteSignerKey(formatSignerKey(name, SIGNATURE_TYPE.ed25519, seed));
}

/** A new Ed25519 key pair for `name` (Go's note.GenerateKey): the skey to keep secret, and the vkey to publish. */
export function generateNoteKey(name: string, seed: Uint8Array = ed25519.utils.randomPrivateKey()): { skey: string; vkey: string } {
  const skey = formatSignerKey(name, SIGNATURE_TYPE.ed25519, seed);
  return { skey, vkey: formatVerifierKey(name, SIGNATURE_TYPE.ed25519, ed25519.getPublicKey(seed)) };
}
