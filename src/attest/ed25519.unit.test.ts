/** Strict Ed25519 (test-vectors/ed25519: RFC 8032 §7.1 and the twelve cases of "Taming the many EdDSAs"). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519';
import { hexToBytes } from '../events/index.js';
import { isEphemeraError } from '../errors.js';
import { ED25519_L, verifyEd25519Strict } from './ed25519.js';

interface Case {
  name: string;
  description: string;
  message: string;
  public_key: string;
  signature: string;
  expected: { valid: boolean; code: string | null };
}
const CASES = JSON.parse(readFileSync(join(import.meta.dirname, '../../test-vectors/ed25519/cases.json'), 'utf8')) as Case[];

function verdict(c: Pick<Case, 'message' | 'public_key' | 'signature'>): { valid: boolean; code: string | null } {
  try {
    verifyEd25519Strict(hexToBytes(c.signature), hexToBytes(c.message), hexToBytes(c.public_key));
    return { valid: true, code: null };
  } catch (error) {
    return { valid: false, code: isEphemeraError(error) ? error.code : 'NOT_EPHEMERA' };
  }
}

describe('verifyEd25519Strict', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s gets its verdict', (_name, c) => {
    expect(verdict(c)).toEqual(c.expected);
  });

  it("rejects all twelve edge cases, nine of which the library's default (ZIP-215) verify accepts", () => {
    const edge = CASES.filter((c) => c.name.startsWith('speccheck-'));
    expect(edge).toHaveLength(12);
    expect(edge.every((c) => !verdict(c).valid)).toBe(true);
    const laxAccepts = edge.filter((c) => {
      try {
        return ed25519.verify(hexToBytes(c.signature), hexToBytes(c.message), hexToBytes(c.public_key));
      } catch {
        return false;
      }
    });
    expect(laxAccepts.length).toBe(9);
  });

  it('accepts a fresh signature and rejects it over any other message', () => {
    const secret = ed25519.utils.randomPrivateKey();
    const message = new Uint8Array(64).fill(7);
    const signature = ed25519.sign(message, secret);
    const key = ed25519.getPublicKey(secret);
    expect(() => verifyEd25519Strict(signature, message, key)).not.toThrow();
    const other = message.slice();
    other[0] = 8;
    expect(() => verifyEd25519Strict(signature, other, key)).toThrow(expect.objectContaining({ code: 'ATTEST_SIGNATURE_INVALID' }));
  });

  describe('when a rule is broken, the error names the rule and the member', () => {
    const SEED = hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
    const KEY = ed25519.getPublicKey(SEED);
    const MESSAGE = new Uint8Array([1, 2, 3]);
    const SIGNATURE = ed25519.sign(MESSAGE, SEED);
    const IDENTITY = hexToBytes(`01${'00'.repeat(31)}`);
    const IDENTITY_Y_ABOVE_P = hexToBytes(`ee${'ff'.repeat(30)}7f`);
    const le32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
    const failure = (signature: Uint8Array, key: Uint8Array, fields?: { key: string; signature: string }) => {
      try {
        verifyEd25519Strict(signature, MESSAGE, key, fields);
        return null;
      } catch (error) {
        return isEphemeraError(error)
          ? { code: error.code, message: error.message, field: error.fields.field }
          : { code: 'NOT_EPHEMERA', message: String(error), field: null };
      }
    };
    const byCase = (name: string) => CASES.find((c) => c.name === name)!;

    it.each([
      ['a key of 31 bytes', SIGNATURE, KEY.subarray(1), 'ATTEST_KEY_NONCANONICAL', 'an Ed25519 public key is 32 bytes', 'public_key'],
      ['a key of 33 bytes', SIGNATURE, new Uint8Array([...KEY, 0]), 'ATTEST_KEY_NONCANONICAL', 'an Ed25519 public key is 32 bytes', 'public_key'],
      ['a signature of 63 bytes', SIGNATURE.subarray(1), KEY, 'ATTEST_SIGNATURE_NONCANONICAL', 'an Ed25519 signature is 64 bytes', 'signature'],
      ['a signature of 65 bytes', new Uint8Array([...SIGNATURE, 0]), KEY, 'ATTEST_SIGNATURE_NONCANONICAL', 'an Ed25519 signature is 64 bytes', 'signature'],
      [
        'a key with y ≥ p',
        SIGNATURE,
        hexToBytes(byCase('speccheck-10').public_key),
        'ATTEST_KEY_NONCANONICAL',
        'the public key is not a canonical encoding of a curve point',
        'public_key',
      ],
      [
        'the identity as key',
        new Uint8Array([...IDENTITY, ...new Uint8Array(32)]),
        IDENTITY,
        'ATTEST_KEY_SMALL_ORDER',
        'the public key is a point of small order: it verifies forged signatures',
        'public_key',
      ],
      [
        'a key with a small-order component',
        hexToBytes(byCase('speccheck-2').signature),
        hexToBytes(byCase('speccheck-2').public_key),
        'ATTEST_KEY_NOT_PRIME_ORDER',
        'the public key has a small-order component (not in the prime-order subgroup)',
        'public_key',
      ],
      [
        'an R with y ≥ p',
        new Uint8Array([...IDENTITY_Y_ABOVE_P, ...SIGNATURE.subarray(32)]),
        KEY,
        'ATTEST_SIGNATURE_NONCANONICAL',
        "the signature's R is not a canonical encoding of a curve point",
        'signature',
      ],
      [
        'the identity as R',
        new Uint8Array([...IDENTITY, ...SIGNATURE.subarray(32)]),
        KEY,
        'ATTEST_SIGNATURE_SMALL_ORDER',
        "the signature's R is a point of small order",
        'signature',
      ],
      [
        'S = L',
        new Uint8Array([...SIGNATURE.subarray(0, 32), ...le32(ED25519_L)]),
        KEY,
        'ATTEST_SIGNATURE_NONCANONICAL',
        "the signature's S is not below the group order L",
        'signature',
      ],
      [
        'S = L - 1 (below L, but not the signature)',
        new Uint8Array([...SIGNATURE.subarray(0, 32), ...le32(ED25519_L - 1n)]),
        KEY,
        'ATTEST_SIGNATURE_INVALID',
        'the signature does not verify over the report data',
        'signature',
      ],
    ])('refuses %s', (_what, signature, key, code, message, field) => {
      expect(failure(signature, key)).toEqual({ code, message, field });
    });

    it('uses the member names it is given', () => {
      const fields = { key: 'proof.k', signature: 'proof.sig' };
      expect(failure(SIGNATURE, IDENTITY, fields)?.field).toBe('proof.k');
      expect(failure(new Uint8Array([...IDENTITY, ...SIGNATURE.subarray(32)]), KEY, fields)?.field).toBe('proof.sig');
      expect(failure(SIGNATURE, KEY, fields)).toBeNull();
    });
  });
});
