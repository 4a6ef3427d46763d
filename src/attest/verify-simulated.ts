/**
 * Verifies a simulated attestation: a strict Ed25519 signature (ed25519.ts)
 * over the 64 report-data bytes. Isomorphic.
 * LIMITATION: proves only that the holder of `public_key` signed this report
 * data; whether that key is one to trust is the reader's decision (trust.ts
 * in verify/, docs/verification.md §8).
 */
import { EphemeraError } from '../errors.js';
import { hexToBytes } from '../events/index.js';
import { verifyEd25519Strict } from './ed25519.js';

const FIELD = 'proof.attestation';

export function verifySimulatedAttestation(attestation: Record<string, unknown>, reportData: Uint8Array): void {
  const { public_key: publicKey, signature } = attestation;
  if (typeof publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(publicKey))
    throw new EphemeraError('ATTEST_MALFORMED', 'public_key must be 64 lowercase hex', { fields: { field: `${FIELD}.public_key` } });
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature))
    throw new EphemeraError('ATTEST_MALFORMED', 'signature must be 128 lowercase hex', { fields: { field: `${FIELD}.signature` } });
  verifyEd25519Strict(hexToBytes(signature), reportData, hexToBytes(publicKey), { key: `${FIELD}.public_key`, signature: `${FIELD}.signature` });
}
