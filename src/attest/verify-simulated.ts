/**
 * Verifies a simulated attestation (isomorphic, @noble/curves Ed25519).
 * LIMITATION: proves only that the holder of `public_key` signed this report
 * data; a verifier must pin the public key it trusts to learn anything more.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { EphemeraError } from '../errors.js';
import { hexToBytes } from '../events/index.js';

export function verifySimulatedAttestation(attestation: Record<string, unknown>, reportData: Uint8Array): void {
  const { public_key: publicKey, signature } = attestation;
  if (typeof publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(publicKey)) throw new EphemeraError('ATTEST_MALFORMED', 'public_key must be 64 hex', { fields: { field: 'attestation.public_key' } });
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) throw new EphemeraError('ATTEST_MALFORMED', 'signature must be 128 hex', { fields: { field: 'attestation.signature' } });
  let ok = false;
  try {
    ok = ed25519.verify(hexToBytes(signature), reportData, hexToBytes(publicKey));
  } catch {
    ok = false;
  }
  if (!ok) throw new EphemeraError('ATTEST_SIGNATURE_INVALID', 'the signature does not verify over the report data', { fields: { field: 'attestation.signature' } });
}
