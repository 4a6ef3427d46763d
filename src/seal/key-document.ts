/**
 * The key document a server serves at KEY_DOCUMENT_PATH, and the checks a
 * client runs before it seals anything to its key (docs/sealed.md §2 steps
 * 1–6). Attestations are checked with the certificate verifier's own code:
 * the simulated Ed25519 check and trust rule, or the caller's TDX verifier.
 * Isomorphic.
 */
import { isErrorCode } from '../error-codes.js';
import { attestationSchemaV2, bytesToHex, hashBytes, hexToBytes, s, teeSchemaV2, utf8ToBytes, type Schema } from '../events/index.js';
import { verifySimulatedAttestation } from '../attest/index.js';
import { keyIdentity, trustOfKey } from '../verify/index.js';
import { keyReportData, keyStatementHash } from './key-statement.js';
import { readStrictJson, refuse } from './strict.js';
import { SUITE_SIZES, isSealSuite } from './suites.js';
import type { KeyDocument, KeyPolicy, KeyStatement, VerifiedKey } from './types.js';

export const MAX_KEY_DOCUMENT_BYTES = 8 * 1024 * 1024;
export const DEFAULT_MAX_KEY_AGE_MS = 24 * 3600 * 1000;
/** How far in the future a key's not_before may lie (clock skew between server and client). */
const FUTURE_SKEW_MS = 5 * 60 * 1000;
/** TDX checks that say "not under your policy", not "not a valid quote": the key is untrusted, not malformed. */
const POLICY_CODES = new Set(['ATTEST_COMPOSE_HASH_UNTRUSTED', 'ATTEST_TCB_OUT_OF_DATE']);

/** `suite` is any short name here: an unknown one is SEAL_SUITE_UNSUPPORTED at step 6, after the attestation. */
const keyStatementSchema = s.object({
  type: s.literal('ephemera.key-statement'),
  v: s.literal(1),
  suite: s.pattern(/^[a-z0-9-]{1,64}$/, 'a suite name'),
  public_key: s.hex(undefined, 4096),
  key_id: s.hash(),
  node: s.string(256),
  tee: teeSchemaV2,
  not_before: s.timestamp(),
  not_after: s.timestamp(),
}) as unknown as Schema<KeyStatement>;

const keyDocumentSchema: Schema<KeyDocument> = s.object({
  statement: keyStatementSchema,
  statement_hash: s.hash(),
  report_data: s.hex(128),
  attestation: attestationSchemaV2,
});

/** Step 1: strict JSON, at most 8 MiB, closed members all the way down. */
export function parseKeyDocument(input: string | Uint8Array): KeyDocument {
  const bytes = typeof input === 'string' ? utf8ToBytes(input) : input;
  if (bytes.length > MAX_KEY_DOCUMENT_BYTES) refuse('SEAL_KEY_DOCUMENT_MALFORMED', `the key document is larger than ${MAX_KEY_DOCUMENT_BYTES} bytes`);
  return readStrictJson(bytes, keyDocumentSchema, 'SEAL_KEY_DOCUMENT_MALFORMED', 'key document');
}

/** Steps 2–6; throws the first failure's code, and returns how the key is trusted. */
export async function checkKeyDocument(doc: KeyDocument, policy: KeyPolicy): Promise<VerifiedKey> {
  const { statement, attestation } = doc;
  // 2. Everything the document derives from its statement.
  const statementHash = keyStatementHash(statement);
  if (statementHash !== doc.statement_hash) refuse('SEAL_KEY_DOCUMENT_MALFORMED', 'statement_hash is not the hash of the statement', 'statement_hash');
  const reportData = keyReportData(statementHash);
  if (bytesToHex(reportData) !== doc.report_data) refuse('SEAL_KEY_DOCUMENT_MALFORMED', "report_data is not the statement's report data", 'report_data');
  if (hashBytes(hexToBytes(statement.public_key)) !== statement.key_id)
    refuse('SEAL_KEY_DOCUMENT_MALFORMED', 'statement.key_id is not the hash of statement.public_key', 'statement.key_id');
  if (Date.parse(statement.not_after) <= Date.parse(statement.not_before))
    refuse('SEAL_KEY_DOCUMENT_MALFORMED', 'statement.not_after is not after statement.not_before', 'statement.not_after');

  // 3 and 4. The attestation over those report data, and whether its signer or build is trusted.
  let trust: VerifiedKey['trust'];
  if (attestation.type === 'simulated') {
    verifySimulatedAttestation(attestation, reportData);
    if (statement.tee.type !== 'simulated' || statement.tee.public_key !== attestation.public_key)
      refuse('SEAL_KEY_DOCUMENT_MALFORMED', "statement.tee does not name the attestation's key", 'statement.tee');
    const verdict = trustOfKey(keyIdentity(attestation.public_key), policy);
    if (!verdict.trusted || verdict.basis === null) refuse('SEAL_KEY_UNTRUSTED', verdict.reason, 'attestation.public_key');
    trust = { basis: verdict.basis, reason: verdict.reason };
  } else {
    const verifier = new Map(Object.entries(policy.attestationVerifiers ?? {})).get(attestation.type);
    if (!verifier) refuse('ATTEST_UNKNOWN_TYPE', `no verifier for attestation type "${attestation.type}" here`, 'attestation.type');
    if (statement.tee.type !== 'dstack') refuse('SEAL_KEY_DOCUMENT_MALFORMED', 'statement.tee is not a dstack TEE but the attestation is tdx', 'statement.tee');
    const checks = await verifier(attestation, reportData, { defaultAtSeconds: Date.parse(statement.not_before) / 1000, version: 2 });
    const failed = checks.find((c) => c.status === 'fail');
    if (failed) {
      const detail = `attestation.${failed.name}: ${failed.detail ?? 'failed'}`;
      if (failed.code && POLICY_CODES.has(failed.code)) refuse('SEAL_KEY_UNTRUSTED', `${detail} (${failed.code})`, failed.field);
      refuse(failed.code && isErrorCode(failed.code) ? failed.code : 'ATTEST_FAILED', detail, failed.field);
    }
    if (checks.length === 0) refuse('SEAL_KEY_UNTRUSTED', 'the attestation verifier ran no checks', 'attestation');
    trust = { basis: 'hardware-policy', reason: 'a hardware attestation that verifies under your policy (trusted builds, TCB statuses)' };
  }

  // 5. Time.
  const now = (policy.now?.() ?? new Date()).getTime();
  const notBefore = Date.parse(statement.not_before);
  const maxAge = policy.maxKeyAgeMs ?? DEFAULT_MAX_KEY_AGE_MS;
  const clock = `this machine's clock says ${new Date(now).toISOString()}`;
  if (notBefore > now + FUTURE_SKEW_MS)
    refuse('SEAL_KEY_STALE', `the key is not valid before ${statement.not_before} (${clock}: is one of the clocks wrong?)`, 'statement.not_before');
  if (now >= Date.parse(statement.not_after)) refuse('SEAL_KEY_STALE', `the key expired at ${statement.not_after} (${clock})`, 'statement.not_after');
  if (now - notBefore > maxAge)
    refuse(
      'SEAL_KEY_STALE',
      `the key was made ${minutes(now - notBefore)} ago (${statement.not_before}), more than the maximum key age of ${minutes(maxAge)}`,
      'statement.not_before',
    );

  // 6. The suite, and a public key of its size.
  if (!isSealSuite(statement.suite)) refuse('SEAL_SUITE_UNSUPPORTED', `suite "${statement.suite}" is not one this client has`, 'statement.suite');
  if (statement.public_key.length !== 2 * SUITE_SIZES[statement.suite].publicKey)
    refuse('SEAL_KEY_DOCUMENT_MALFORMED', `statement.public_key is not a ${statement.suite} public key`, 'statement.public_key');
  return { document: doc, trust };
}

const minutes = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);
