/**
 * Ed25519 signature verification, strict (RFC 8032 §5.1.7, with the choices
 * docs/verification.md §8 fixes so that every verifier agrees on every input):
 *
 *   A (public key), R (first half of the signature):
 *     canonical encodings only: y < p, no x = 0 with the sign bit set, and
 *     decoding then encoding gives back the same 32 bytes
 *   A: not of small order, and in the prime-order subgroup ([L]A = O)
 *   R: not of small order
 *   S (second half, little-endian): S < L
 *   accept iff [S]B = R + [k]A, k = SHA-512(R ‖ A ‖ M) mod L
 *
 * @noble/curves' own `verify` defaults to ZIP-215, which accepts small-order
 * keys: the identity as public key with R = identity and S = 0 "signs" every
 * message. These rules reject all twelve cases of "Taming the many EdDSAs"
 * (test-vectors/ed25519-speccheck). Isomorphic.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { sha512 } from '@noble/hashes/sha512';
import { EphemeraError } from '../errors.js';

export type Ed25519ErrorCode =
  | 'ATTEST_KEY_NONCANONICAL'
  | 'ATTEST_KEY_SMALL_ORDER'
  | 'ATTEST_KEY_NOT_PRIME_ORDER'
  | 'ATTEST_SIGNATURE_NONCANONICAL'
  | 'ATTEST_SIGNATURE_SMALL_ORDER'
  | 'ATTEST_SIGNATURE_INVALID';

const Point = ed25519.Point;
/**
 * The base point with a 4-bit window table: noble's own Point.BASE builds an
 * 8-bit one on first use (~35 ms, a quarter of `ephemera verify`'s run for a
 * process that checks one signature); this costs a few ms once and ~0.1 ms per
 * signature. The same point: only the table differs.
 */
const BASE = Point.fromAffine(Point.BASE.toAffine()).precompute(4);
/** The order of the prime subgroup, RFC 8032 §5.1 ("L"). */
export const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;

type EdPoint = ReturnType<typeof Point.fromBytes>;

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

// Stryker disable next-line all: used only on a point Point.fromBytes(…, false) accepted, which round-trips exactly; a defensive check, every mutant equivalent
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

function decodeCanonical(bytes: Uint8Array, code: Ed25519ErrorCode, what: string, field: string): EdPoint {
  let point: EdPoint;
  try {
    // Stryker disable next-line BooleanLiteral: with zip215 on, the round trip below refuses the same encodings (y ≥ p; x = 0 with the sign bit set)
    point = Point.fromBytes(bytes, false);
  } catch {
    throw new EphemeraError(code, `${what} is not a canonical encoding of a curve point`, { fields: { field } });
  }
  // Stryker disable next-line all: Point.fromBytes(…, false) already refuses every encoding that does not round-trip (defensive, equivalent)
  if (!sameBytes(point.toBytes(), bytes)) throw new EphemeraError(code, `${what} is not a canonical encoding of a curve point`, { fields: { field } });
  return point;
}

/** Throws ATTEST_* naming the first rule broken; returns when the signature verifies strictly. */
export function verifyEd25519Strict(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  fields = { key: 'public_key', signature: 'signature' },
): void {
  if (publicKey.length !== 32) throw new EphemeraError('ATTEST_KEY_NONCANONICAL', 'an Ed25519 public key is 32 bytes', { fields: { field: fields.key } });
  if (signature.length !== 64)
    throw new EphemeraError('ATTEST_SIGNATURE_NONCANONICAL', 'an Ed25519 signature is 64 bytes', { fields: { field: fields.signature } });
  const A = decodeCanonical(publicKey, 'ATTEST_KEY_NONCANONICAL', 'the public key', fields.key);
  if (A.isSmallOrder())
    throw new EphemeraError('ATTEST_KEY_SMALL_ORDER', 'the public key is a point of small order: it verifies forged signatures', {
      fields: { field: fields.key },
    });
  if (!A.isTorsionFree())
    throw new EphemeraError('ATTEST_KEY_NOT_PRIME_ORDER', 'the public key has a small-order component (not in the prime-order subgroup)', {
      fields: { field: fields.key },
    });
  const rBytes = signature.subarray(0, 32);
  const R = decodeCanonical(rBytes, 'ATTEST_SIGNATURE_NONCANONICAL', "the signature's R", fields.signature);
  if (R.isSmallOrder())
    throw new EphemeraError('ATTEST_SIGNATURE_SMALL_ORDER', "the signature's R is a point of small order", { fields: { field: fields.signature } });
  const S = littleEndian(signature.subarray(32, 64));
  if (S >= ED25519_L)
    throw new EphemeraError('ATTEST_SIGNATURE_NONCANONICAL', "the signature's S is not below the group order L", { fields: { field: fields.signature } });
  const digest = sha512(new Uint8Array([...rBytes, ...publicKey, ...message]));
  const k = littleEndian(digest) % ED25519_L;
  const left = BASE.multiplyUnsafe(S);
  const right = R.add(A.multiplyUnsafe(k));
  if (!left.equals(right))
    throw new EphemeraError('ATTEST_SIGNATURE_INVALID', 'the signature does not verify over the report data', { fields: { field: fields.signature } });
}
