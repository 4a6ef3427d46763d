/**
 * Result key files (`ephemera keygen`): an X25519 key pair, raw keys in hex.
 * The file is the caller's; it never leaves their machine. Isomorphic.
 */
import { x25519 } from '@noble/curves/ed25519';
import { bytesToHex, hexToBytes, s, utf8ToBytes, type Schema } from '../events/index.js';
import { readStrictJson, refuse } from './strict.js';
import { cipherSuite } from './suites.js';
import type { ResultKeyFile, SealCrypto } from './types.js';

const MAX_KEY_FILE_BYTES = 4096;

const resultKeySchema: Schema<ResultKeyFile> = s.object({
  type: s.literal('ephemera.result-key'),
  suite: s.literal('x25519-aes256gcm'),
  public_key: s.hex(64),
  private_key: s.hex(64),
});

export async function generateResultKey(crypto?: SealCrypto): Promise<ResultKeyFile> {
  const kem = cipherSuite('x25519-aes256gcm', crypto).kem;
  const pair = await kem.generateKeyPair();
  const privateBytes = new Uint8Array(await kem.serializePrivateKey(pair.privateKey));
  const file: ResultKeyFile = {
    type: 'ephemera.result-key',
    suite: 'x25519-aes256gcm',
    public_key: bytesToHex(new Uint8Array(await kem.serializePublicKey(pair.publicKey))),
    private_key: bytesToHex(privateBytes),
  };
  privateBytes.fill(0);
  return file;
}

/** Strict: closed members, and the public key must be the private key's (a mixed-up file is refused before use). */
export function parseResultKeyFile(text: string): ResultKeyFile {
  const bytes = utf8ToBytes(text);
  if (bytes.length > MAX_KEY_FILE_BYTES) refuse('SEALED_RESULT_KEY_INVALID', `a result key file is at most ${MAX_KEY_FILE_BYTES} bytes`);
  const file = readStrictJson(bytes, resultKeySchema, 'SEALED_RESULT_KEY_INVALID', 'key file');
  const privateBytes = hexToBytes(file.private_key);
  const publicKey = bytesToHex(x25519.getPublicKey(privateBytes));
  privateBytes.fill(0);
  if (publicKey !== file.public_key) refuse('SEALED_RESULT_KEY_INVALID', 'public_key is not the public key of private_key', 'public_key');
  return file;
}
