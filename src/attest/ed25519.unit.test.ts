/** Strict Ed25519 (test-vectors/ed25519: RFC 8032 §7.1 and the twelve cases of "Taming the many EdDSAs"). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ed25519 } from '@noble/curves/ed25519';
import { hexToBytes } from '../events/index.js';
import { isEphemeraError } from '../errors.js';
import { verifyEd25519Strict } from './ed25519.js';

interface Case { name: string; description: string; message: string; public_key: string; signature: string; expected: { valid: boolean; code: string | null } }
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

  it('rejects all twelve edge cases, nine of which the library\'s default (ZIP-215) verify accepts', () => {
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
});
