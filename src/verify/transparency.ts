/**
 * A certificate's `transparency` member (docs/transparency.md §12): its leaf
 * is the certificate's, the inclusion proof leads from that leaf to the
 * checkpoint's root, the checkpoint is signed by the log key the member names,
 * and whether the reader trusts that key and its witnesses. A forged proof or
 * signature makes the document invalid; a log key or witness policy the
 * reader does not hold makes it untrusted, as an unpinned attestation key does.
 * Bounded before any work: the member's size, the proof's length, the
 * checkpoint's size. Isomorphic.
 */
import type { ErrorCode } from '../error-codes.js';
import { EphemeraError, isEphemeraError } from '../errors.js';
import { hexToBytes, isPlainObject, s, sha256Bytes, type Schema } from '../events/index.js';
import { verifyInclusion } from '../attest/index.js';
import {
  CHECKPOINT_MAX_BYTES,
  LEAF_TYPE,
  MAX_PROOF_LINES,
  encodeLeaf,
  leafOfCertificate,
  openCheckpoint,
  parseNoteVerifierKey,
  type CertificateTransparency,
  type LogLeaf,
  type LoggableCertificate,
} from '../tlog/index.js';
import type { TransparencyVerdict } from './verdict.js';
import {
  assertSignedByLog,
  checkLogKeyDocumentShape,
  cosigners,
  MAX_LOG_KEY_DOCUMENT_BYTES,
  readerWitnesses,
  requiredCosigners,
  trustLogKey,
  type LogPolicy,
} from './log-checkpoint.js';

export type { TransparencyVerdict };

/** The member as text (UTF-16 units, at least its bytes' worth of ASCII): the log key document's bound, plus the checkpoint, 63 proof hashes and a leaf. */
export const MAX_TRANSPARENCY_BYTES = MAX_LOG_KEY_DOCUMENT_BYTES + CHECKPOINT_MAX_BYTES + 16 * 1024;

const leafSchema = s.object({
  type: s.literal(LEAF_TYPE),
  v: s.literal(1),
  certificate_id: s.string(64),
  status: s.oneOf(['completed', 'failed']),
  fingerprint: s.hash(),
  dataset_hash: s.hash(),
  sandbox_hash: s.hash(),
  result_hash: s.nullable(s.hash()),
  result_sealed: s.bool(),
  certificate_hash: s.hash(),
  sealed_at: s.string(64),
  prev: s.nullable(s.int()),
}) as unknown as Schema<LogLeaf>;

const memberSchema = s.object({
  leaf_index: s.int(),
  leaf: leafSchema,
  checkpoint: s.string(CHECKPOINT_MAX_BYTES),
  inclusion_proof: s.array(s.hex(64), MAX_PROOF_LINES),
  // Its own closed schema is log-checkpoint.ts's (checkLogKeyDocumentShape, below).
  log_key: { check: (v: unknown, path: string) => (isPlainObject(v) ? null : { kind: 'invalid', path, reason: 'expected an object' }) },
}) as unknown as Schema<CertificateTransparency>;

/** The member's closed shape and bounds (its log key document's too); TLOG_TRANSPARENCY_MALFORMED names the member. */
export function checkTransparencyShape(value: unknown): CertificateTransparency {
  const problem = memberSchema.check(value, 'transparency');
  if (problem) refuse('TLOG_TRANSPARENCY_MALFORMED', `${problem.path}: ${problem.reason}`, problem.path);
  const member = value as CertificateTransparency;
  // Bytes, not characters: the checkpoint's bound is the note's (§2).
  if (new TextEncoder().encode(member.checkpoint).length > CHECKPOINT_MAX_BYTES)
    refuse('TLOG_TRANSPARENCY_MALFORMED', `transparency.checkpoint: larger than ${CHECKPOINT_MAX_BYTES} bytes`, 'transparency.checkpoint');
  checkLogKeyDocumentShape(member.log_key, 'transparency.log_key');
  return member;
}

/**
 * Checks the member against its (already verified) certificate. Throws for an invalid member; returns the
 * verdict's transparency, `trusted: false` with the reason when the reader's log policy does not hold.
 */
export async function checkTransparency(certificate: LoggableCertificate, value: unknown, policy: LogPolicy): Promise<TransparencyVerdict> {
  const member = checkTransparencyShape(value);
  const { leaf, leaf_index: index } = member;
  checkLeaf(certificate, leaf);

  const doc = member.log_key;
  let logVerifier: ReturnType<typeof parseNoteVerifierKey>;
  try {
    logVerifier = parseNoteVerifierKey(doc.statement.vkey);
  } catch (cause) {
    throw new EphemeraError('TLOG_LOG_KEY_DOCUMENT_MALFORMED', 'statement.vkey is not an Ed25519 note key', {
      cause,
      fields: { field: 'transparency.log_key.statement.vkey' },
    });
  }
  // Signed by the key the member names, whether or not the reader trusts it: a forged signature is a forged document.
  // So is a failing cosignature of a witness the reader named.
  const witnesses = readerWitnesses(policy);
  const { checkpoint, note } = atField('transparency.checkpoint', () => openCheckpoint(member.checkpoint, [logVerifier, ...witnesses.verifiers]));
  atField('transparency.checkpoint', () => assertSignedByLog(note, logVerifier));
  if (checkpoint.origin !== doc.statement.origin || logVerifier.name !== checkpoint.origin)
    refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', "the checkpoint's origin is not the log key's", 'transparency.checkpoint');
  if (index >= checkpoint.size) refuse('TLOG_INCLUSION_INVALID', `leaf ${index} is not in a tree of ${checkpoint.size} leaves`, 'transparency.leaf_index');
  const leafHash = sha256Bytes(new Uint8Array([0]), encodeLeaf(leaf));
  try {
    verifyInclusion(leafHash, index, checkpoint.size, member.inclusion_proof.map(hexToBytes), checkpoint.rootHash);
  } catch (cause) {
    throw new EphemeraError(
      'TLOG_INCLUSION_INVALID',
      `the inclusion proof does not lead from leaf ${index} to the root of the checkpoint's ${checkpoint.size} leaves`,
      {
        cause,
        fields: { field: 'transparency.inclusion_proof' },
      },
    );
  }

  const verdict: TransparencyVerdict = {
    leaf_index: index,
    tree_size: checkpoint.size,
    origin: checkpoint.origin,
    root_hash: note.text.split('\n')[2]!,
    checkpoint: member.checkpoint,
    log_key: doc.statement.vkey,
    trusted: false,
    trust: '',
    cosigned_by: cosigners(witnesses, note),
    unverified_signers: [...new Set(note.unverified.map((sig) => sig.name))],
    prev: leaf.prev,
  };
  // The trust of checkLogCheckpoint (log-checkpoint.ts) without opening the note a second time.
  try {
    const { trust } = await trustLogKey(doc, policy);
    const required = atField('transparency.checkpoint', () => requiredCosigners(policy, witnesses));
    if (verdict.cosigned_by.length < required)
      refuse(
        'TLOG_COSIGNATURES_INSUFFICIENT',
        `cosigned by ${verdict.cosigned_by.length} of the ${witnesses.keys} witnesses you named; ${required} required`,
        'transparency.checkpoint',
      );
    Object.assign(verdict, { trusted: true, trust: trust.reason });
  } catch (error) {
    if (!isEphemeraError(error)) throw error;
    if (error.code !== 'TLOG_LOG_KEY_UNTRUSTED' && error.code !== 'TLOG_COSIGNATURES_INSUFFICIENT') throw inLogKey(error);
    verdict.trust = `${error.code}: ${error.message}`;
  }
  return verdict;
}

/** The leaf must be `leafOfCertificate(certificate, leaf.prev)`, member for member: the first that differs is named. */
function checkLeaf(certificate: LoggableCertificate, leaf: LogLeaf): void {
  let expected: LogLeaf;
  try {
    expected = leafOfCertificate(certificate, leaf.prev);
  } catch {
    refuse('TLOG_LEAF_MISMATCH', `a certificate of status ${certificate.status} is not logged`, 'transparency.leaf.status');
  }
  for (const name of Object.keys(expected) as (keyof LogLeaf)[]) {
    if (expected[name] !== leaf[name]) refuse('TLOG_LEAF_MISMATCH', `transparency.leaf.${name} is not the certificate's`, `transparency.leaf.${name}`);
  }
}

/** checkLogCheckpoint names fields of the log key document alone (`log_key.…`, the attestation's `proof.attestation.…`): here they are inside the member. */
function inLogKey(error: EphemeraError): EphemeraError {
  const field = error.fields.field;
  const inside =
    typeof field !== 'string'
      ? 'transparency.log_key'
      : field.startsWith('log_key')
        ? `transparency.${field}`
        : field.replace(/^(proof\.)?attestation/, 'transparency.log_key.attestation');
  return new EphemeraError(error.code, error.message, { cause: error, fields: { ...error.fields, field: inside } });
}

function atField<T>(field: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw isEphemeraError(error) ? withField(error, field) : error;
  }
}

function withField(error: EphemeraError, field: string): EphemeraError {
  if (typeof error.fields.field === 'string') return error;
  return new EphemeraError(error.code, error.message, { cause: error, fields: { ...error.fields, field } });
}

function refuse(code: ErrorCode, message: string, field: string): never {
  throw new EphemeraError(code, message, { fields: { field } });
}
