/**
 * Simulated attestor: Ed25519 (node:crypto) over report_data with a key kept in
 * the data directory (created on first use, mode 0600). SECURITY: anyone with
 * the key file can sign; every output says it is not hardware-backed.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EphemeraError } from '../errors.js';
import { TLOG_KEY_SEED_TAG, type Attestor, type SimulatedAttestation, type TeeDescription } from './attestor.js';

export const SIMULATED_KEY_FILE = 'simulated-tee-ed25519.pem';

export class SimulatedAttestor implements Attestor {
  readonly kind = 'simulated' as const;
  private readonly key: KeyObject;
  readonly publicKeyHex: string;

  constructor(dataDir: string) {
    this.key = loadOrCreateKey(dataDir);
    this.publicKeyHex = publicKeyHex(this.key);
  }

  async describe(): Promise<TeeDescription> {
    return { type: 'simulated', public_key: this.publicKeyHex, hardware_backed: false };
  }

  async attest(reportData: Uint8Array): Promise<SimulatedAttestation> {
    if (reportData.length !== 64) throw new EphemeraError('ATTEST_FAILED', 'report data must be 64 bytes');
    return {
      type: 'simulated',
      public_key: this.publicKeyHex,
      signature: sign(null, reportData, this.key).toString('hex'),
    };
  }

  /** SHA-256(tag ‖ PKCS#8 DER): survives restarts exactly as the simulated key does; the key itself never leaves. */
  async tlogKeySeed(): Promise<Uint8Array> {
    const der = this.key.export({ format: 'der', type: 'pkcs8' });
    return new Uint8Array(createHash('sha256').update(TLOG_KEY_SEED_TAG).update(der).digest());
  }
}

/** The public key (hex) of the simulated attestor of `dataDir`, if it has one; never creates a key. */
export function readSimulatedPublicKey(dataDir: string): string | null {
  const path = join(dataDir, SIMULATED_KEY_FILE);
  if (!existsSync(path)) return null;
  try {
    return publicKeyHex(createPrivateKey(readFileSync(path)));
  } catch {
    return null;
  }
}

function publicKeyHex(key: KeyObject): string {
  return Buffer.from(createPublicKey(key).export({ format: 'jwk' }).x!, 'base64url').toString('hex');
}

function loadOrCreateKey(dataDir: string): KeyObject {
  const path = join(dataDir, SIMULATED_KEY_FILE);
  try {
    if (existsSync(path)) return createPrivateKey(readFileSync(path));
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(path, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600, flag: 'wx' });
    return privateKey;
  } catch (cause) {
    throw new EphemeraError('ATTEST_UNAVAILABLE', 'cannot load or create the simulated attestation key', { cause });
  }
}
