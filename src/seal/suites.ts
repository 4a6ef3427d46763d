/**
 * The HPKE suites of docs/sealed.md §1, built from @hpke/core: DHKEM(X25519)
 * or X-Wing, HKDF-SHA256, AES-256-GCM from WebCrypto or the caller's
 * `SealCrypto` (node:crypto on the server). Isomorphic.
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { SEAL_SUITES, bytesToHex, utf8ToBytes, type SealSuite } from '../events/index.js';
import type { SealCrypto } from './types.js';

/** Length of the encapsulated key (`enc`) and of the public key, bytes. */
export const SUITE_SIZES: Readonly<Record<SealSuite, { enc: number; publicKey: number }>> = Object.freeze({
  'x25519-aes256gcm': { enc: 32, publicKey: 32 },
  'xwing-aes256gcm': { enc: 1120, publicKey: 1216 },
});

export const REQUEST_INFO = utf8ToBytes('ephemera/v1/sealed-request');
export const RESULT_INFO = utf8ToBytes('ephemera/v1/sealed-result');

export function isSealSuite(value: unknown): value is SealSuite {
  return typeof value === 'string' && (SEAL_SUITES as readonly string[]).includes(value);
}

const WEB_CRYPTO: SealCrypto = { aes256gcm: () => new Aes256Gcm() };
/** One CipherSuite per (crypto, suite): X-Wing's set-up is not free, and the suites hold no per-message state. */
const built = new WeakMap<SealCrypto, Map<SealSuite, CipherSuite>>();

export function cipherSuite(suite: SealSuite, crypto: SealCrypto = WEB_CRYPTO): CipherSuite {
  let bySuite = built.get(crypto);
  if (!bySuite) built.set(crypto, (bySuite = new Map()));
  let cs = bySuite.get(suite);
  if (!cs) {
    const kem = suite === 'xwing-aes256gcm' ? new XWing() : new DhkemX25519HkdfSha256();
    cs = new CipherSuite({ kem, kdf: new HkdfSha256(), aead: crypto.aes256gcm() });
    bySuite.set(suite, cs);
  }
  return cs;
}

/** A fresh key pair for the suite, in memory; its public key as lowercase hex. */
export async function generateSealKeyPair(suite: SealSuite, crypto?: SealCrypto): Promise<{ keyPair: CryptoKeyPair; publicKeyHex: string }> {
  const kem = cipherSuite(suite, crypto).kem;
  const keyPair = await kem.generateKeyPair();
  return { keyPair, publicKeyHex: bytesToHex(new Uint8Array(await kem.serializePublicKey(keyPair.publicKey))) };
}
