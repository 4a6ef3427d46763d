/**
 * The log's leaf: what the transparency log records of one sealed certificate
 * (docs/transparency.md §8). The entry is the UTF-8 of the leaf's JCS, so a
 * verifier re-encodes the leaf it is shown and hashes the same bytes. `prev`
 * is the history chain: the index of the previous leaf with the same
 * fingerprint, set by the sequencer in log order. Isomorphic.
 */
import { canonicalize, isHash, parseStrictJson, utf8ToBytes, type EventEnvelope, type Hash } from '../events/index.js';
import { EphemeraError } from '../errors.js';
import type { Registered } from '../error-codes.js';

export const LEAF_TYPE = 'ephemera.log-leaf';
/** A leaf's entry is well under this (about 600 bytes); more is refused before parsing. */
export const LEAF_MAX_BYTES = 4096;

export interface LogLeaf {
  type: typeof LEAF_TYPE;
  v: 1;
  certificate_id: string;
  status: 'completed' | 'failed';
  fingerprint: Hash;
  dataset_hash: Hash;
  sandbox_hash: Hash;
  /** The certificate's result_hash (null when it has none); a salted commitment when the result is sealed. */
  result_hash: Hash | null;
  result_sealed: boolean;
  /** The hash of the certificate.sealed event: the head of the hash chain, which covers every event and the attestation. */
  certificate_hash: Hash;
  /** That event's `at`. */
  sealed_at: string;
  /** Index of the previous leaf with the same fingerprint, or null for the first. */
  prev: number | null;
}

export type LeafErrorCode = Registered<'TLOG_LEAF_MALFORMED' | 'TLOG_LEAF_UNSEALED'>;

const MEMBERS = [
  'certificate_hash',
  'certificate_id',
  'dataset_hash',
  'fingerprint',
  'prev',
  'result_hash',
  'result_sealed',
  'sandbox_hash',
  'sealed_at',
  'status',
  'type',
  'v',
] as const;
const CERTIFICATE_ID = /^cert_[0-9A-HJKMNP-TV-Z]{26}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** What a leaf is made of: the members of a certificate (src/verify's Certificate) it reads. */
export interface LoggableCertificate {
  certificate_id: string;
  status: string;
  fingerprint: string;
  dataset_hash: string;
  sandbox_hash: string;
  result: { result_hash: string | null; sealed?: unknown };
  events: readonly Pick<EventEnvelope, 'type' | 'hash' | 'at'>[];
}

/** The leaf of a sealed certificate (completed or failed), `prev` given by the sequencer. */
export function leafOfCertificate(certificate: LoggableCertificate, prev: number | null): LogLeaf {
  const sealed = certificate.events.at(-1);
  if ((certificate.status !== 'completed' && certificate.status !== 'failed') || sealed?.type !== 'certificate.sealed') {
    throw new EphemeraError<LeafErrorCode>('TLOG_LEAF_UNSEALED', 'only a sealed certificate is logged', {
      fields: { certificate_id: certificate.certificate_id, status: certificate.status },
    });
  }
  return {
    type: LEAF_TYPE,
    v: 1,
    certificate_id: certificate.certificate_id,
    status: certificate.status,
    fingerprint: certificate.fingerprint as Hash,
    dataset_hash: certificate.dataset_hash as Hash,
    sandbox_hash: certificate.sandbox_hash as Hash,
    result_hash: (certificate.result.result_hash as Hash | null) ?? null,
    result_sealed: certificate.result.sealed !== undefined,
    certificate_hash: sealed.hash as Hash,
    sealed_at: sealed.at,
    prev,
  };
}

/** The entry bytes: UTF-8 of the leaf's JCS. */
export function encodeLeaf(leaf: LogLeaf): Uint8Array {
  return utf8ToBytes(canonicalize(leaf));
}

/** Reads an entry strictly: at most LEAF_MAX_BYTES, exactly the members of a leaf, and its JCS byte for byte. */
export function parseLeaf(entry: Uint8Array): LogLeaf {
  if (entry.length > LEAF_MAX_BYTES) malformed(`the entry is larger than ${LEAF_MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(entry));
  } catch (cause) {
    malformed('the entry is not strict JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) malformed('the entry is not an object');
  const leaf = value as Record<string, unknown>;
  const names = Object.keys(leaf).sort();
  if (names.length !== MEMBERS.length || names.some((name, i) => name !== MEMBERS[i])) malformed('the entry does not have exactly the members of a leaf');
  if (leaf.type !== LEAF_TYPE || leaf.v !== 1) malformed('not a v1 leaf');
  if (typeof leaf.certificate_id !== 'string' || !CERTIFICATE_ID.test(leaf.certificate_id)) malformed('certificate_id is not a certificate id');
  if (leaf.status !== 'completed' && leaf.status !== 'failed') malformed('status is not completed or failed');
  for (const name of ['fingerprint', 'dataset_hash', 'sandbox_hash', 'certificate_hash'] as const) if (!isHash(leaf[name])) malformed(`${name} is not a hash`);
  if (leaf.result_hash !== null && !isHash(leaf.result_hash)) malformed('result_hash is not a hash or null');
  if (typeof leaf.result_sealed !== 'boolean') malformed('result_sealed is not a boolean');
  if (typeof leaf.sealed_at !== 'string' || !RFC3339.test(leaf.sealed_at)) malformed('sealed_at is not an RFC 3339 time');
  if (leaf.prev !== null && !(Number.isSafeInteger(leaf.prev) && (leaf.prev as number) >= 0)) malformed('prev is not a leaf index or null');
  const typed = leaf as unknown as LogLeaf;
  const again = encodeLeaf(typed);
  if (again.length !== entry.length || again.some((b, i) => b !== entry[i])) malformed('the entry is not the JCS of its leaf');
  return typed;
}

function malformed(message: string, cause?: unknown): never {
  throw new EphemeraError<LeafErrorCode>('TLOG_LEAF_MALFORMED', message, cause === undefined ? {} : { cause });
}
