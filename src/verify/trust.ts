/**
 * Whom a valid certificate comes from, and whether the reader trusts it
 * (docs/verification.md §8).
 *
 * A simulated attestation proves only "signed by key K". K is named by its
 * fingerprint, `sha256:` + hex(SHA-256(the 32 raw key bytes)), and trusted
 * only when the reader pinned it (by key or fingerprint), or when it is the
 * key of the machine doing the verifying (its own data directory), which the
 * verdict says. A hardware (tdx) attestation is trusted when it verifies
 * under the reader's attestation policy. Isomorphic.
 */
import { hashBytes, hexToBytes } from '../events/index.js';

export type TrustBasis = 'pinned-key' | 'local-key' | 'hardware-policy';

export interface TrustOptions {
  /** Ed25519 public keys (64 hex) or their fingerprints (sha256:<64 hex>) the reader pinned. */
  trustedKeys?: readonly string[];
  /** Keys of this machine's own simulated attestor: trusted, and said so. */
  localKeys?: readonly string[];
}

export interface KeyIdentity {
  algorithm: 'ed25519';
  public_key: string;
  fingerprint: string;
}

export interface TrustVerdict {
  trusted: boolean;
  basis: TrustBasis | null;
  reason: string;
}

export function keyFingerprint(publicKeyHex: string): string {
  return hashBytes(hexToBytes(publicKeyHex));
}

export function keyIdentity(publicKeyHex: string): KeyIdentity {
  return { algorithm: 'ed25519', public_key: publicKeyHex, fingerprint: keyFingerprint(publicKeyHex) };
}

/**
 * True when `pins` names the key, by itself or by its fingerprint. 64 bare hex digits name either: the key, or
 * a fingerprint written without its `sha256:` (as people copy it); no key is both but by a SHA-256 preimage.
 */
function pinned(pins: readonly string[] | undefined, key: KeyIdentity): boolean {
  return (pins ?? []).some((pin) => {
    const p = pin.trim().toLowerCase();
    return p === key.public_key || p === key.fingerprint || `sha256:${p}` === key.fingerprint;
  });
}

export function trustOfKey(key: KeyIdentity, options: TrustOptions): TrustVerdict {
  if (pinned(options.trustedKeys, key)) return { trusted: true, basis: 'pinned-key', reason: `signed by key ${key.fingerprint}, which you pinned` };
  if (pinned(options.localKeys, key))
    return { trusted: true, basis: 'local-key', reason: `signed by key ${key.fingerprint}, this machine's own simulated attestor (not hardware-backed)` };
  return { trusted: false, basis: null, reason: `signed by key ${key.fingerprint}, which you have not pinned: anyone can make a key and sign` };
}
