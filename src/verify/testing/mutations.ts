/**
 * The certificate mutation suite (THREATS D34, E35, E37, E38): each mutation
 * is one attack on a valid certificate and the code the verifier must answer
 * with. Shared by the unit tests, the language-neutral vectors and the
 * browser test. "rehashed" mutations recompute hashes as a forger would.
 */
import { computeEventHash, genesisHash, type EventEnvelope } from '../../events/index.js';
import type { Certificate } from '../certificate.js';

type Doc = Certificate & Record<string, unknown>;
type Mutable = { -readonly [K in keyof EventEnvelope]: unknown } & { data: Record<string, unknown> };

export interface Mutation {
  name: string;
  code: string;
  mutate(doc: Doc, other: Doc): void;
}

const ev = (doc: Doc, i: number) => doc.events.at(i) as unknown as Mutable;
const rehash = (e: Mutable) => {
  e.hash = computeEventHash(e as unknown as EventEnvelope);
};
/** Renumbers and relinks every event, as a forger who edits the middle of a stream would. */
const rechain = (doc: Doc) => {
  let prev = genesisHash(doc.execution_id);
  doc.events.forEach((e, i) => {
    const m = e as unknown as Mutable;
    m.seq = i;
    m.prev = prev;
    rehash(m);
    prev = m.hash as typeof prev;
  });
};
const sealed = (doc: Doc) => ev(doc, -1).data;

export const MUTATIONS: readonly Mutation[] = [
  { name: 'event-data-edited', code: 'EVENTS_HASH_MISMATCH', mutate: (d) => void (ev(d, 1).data.bytes = 1) },
  { name: 'event-data-edited-rehashed', code: 'EVENTS_CHAIN_BROKEN', mutate: (d) => { ev(d, 1).data.bytes = 1; rehash(ev(d, 1)); } },
  { name: 'event-type-edited', code: 'EVENTS_INVALID_ENVELOPE', mutate: (d) => void (ev(d, 5).type = 'network.requested') },
  { name: 'event-dropped', code: 'EVENTS_SEQ_GAP', mutate: (d) => void d.events.splice(5, 1) },
  { name: 'event-dropped-rechained', code: 'VERIFY_TREE_SIZE_MISMATCH', mutate: (d) => { d.events.splice(5, 1); rechain(d); } },
  { name: 'event-duplicated', code: 'EVENTS_SEQ_GAP', mutate: (d) => void d.events.splice(4, 0, d.events[4]!) },
  { name: 'event-duplicated-rechained', code: 'EVENTS_LIFECYCLE_VIOLATION', mutate: (d) => { d.events.splice(4, 0, structuredClone(d.events[4]!)); rechain(d); } },
  { name: 'events-reordered', code: 'EVENTS_SEQ_GAP', mutate: (d) => void ([d.events[3], d.events[4]] = [d.events[4]!, d.events[3]!]) },
  { name: 'events-reordered-rechained', code: 'EVENTS_LIFECYCLE_VIOLATION', mutate: (d) => { [d.events[6], d.events[7]] = [d.events[7]!, d.events[6]!]; rechain(d); } },
  { name: 'event-spliced-from-other-execution', code: 'EVENTS_WRONG_EXECUTION', mutate: (d, o) => void (d.events[2] = o.events[2]!) },
  { name: 'event-unknown-field', code: 'EVENTS_INVALID_ENVELOPE', mutate: (d) => { ev(d, 2).data.note = 'x'; rehash(ev(d, 2)); } },
  { name: 'event-data-edited-all-rehashed', code: 'VERIFY_MERKLE_ROOT_MISMATCH', mutate: (d) => { ev(d, 6).data.exit_code = 0; (ev(d, 6).data.result as Record<string, unknown>).output = 'forged'; rechain(d); } },
  { name: 'not-sealed', code: 'VERIFY_NOT_SEALED', mutate: (d) => void d.events.pop() },
  { name: 'certificate-id-of-other-execution', code: 'EVENTS_WRONG_EXECUTION', mutate: (d, o) => void (d.certificate_id = o.certificate_id) },
  { name: 'sealed-tree-size-changed', code: 'VERIFY_TREE_SIZE_MISMATCH', mutate: (d) => { sealed(d).tree_size = 8; rehash(ev(d, -1)); } },
  { name: 'sealed-merkle-root-bit-flipped', code: 'VERIFY_MERKLE_ROOT_MISMATCH', mutate: (d) => { sealed(d).merkle_root = flipHex(sealed(d).merkle_root as string, 10); rehash(ev(d, -1)); } },
  { name: 'sealed-report-data-bit-flipped', code: 'ATTEST_REPORT_DATA_MISMATCH', mutate: (d) => { sealed(d).report_data = flipHex(sealed(d).report_data as string, 100); rehash(ev(d, -1)); } },
  { name: 'signature-bit-flipped', code: 'ATTEST_SIGNATURE_INVALID', mutate: (d) => { const a = sealed(d).attestation as Record<string, string>; a.signature = flipHex(a.signature!, 3); rehash(ev(d, -1)); } },
  { name: 'attestation-swapped', code: 'ATTEST_SIGNATURE_INVALID', mutate: (d, o) => { sealed(d).attestation = structuredClone(o.events.at(-1)!.data as Record<string, unknown>).attestation; rehash(ev(d, -1)); } },
  { name: 'attestation-and-report-data-swapped', code: 'ATTEST_REPORT_DATA_MISMATCH', mutate: (d, o) => { const od = o.events.at(-1)!.data as Record<string, unknown>; sealed(d).attestation = structuredClone(od.attestation); sealed(d).report_data = od.report_data; rehash(ev(d, -1)); } },
  { name: 'result-output-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.result.output = '{"ssn": 0}\n') },
  { name: 'result-exit-code-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.result.exit_code = 1) },
  { name: 'status-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.status = 'failed') },
  { name: 'dataset-hash-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.dataset_hash = d.sandbox_hash) },
  { name: 'fingerprint-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.fingerprint = d.dataset_hash) },
  { name: 'trace-tool-count-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.execution_trace.tool_uses[0]!.count = 2) },
  { name: 'trace-file-activity-hidden', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.execution_trace.file_activity = []) },
  { name: 'trace-llm-calls-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.execution_trace.llm_calls.count = 1) },
  { name: 'lifecycle-timestamp-changed', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.lifecycle.dataset_deleted = '2026-02-01T13:16:00.000Z') },
  { name: 'proof-attestation-edited-in-document', code: 'VERIFY_FIELD_MISMATCH', mutate: (d, o) => void (d.proof = o.proof) },
  { name: 'merkle-block-edited', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.merkle = { ...d.merkle!, tree_size: 3 }) },
  { name: 'extra-field-added', code: 'VERIFY_FIELD_MISMATCH', mutate: (d) => void (d.verified_by = 'ephemera') },
];

function flipHex(hex: string, bit: number): string {
  const bytes = hex.startsWith('sha256:') ? hex.slice(7) : hex;
  const index = Math.floor(bit / 8);
  const byte = parseInt(bytes.slice(index * 2, index * 2 + 2), 16) ^ (1 << (bit % 8));
  const flipped = bytes.slice(0, index * 2) + byte.toString(16).padStart(2, '0') + bytes.slice(index * 2 + 2);
  return hex.startsWith('sha256:') ? `sha256:${flipped}` : flipped;
}
