/** The simulated attestation: a strict Ed25519 signature over the 64 report-data bytes, its members named on failure. */
import { ed25519 } from '@noble/curves/ed25519';
import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '../events/index.js';
import { isEphemeraError } from '../errors.js';
import { verifySimulatedAttestation } from './verify-simulated.js';

const SEED = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const REPORT = new Uint8Array(64).map((_, i) => i * 3);
const PUBLIC_KEY = bytesToHex(ed25519.getPublicKey(SEED));
const SIGNATURE = bytesToHex(ed25519.sign(REPORT, SEED));
const failureOf = (attestation: Record<string, unknown>, report = REPORT) => {
  try {
    verifySimulatedAttestation(attestation, report);
    return null;
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    return { code: error.code, message: error.message, field: error.fields.field };
  }
};

describe('verifySimulatedAttestation', () => {
  describe('when the key signed these report data', () => {
    it('passes', () => {
      expect(failureOf({ type: 'simulated', public_key: PUBLIC_KEY, signature: SIGNATURE })).toBeNull();
    });
  });

  describe('when the public key is not 64 lowercase hex', () => {
    it.each([
      ['missing', undefined],
      ['a number', 7],
      ['an array holding it', [PUBLIC_KEY]],
      ['uppercase', PUBLIC_KEY.toUpperCase()],
      ['one character short', PUBLIC_KEY.slice(1)],
      ['with a character before it', `0${PUBLIC_KEY}`],
      ['with a character after it', `${PUBLIC_KEY}0`],
    ])('refuses it %s with ATTEST_MALFORMED', (_what, publicKey) => {
      expect(failureOf({ type: 'simulated', public_key: publicKey, signature: SIGNATURE })).toEqual({
        code: 'ATTEST_MALFORMED',
        message: 'public_key must be 64 lowercase hex',
        field: 'proof.attestation.public_key',
      });
    });
  });

  describe('when the signature is not 128 lowercase hex', () => {
    it.each([
      ['missing', undefined],
      ['an array holding it', [SIGNATURE]],
      ['uppercase', SIGNATURE.toUpperCase()],
      ['with a character before it', `0${SIGNATURE}`],
      ['with a character after it', `${SIGNATURE}0`],
    ])('refuses it %s with ATTEST_MALFORMED', (_what, signature) => {
      expect(failureOf({ type: 'simulated', public_key: PUBLIC_KEY, signature })).toEqual({
        code: 'ATTEST_MALFORMED',
        message: 'signature must be 128 lowercase hex',
        field: 'proof.attestation.signature',
      });
    });
  });

  describe('when the signature does not verify', () => {
    it("names the signature as the attestation's member", () => {
      const other = REPORT.slice();
      other[63] ^= 1;
      expect(failureOf({ type: 'simulated', public_key: PUBLIC_KEY, signature: SIGNATURE }, other)).toEqual({
        code: 'ATTEST_SIGNATURE_INVALID',
        message: 'the signature does not verify over the report data',
        field: 'proof.attestation.signature',
      });
    });

    it('names the public key when the key is the culprit', () => {
      expect(failureOf({ type: 'simulated', public_key: `01${'00'.repeat(31)}`, signature: `01${'00'.repeat(63)}` })).toMatchObject({
        code: 'ATTEST_KEY_SMALL_ORDER',
        field: 'proof.attestation.public_key',
      });
    });
  });
});
