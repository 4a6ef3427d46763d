/**
 * C2SP Ed25519 checkpoint cosignatures, cosignature/v1
 * (c2sp.org/tlog-cosignature, docs/transparency.md §3): a note signature of
 * signature type 0x04 whose bytes are a `timestamped_signature`,
 *
 *   u64be timestamp ‖ Ed25519(cosigner key, message)
 *   message = "cosignature/v1\n" "time " decimal(timestamp) "\n" checkpoint text
 *
 * and whose key ID is SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4]. Cosigner
 * public keys are vkeys of type 0x04 (C2SP); the secret key is an ordinary
 * Ed25519 skey (type 0x01, Go's note.GenerateKey), from which the cosigner
 * derives its 0x04 key ID, as transparency-dev's Go NewSignerForCosignatureV1
 * does (and cosignerVerifierKey converts an 0x01 vkey, as its
 * VKeyToCosignatureV1). Timestamps are
 * POSIX seconds; above 2^53 - 1 (the spec allows up to 2^63 - 1, and lets
 * verifiers refuse the future) they are refused. The ML-DSA-44 type (0x06) is
 * not implemented. Isomorphic.
 */
import { ed25519 } from '@noble/curves/ed25519';
import type { Registered } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { parseCheckpoint } from './checkpoint.js';
import {
  checkEd25519PublicKey,
  ed25519Verifies,
  formatSignerKey,
  formatVerifierKey,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  noteKeyId,
  parseSeedSignerKey,
  parseVerifierKeyParts,
  SIGNATURE_TYPE,
} from './note.js';

export type CosignatureErrorCode = Registered<'TLOG_COSIGNATURE_MALFORMED' | 'TLOG_NOTE_KEY_UNSUPPORTED'>;

const TIMESTAMP_BYTES = 8;
const ED25519_SIGNATURE_BYTES = 64;

/** The message a cosignature/v1 signs: the header line, the time line, then the checkpoint text with its final newline. */
export function cosignatureMessage(checkpointText: string, timestamp: number): Uint8Array {
  return messageOverBytes(new TextEncoder().encode(checkpointText), timestamp);
}

/**
 * The message over the note text's exact bytes. Not through a TextDecoder: its default drops a leading U+FEFF and
 * replaces bytes that are not UTF-8, so a cosignature of one text would verify on another (another origin).
 */
function messageOverBytes(text: Uint8Array, timestamp: number): Uint8Array {
  const header = new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n`);
  const out = new Uint8Array(header.length + text.length);
  out.set(header);
  out.set(text, header.length);
  return out;
}

/** The note text as a string, exactly: UTF-8 or nothing, a leading U+FEFF kept. */
const exactText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Splits a cosignature/v1's bytes (after the key ID): 8 bytes of timestamp, 64 of Ed25519. */
export function parseCosignature(signature: Uint8Array): { timestamp: number; signature: Uint8Array } {
  if (signature.length !== TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES)
    throw new EphemeraError('TLOG_COSIGNATURE_MALFORMED', 'a cosignature/v1 is 72 bytes: an 8-byte timestamp and an Ed25519 signature', {
      fields: { length: signature.length },
    });
  const timestamp = new DataView(signature.buffer, signature.byteOffset, TIMESTAMP_BYTES).getBigUint64(0);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER))
    throw new EphemeraError('TLOG_COSIGNATURE_MALFORMED', "the cosignature's timestamp is beyond 2^53 - 1 seconds (in the far future, or not a time)");
  return { timestamp: Number(timestamp), signature: signature.slice(TIMESTAMP_BYTES) };
}

export interface CosignerVerifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  readonly vkey: string;
}

/** A cosigner's vkey (signature type 0x04): a NoteVerifier for openNote that checks cosignature/v1 over the note text. */
export function parseCosignerVerifierKey(vkey: string): CosignerVerifier {
  const parts = parseVerifierKeyParts(vkey);
  if (parts.type !== SIGNATURE_TYPE.cosignatureV1)
    throw new EphemeraError(
      'TLOG_NOTE_KEY_UNSUPPORTED',
      `the cosigner key is of signature type 0x${parts.type.toString(16).padStart(2, '0')}, not cosignature/v1 (0x04)`,
    );
  checkEd25519PublicKey(parts.key);
  const publicKey = parts.key;
  return {
    name: parts.name,
    keyId: parts.keyId,
    type: SIGNATURE_TYPE.cosignatureV1,
    publicKey,
    vkey,
    verify(text, bytes) {
      let cosignature: { timestamp: number; signature: Uint8Array };
      try {
        cosignature = parseCosignature(bytes);
      } catch {
        return false;
      }
      return ed25519Verifies(cosignature.signature, messageOverBytes(text, cosignature.timestamp), publicKey);
    },
  };
}

/** The timestamp of a cosignature line openNote verified. */
export function cosignatureTimestamp(signature: NoteSignature): number {
  return parseCosignature(signature.signature).timestamp;
}

export interface Cosigner extends NoteSigner {
  readonly vkey: string;
}

/**
 * A cosigner from its Ed25519 signer key (an ordinary 0x01 skey, as transparency-dev's NewSignerForCosignatureV1
 * reads it): a NoteSigner with the cosignature key ID (type 0x04) that signs a checkpoint's text (refusing any other
 * text) at the clock's time, in whole POSIX seconds.
 */
export function parseCosignerSignerKey(skey: string, clock: () => number = Date.now): Cosigner {
  const { name, seed, publicKey } = parseSeedSignerKey(skey, SIGNATURE_TYPE.ed25519);
  return {
    name,
    keyId: noteKeyId(name, SIGNATURE_TYPE.cosignatureV1, publicKey),
    vkey: formatVerifierKey(name, SIGNATURE_TYPE.cosignatureV1, publicKey),
    sign(text) {
      let checkpointText: string;
      try {
        checkpointText = exactText.decode(text);
      } catch {
        throw new EphemeraError('TLOG_CHECKPOINT_MALFORMED', 'a checkpoint is UTF-8 text');
      }
      parseCheckpoint(checkpointText);
      const timestamp = Math.floor(clock() / 1000);
      // tlog-witness: "The cosignature MUST NOT omit the timestamp, i.e. the timestamp MUST NOT be zero."
      if (!Number.isSafeInteger(timestamp) || timestamp < 1)
        throw new EphemeraError('TLOG_COSIGNATURE_MALFORMED', 'the clock gives no POSIX time after 1970-01-01T00:00:01Z');
      const out = new Uint8Array(TIMESTAMP_BYTES + ED25519_SIGNATURE_BYTES);
      new DataView(out.buffer).setBigUint64(0, BigInt(timestamp));
      out.set(ed25519.sign(messageOverBytes(text, timestamp), seed), TIMESTAMP_BYTES);
      return out;
    },
  };
}

/** A new cosigner key pair for `name`: the Ed25519 skey (type 0x01) to keep secret, and the cosigner vkey (type 0x04) to publish. */
export function generateCosignerKey(name: string, seed: Uint8Array = ed25519.utils.randomPrivateKey()): { skey: string; vkey: string } {
  return {
    skey: formatSignerKey(name, SIGNATURE_TYPE.ed25519, seed),
    vkey: formatVerifierKey(name, SIGNATURE_TYPE.cosignatureV1, ed25519.getPublicKey(seed)),
  };
}

/** The cosigner vkey (type 0x04) of an Ed25519 vkey (type 0x01): transparency-dev's VKeyToCosignatureV1. */
export function cosignerVerifierKey(noteVkey: string): string {
  const parts = parseVerifierKeyParts(noteVkey);
  if (parts.type !== SIGNATURE_TYPE.ed25519)
    throw new EphemeraError('TLOG_NOTE_KEY_UNSUPPORTED', `the key is of signature type 0x${parts.type.toString(16).padStart(2, '0')}, not Ed25519 (0x01)`);
  checkEd25519PublicKey(parts.key);
  return formatVerifierKey(parts.name, SIGNATURE_TYPE.cosignatureV1, parts.key);
}
