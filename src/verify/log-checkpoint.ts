/**
 * Whether a reader trusts a log checkpoint (docs/transparency.md §9, §12):
 * the log key document's statement, report data and attestation (the same
 * checks and trust rule as a certificate's), or a pinned vkey; then the
 * note's log signature and the witness policy (k of n cosigners). Shared by
 * the certificate's `transparency` check and the history check. Isomorphic.
 */
import { isErrorCode, type ErrorCode } from '../error-codes.js';
import { EphemeraError } from '../errors.js';
import { attestationSchemaV2, bytesToHex, decodeUtf8Strict, parseStrictJson, s, teeSchemaV2, utf8ToBytes, type Schema } from '../events/index.js';
import { verifySimulatedAttestation } from '../attest/index.js';
import {
  cosignerVerifierKey,
  logKeyReportData,
  logKeyStatementHash,
  openCheckpoint,
  parseCosignerVerifierKey,
  parseNoteVerifierKey,
  type Checkpoint,
  type CosignerVerifier,
  type LogKeyDocument,
  type LogKeyStatement,
  type NoteVerifier,
  type OpenedNote,
} from '../tlog/index.js';
import { keyIdentity, trustOfKey } from './trust.js';
import type { VerifyOptions } from './verdict.js';

export const MAX_LOG_KEY_DOCUMENT_BYTES = 1024 * 1024;
/** Attestation checks that mean "not under your policy" rather than "not a valid quote". */
const POLICY_CODES = new Set(['ATTEST_COMPOSE_HASH_UNTRUSTED', 'ATTEST_TCB_OUT_OF_DATE']);

export interface LogPolicy extends VerifyOptions {
  /** Log vkeys (note keys, `origin+keyid+key`) the reader pinned: trusted without the attestation. */
  logKeys?: readonly string[];
  /** Cosigner vkeys of the witnesses the reader counts (type 0x04; a 0x01 note vkey is taken as its cosigner key). */
  witnesses?: readonly string[];
  /** How many of `witnesses` must have cosigned; default all of them. */
  witnessesRequired?: number;
}

export interface TrustedCheckpoint {
  checkpoint: Checkpoint;
  /** How the log key is trusted, in words for the reader. */
  logKeyTrust: { basis: 'pinned-log-key' | 'pinned-key' | 'local-key' | 'hardware-policy'; reason: string };
  /** The names (vkeys) of the witnesses whose cosignatures verified. */
  cosignedBy: string[];
}

const logKeyStatementSchema = s.object({
  type: s.literal('ephemera.log-key-statement'),
  v: s.literal(1),
  origin: s.string(1024),
  vkey: s.string(2048),
  tee: teeSchemaV2,
  issued_at: s.timestamp(),
}) as unknown as Schema<LogKeyStatement>;

export const logKeyDocumentSchema: Schema<LogKeyDocument> = s.object({
  statement: logKeyStatementSchema,
  statement_hash: s.hash(),
  report_data: s.hex(128),
  attestation: attestationSchemaV2,
}) as unknown as Schema<LogKeyDocument>;

/** Strict JSON of a log key document, at most 1 MiB (the well-known route's answer). */
export function parseLogKeyDocument(input: string | Uint8Array): LogKeyDocument {
  const bytes = typeof input === 'string' ? utf8ToBytes(input) : input;
  if (bytes.length > MAX_LOG_KEY_DOCUMENT_BYTES) refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', `larger than ${MAX_LOG_KEY_DOCUMENT_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseStrictJson(decodeUtf8Strict(bytes));
  } catch (cause) {
    throw new EphemeraError('TLOG_LOG_KEY_DOCUMENT_MALFORMED', 'the log key document is not strict JSON', { cause });
  }
  return checkLogKeyDocumentShape(value);
}

/** The closed schema of a log key document (also inside a certificate's transparency member). */
export function checkLogKeyDocumentShape(value: unknown, path = 'log_key'): LogKeyDocument {
  const problem = logKeyDocumentSchema.check(value, path);
  if (problem) refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', `${problem.path}: ${problem.reason}`, problem.path);
  return value as LogKeyDocument;
}

/**
 * The log key's verifier and how it is trusted: a pinned vkey, or the document's statement bound to an
 * attestation the reader trusts (pinned or local simulated key; a TDX quote under the policy).
 */
export async function trustLogKey(doc: LogKeyDocument, policy: LogPolicy): Promise<{ verifier: NoteVerifier; trust: TrustedCheckpoint['logKeyTrust'] }> {
  const { statement, attestation } = doc;
  let verifier: NoteVerifier;
  try {
    verifier = parseNoteVerifierKey(statement.vkey);
  } catch (cause) {
    throw new EphemeraError('TLOG_LOG_KEY_DOCUMENT_MALFORMED', 'statement.vkey is not an Ed25519 note key', {
      cause,
      fields: { field: 'log_key.statement.vkey' },
    });
  }
  if (verifier.name !== statement.origin) refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', "the key's name is not the statement's origin", 'log_key.statement.vkey');
  if ((policy.logKeys ?? []).includes(statement.vkey))
    return { verifier, trust: { basis: 'pinned-log-key', reason: `log key ${statement.vkey}, which you pinned` } };

  const statementHash = logKeyStatementHash(statement);
  if (statementHash !== doc.statement_hash)
    refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', 'statement_hash is not the hash of the statement', 'log_key.statement_hash');
  const reportData = logKeyReportData(statementHash);
  if (bytesToHex(reportData) !== doc.report_data)
    refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', "report_data is not the statement's report data", 'log_key.report_data');
  if (attestation.type === 'simulated') {
    verifySimulatedAttestation(attestation, reportData);
    if (statement.tee.type !== 'simulated' || statement.tee.public_key !== attestation.public_key)
      refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', "statement.tee does not name the attestation's key", 'log_key.statement.tee');
    const verdict = trustOfKey(keyIdentity(attestation.public_key), policy);
    if (!verdict.trusted || verdict.basis === null) refuse('TLOG_LOG_KEY_UNTRUSTED', `the log key's statement is ${verdict.reason}`, 'log_key.attestation');
    return { verifier, trust: { basis: verdict.basis, reason: `log key attested: ${verdict.reason}` } };
  }
  const attest = new Map(Object.entries(policy.attestationVerifiers ?? {})).get(attestation.type);
  if (!attest) refuse('TLOG_LOG_KEY_UNTRUSTED', `no verifier for attestation type "${attestation.type}" here`, 'log_key.attestation.type');
  if (statement.tee.type !== 'dstack')
    refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', 'statement.tee is not a dstack TEE but the attestation is tdx', 'log_key.statement.tee');
  const checks = await attest(attestation, reportData, { defaultAtSeconds: Date.parse(statement.issued_at) / 1000, version: 2 });
  const failed = checks.find((c) => c.status === 'fail');
  if (failed) {
    const detail = `log_key.attestation.${failed.name}: ${failed.detail ?? 'failed'}`;
    if (failed.code && POLICY_CODES.has(failed.code)) refuse('TLOG_LOG_KEY_UNTRUSTED', `${detail} (${failed.code})`, failed.field);
    refuse(failed.code && isErrorCode(failed.code) ? failed.code : 'ATTEST_FAILED', detail, failed.field);
  }
  if (checks.length === 0) refuse('TLOG_LOG_KEY_UNTRUSTED', 'the attestation verifier ran no checks', 'log_key.attestation');
  return { verifier, trust: { basis: 'hardware-policy', reason: 'log key attested by hardware that verifies under your policy' } };
}

/**
 * Opens a checkpoint note with the trusted log key and counts the cosignatures of the reader's
 * witnesses: the note must carry the log's signature (TLOG_NOTE_*), and at least `witnessesRequired`
 * of `witnesses` (TLOG_COSIGNATURES_INSUFFICIENT). Any key's failing line refuses the note.
 */
export async function checkLogCheckpoint(text: string, doc: LogKeyDocument, policy: LogPolicy): Promise<TrustedCheckpoint> {
  const { verifier, trust } = await trustLogKey(doc, policy);
  const witnesses = readerWitnesses(policy);
  const required = requiredCosigners(policy, witnesses);
  const { checkpoint, note } = openCheckpoint(text, [verifier, ...witnesses.verifiers]);
  if (checkpoint.origin !== doc.statement.origin) refuse('TLOG_LOG_KEY_DOCUMENT_MALFORMED', "the checkpoint's origin is not the log key's", 'checkpoint');
  assertSignedByLog(note, verifier);
  const cosignedBy = cosigners(witnesses, note);
  if (cosignedBy.length < required)
    refuse('TLOG_COSIGNATURES_INSUFFICIENT', `cosigned by ${cosignedBy.length} of the ${witnesses.keys} witnesses you named; ${required} required`);
  return { checkpoint, logKeyTrust: trust, cosignedBy };
}

/**
 * SECURITY: a checkpoint is the log's only when the log key signed it. A witness's cosignature alone (openNote
 * accepts a note any known key signed) would let one witness of k stand in for the log and vouch for a tree of its
 * own making: a note without the log's signature is invalid (TLOG_NOTE_UNVERIFIED), whatever else signed it.
 */
export function assertSignedByLog(note: OpenedNote, log: NoteVerifier): void {
  if (!note.verified.some((sig) => sig.name === log.name && sig.keyId === log.keyId))
    refuse('TLOG_NOTE_UNVERIFIED', `the checkpoint carries no signature of the log key ${log.name}`);
}

/**
 * The reader's witnesses: one verifier per name and key ID (a 0x01 and a 0x04 vkey of one key are one verifier), and
 * the number of distinct keys among them. SECURITY: a cosignature/v1 signature does not cover the key's name, so
 * the same key under two names (whose line anyone can copy under the other key ID) is one witness, counted once.
 */
export function readerWitnesses(policy: LogPolicy): { verifiers: CosignerVerifier[]; keys: number } {
  const byId = new Map<string, CosignerVerifier>();
  for (const vkey of policy.witnesses ?? []) {
    const verifier = witnessVerifier(vkey);
    byId.set(`${verifier.name}+${verifier.keyId}`, verifier);
  }
  const verifiers = [...byId.values()];
  return { verifiers, keys: new Set(verifiers.map((w) => bytesToHex(w.publicKey))).size };
}

/** How many of the distinct witnesses must have cosigned: `witnessesRequired`, default all of them. */
export function requiredCosigners(policy: LogPolicy, witnesses: { keys: number }): number {
  const required = policy.witnessesRequired ?? witnesses.keys;
  if (!Number.isSafeInteger(required) || required < 0 || required > witnesses.keys)
    refuse('TLOG_COSIGNATURES_INSUFFICIENT', `${required} cosignatures required of ${witnesses.keys} distinct witnesses given`);
  return required;
}

/** The witnesses whose line in the note verified, one name per key (the first the reader gave). */
export function cosigners(witnesses: { verifiers: readonly CosignerVerifier[] }, note: OpenedNote): string[] {
  const byKey = new Map<string, string>();
  for (const w of witnesses.verifiers) {
    const key = bytesToHex(w.publicKey);
    if (!byKey.has(key) && note.verified.some((sig) => sig.name === w.name && sig.keyId === w.keyId)) byKey.set(key, w.name);
  }
  return [...byKey.values()];
}

/** A witness's cosigner key; a note (0x01) vkey stands for the same key's cosigner (0x04) key. */
export function witnessVerifier(vkey: string): CosignerVerifier {
  try {
    return parseCosignerVerifierKey(vkey);
  } catch (error) {
    if (error instanceof EphemeraError && error.code === 'TLOG_NOTE_KEY_UNSUPPORTED') return parseCosignerVerifierKey(cosignerVerifierKey(vkey));
    throw error;
  }
}

function refuse(code: ErrorCode, message: string, field?: string): never {
  throw new EphemeraError(code, message, field === undefined ? {} : { fields: { field } });
}
