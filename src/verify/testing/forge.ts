/**
 * What a forger can do to a certificate, for the conformance suite and the
 * property tests: edit an event and recompute its hash, relink the chain,
 * re-seal (new root, report data and signature, with the real key, a
 * self-made key, or none at all through crafted Ed25519 signatures), and
 * re-derive the summary members so that only the targeted rule is broken.
 * Test support only; works on plain JSON objects, checks nothing.
 */
import { ed25519 } from '@noble/curves/ed25519';
import { sha512 } from '@noble/hashes/sha512';
import {
  EventChain,
  bytesToHex,
  computeEventHash,
  genesisHash,
  hashToBytes,
  hexToBytes,
  sealEnvelope,
  type EventEnvelope,
  type Hash,
} from '../../events/index.js';
import { CompactRange, ED25519_L, leafHash, reportData, reportDataV1 } from '../../attest/index.js';
import { CertificateFold, type Certificate } from '../certificate.js';

/** A certificate as JSON: anything may be edited. */
// biome-ignore lint/suspicious/noExplicitAny: forgeries edit any member of a certificate
export type Doc = Record<string, any>;

/** A fixed Ed25519 key (RFC 8032 test 1 secret) so vectors are reproducible. Never a production key. */
export const VECTOR_KEY_SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
/** A forger's own key (RFC 8032 test 2 secret): signs validly, but nobody pinned it. */
export const FORGER_KEY_SEED_HEX = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';
export const VECTOR_PUBLIC_KEY = bytesToHex(ed25519.getPublicKey(hexToBytes(VECTOR_KEY_SEED_HEX)));
export const FORGER_PUBLIC_KEY = bytesToHex(ed25519.getPublicKey(hexToBytes(FORGER_KEY_SEED_HEX)));

const Point = ed25519.Point;
const le = (bytes: Uint8Array) => bytes.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);
const toLe32 = (n: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
const mod = (n: bigint) => ((n % ED25519_L) + ED25519_L) % ED25519_L;
const challenge = (r: Uint8Array, a: Uint8Array, m: Uint8Array) => mod(le(sha512(new Uint8Array([...r, ...a, ...m]))));

/** A point of order 8 (small order; "Taming the many EdDSAs" case 0). */
const ORDER_8 = Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa');
/** The identity, and the identity written with y = p + 1 (not canonical: y ≥ p). */
export const IDENTITY_HEX = `01${'00'.repeat(31)}`;
export const IDENTITY_NONCANONICAL_HEX = `ee${'ff'.repeat(30)}7f`;

/**
 * Ways to produce the simulated attestation's key and signature over report data:
 * honest signatures by the vector key or a forger's own key, and the crafted
 * signatures lax verifiers accept without any key (docs/verification.md §8).
 */
export type Signer =
  | 'vector'
  | 'forger'
  | 'identity-key'
  | 'identity-key-noncanonical'
  | 'small-order-r'
  | 'noncanonical-r'
  | 'noncanonical-s'
  | 'mixed-order-key';

export function signReport(report: Uint8Array, signer: Signer = 'vector'): { public_key: string; signature: string } {
  const { scalar: a, prefix, pointBytes } = ed25519.utils.getExtendedPublicKey(hexToBytes(signer === 'forger' ? FORGER_KEY_SEED_HEX : VECTOR_KEY_SEED_HEX));
  const honest = () => ed25519.sign(report, hexToBytes(signer === 'forger' ? FORGER_KEY_SEED_HEX : VECTOR_KEY_SEED_HEX));
  const out = (key: Uint8Array, sig: Uint8Array) => ({ public_key: bytesToHex(key), signature: bytesToHex(sig) });
  switch (signer) {
    case 'vector':
    case 'forger':
      return out(pointBytes, honest());
    case 'identity-key':
      // A = R = identity, S = 0: [0]B = O + [k]O holds for every message. No key needed.
      return out(hexToBytes(IDENTITY_HEX), new Uint8Array([...hexToBytes(IDENTITY_HEX), ...new Uint8Array(32)]));
    case 'identity-key-noncanonical':
      return out(hexToBytes(IDENTITY_NONCANONICAL_HEX), new Uint8Array([...hexToBytes(IDENTITY_NONCANONICAL_HEX), ...new Uint8Array(32)]));
    case 'small-order-r': {
      // R of order 8, S = k·a: [8][S]B = [8]R + [8][k]A holds (cofactored verifiers accept), the exact equation does not.
      const r = ORDER_8.toBytes();
      return out(pointBytes, new Uint8Array([...r, ...toLe32(mod(challenge(r, pointBytes, report) * a))]));
    }
    case 'noncanonical-r': {
      // R = identity written with y ≥ p, S = k·a (k over the canonical encoding, as lax verifiers re-encode).
      const k = challenge(hexToBytes(IDENTITY_HEX), pointBytes, report);
      return out(pointBytes, new Uint8Array([...hexToBytes(IDENTITY_NONCANONICAL_HEX), ...toLe32(mod(k * a))]));
    }
    case 'noncanonical-s': {
      const sig = honest();
      return out(pointBytes, new Uint8Array([...sig.subarray(0, 32), ...toLe32(le(sig.subarray(32)) + ED25519_L)]));
    }
    case 'mixed-order-key': {
      // A' = A + T (T of order 8): honest S = r + k·a verifies exactly when [k]T = O, i.e. k ≡ 0 (mod 8); grind r for it.
      const mixed = Point.fromHex(bytesToHex(pointBytes)).add(ORDER_8).toBytes();
      for (let i = 0n; ; i++) {
        const r = mod(le(sha512(new Uint8Array([...prefix, ...report, ...toLe32(i)]))));
        const R = Point.BASE.multiply(r === 0n ? 1n : r).toBytes();
        const k = challenge(R, mixed, report);
        if (k % 8n === 0n) return out(mixed, new Uint8Array([...R, ...toLe32(mod((r === 0n ? 1n : r) + k * a))]));
      }
    }
  }
}

export const ev = (doc: Doc, i: number): Doc => doc.events.at(i);

export function rehash(event: Doc): void {
  event.hash = computeEventHash(event as EventEnvelope);
}

/** Renumbers and relinks every event, as a forger who edits the middle of a stream would. */
export function rechain(doc: Doc): void {
  let prev = genesisHash(doc.events[0].execution_id);
  doc.events.forEach((e: Doc, i: number) => {
    e.seq = i;
    e.prev = prev;
    rehash(e);
    prev = e.hash as Hash;
  });
}

/** The summary members again from the events as they now stand (no checks). */
export function rederive(doc: Doc): void {
  const fold = new CertificateFold();
  for (const e of doc.events) fold.apply(e as EventEnvelope);
  const derived = fold.result() as unknown as Doc;
  for (const key of Object.keys(derived)) if (key !== 'events') doc[key] = structuredClone(derived[key]);
}

/**
 * Relinks the chain, recomputes the root over every event before the seal and
 * the report data, signs it with `signer`, and re-derives the summary: the
 * certificate a forger holding that key would produce.
 */
export function reseal(doc: Doc, signer: Signer = 'vector'): void {
  rechain(doc);
  const sealed = ev(doc, -1);
  const leaves = doc.events.slice(0, -1) as Doc[];
  const range = new CompactRange();
  for (const e of leaves) range.appendLeaf(leafHash(hashToBytes(e.hash)));
  const root = range.root();
  const report = sealed.v === 1 ? reportDataV1(root, sealed.execution_id, leaves.length) : reportData(root, sealed.execution_id, leaves.length, sealed.at);
  sealed.data.tree_size = leaves.length;
  sealed.data.merkle_root = `sha256:${bytesToHex(root)}`;
  sealed.data.report_data = bytesToHex(report);
  if (sealed.data.attestation?.type === 'simulated') Object.assign(sealed.data.attestation, signReport(report, signer));
  rehash(sealed);
  rederive(doc);
}

/** Seals a finished stream with the vector key (or `signer`) and derives the certificate, as JSON (no shared objects). */
export function sealEvents(events: EventEnvelope[], signer: Signer = 'vector'): Certificate {
  const last = events[events.length - 1]!;
  const chain = EventChain.resume(last, () => new Date(Date.parse(last.at) + 5));
  const sealed = chain.next('certificate.sealed', {
    tree_size: 0,
    merkle_root: `sha256:${'00'.repeat(32)}`,
    report_data: '00'.repeat(64),
    attestation: { type: 'simulated', public_key: '', signature: '' },
  });
  const doc: Doc = { events: [...events, sealed].map((e) => structuredClone(e)) };
  reseal(doc, signer);
  const fold = new CertificateFold();
  for (const e of doc.events) fold.apply(e as EventEnvelope);
  return JSON.parse(JSON.stringify(fold.result())) as Certificate;
}

/** Builds a version-1 event by hand (this code writes version 2 only). */
export function v1Event(executionId: string, seq: number, prev: Hash, type: string, at: string, data: unknown): EventEnvelope {
  return sealEnvelope({ v: 1, execution_id: executionId, seq, type, at, prev, data } as never);
}
