/**
 * The certificate verifier. Trusts nothing in the document but the events and
 * the attestation: it re-checks the hash chain and lifecycle, recomputes the
 * Merkle root and report data, checks the attestation, and re-derives every
 * other field from the events. The first failure is named by code and field.
 * Pure and isomorphic (no Node-only API): bundled for the browser too.
 */
import { EphemeraError, isEphemeraError } from '../errors.js';
import { hashToBytes, bytesToHex, isPlainObject, verifyStream, type EventEnvelope } from '../events/index.js';
import { CompactRange, leafHash, reportData, verifySimulatedAttestation, SIMULATED_NOTICE } from '../attest/index.js';
import { deriveCertificate, executionIdOf } from './certificate.js';
import { firstDifference } from './diff.js';

export type CheckName = 'document' | 'events' | 'merkle' | 'report_data' | 'attestation' | 'fields';
export const CHECK_ORDER: readonly CheckName[] = ['document', 'events', 'merkle', 'report_data', 'attestation', 'fields'];

export interface VerifyCheck {
  name: CheckName | string;
  status: 'pass' | 'fail' | 'skipped';
  code?: string;
  field?: string;
  detail?: string;
}

export interface Verdict {
  valid: boolean;
  certificate_id: string | null;
  tee: string | null;
  hardware_backed: boolean;
  checks: VerifyCheck[];
  failure: { code: string; field: string | null; message: string } | null;
  notice: string | null;
}

/** Checks one attestation type; returns its sub-checks (all must pass). */
export type AttestationVerifier = (attestation: Record<string, unknown>, reportData: Uint8Array) => Promise<VerifyCheck[]> | VerifyCheck[];

export interface VerifyOptions {
  /** Verifiers by attestation type, added to the built-in `simulated` one (e.g. `tdx`). */
  attestationVerifiers?: Record<string, AttestationVerifier>;
  /** When set, a simulated attestation must be signed by one of these Ed25519 keys (hex). */
  trustedSimulatedKeys?: readonly string[];
  /** Caps checked before any hashing (THREATS E40). */
  maxEvents?: number;
}

export const DEFAULT_MAX_EVENTS = 1_000_000;

export type VerifyErrorCode =
  | 'VERIFY_MALFORMED'
  | 'VERIFY_TOO_LARGE'
  | 'VERIFY_NOT_SEALED'
  | 'VERIFY_TREE_SIZE_MISMATCH'
  | 'VERIFY_MERKLE_ROOT_MISMATCH'
  | 'VERIFY_FIELD_MISMATCH'
  | 'VERIFY_UNTRUSTED_KEY';

export async function verifyCertificate(doc: unknown, options: VerifyOptions = {}): Promise<Verdict> {
  const checks: VerifyCheck[] = [];
  const verdict: Verdict = { valid: false, certificate_id: null, tee: null, hardware_backed: false, checks, failure: null, notice: null };
  let events: EventEnvelope[] = [];
  let sealed: EventEnvelope<'certificate.sealed'> | undefined;
  let expectedReport: Uint8Array = new Uint8Array(0);

  const steps: Record<CheckName, () => Promise<VerifyCheck[] | void>> = {
    document: async () => {
      if (!isPlainObject(doc)) fail('VERIFY_MALFORMED', '', 'the certificate must be a JSON object');
      const d = doc as Record<string, unknown>;
      if (typeof d.certificate_id !== 'string') fail('VERIFY_MALFORMED', 'certificate_id', 'missing certificate_id');
      verdict.certificate_id = d.certificate_id as string;
      if (!executionIdOf(d.certificate_id as string)) fail('VERIFY_MALFORMED', 'certificate_id', 'certificate_id must be cert_<ULID>');
      if (!Array.isArray(d.events)) fail('VERIFY_MALFORMED', 'events', 'events must be an array');
      const max = options.maxEvents ?? DEFAULT_MAX_EVENTS;
      if ((d.events as unknown[]).length > max) fail('VERIFY_TOO_LARGE', 'events', `more than ${max} events`);
    },
    events: async () => {
      const d = doc as Record<string, unknown>;
      events = verifyStream(d.events as unknown[], executionIdOf(d.certificate_id as string)!).events;
      const last = events[events.length - 1]!;
      if (last.type !== 'certificate.sealed') fail('VERIFY_NOT_SEALED', `events[${events.length - 1}].type`, 'the stream is not sealed');
      sealed = last as EventEnvelope<'certificate.sealed'>;
    },
    merkle: async () => {
      const leaves = events.length - 1;
      if (sealed!.data.tree_size !== leaves) fail('VERIFY_TREE_SIZE_MISMATCH', `events[${leaves}].data.tree_size`, `tree_size ${sealed!.data.tree_size} but ${leaves} events precede the seal`);
      const range = new CompactRange();
      for (let i = 0; i < leaves; i++) range.appendLeaf(leafHash(hashToBytes(events[i]!.hash)));
      const root = range.root();
      if (`sha256:${bytesToHex(root)}` !== sealed!.data.merkle_root) fail('VERIFY_MERKLE_ROOT_MISMATCH', `events[${leaves}].data.merkle_root`, 'the events do not reproduce the Merkle root');
      expectedReport = reportData(root, sealed!.execution_id, leaves);
    },
    report_data: async () => {
      if (bytesToHex(expectedReport) !== sealed!.data.report_data) fail('ATTEST_REPORT_DATA_MISMATCH', `events[${sealed!.seq}].data.report_data`, 'report_data is not the one these events imply');
    },
    attestation: async () => {
      const attestation = sealed!.data.attestation;
      const type = typeof attestation.type === 'string' ? attestation.type : '';
      verdict.tee = type;
      if (type === 'simulated') {
        verdict.notice = SIMULATED_NOTICE;
        verifySimulatedAttestation(attestation, expectedReport);
        const trusted = options.trustedSimulatedKeys;
        if (trusted && !trusted.includes(String(attestation.public_key))) fail('VERIFY_UNTRUSTED_KEY', 'proof.attestation.public_key', 'the simulated key is not one the verifier trusts');
        return;
      }
      // The collateral's fetch time is the default time of verification and lies outside the root: it must fall
      // in the span the committed events cover, or anyone could move it back to when stale collateral was valid.
      if (attestation.collateral_fetched_at !== undefined) {
        const fetched = Date.parse(String(attestation.collateral_fetched_at));
        const [first, last] = [events[0]!.at, events[events.length - 2]!.at];
        if (!(fetched >= Date.parse(first) - COLLATERAL_SKEW_MS && fetched <= Date.parse(last) + COLLATERAL_SKEW_MS)) {
          fail('ATTEST_COLLATERAL_TIME_MISMATCH', `events[${sealed!.seq}].data.attestation.collateral_fetched_at`, `collateral fetched at ${String(attestation.collateral_fetched_at)}, not during the run (${first} to ${last}, give or take 15 minutes)`);
        }
      }
      // Hardware attestations (tdx) are checked by a verifier the caller supplies (attest/ for Node, a browser build of its own).
      const verifier = options.attestationVerifiers?.[type];
      if (!verifier) fail('ATTEST_UNKNOWN_TYPE', 'proof.attestation.type', `no verifier for attestation type "${type}" in this environment`);
      const sub = await verifier!(attestation, expectedReport);
      verdict.hardware_backed = sub.length > 0 && sub.every((c) => c.status === 'pass');
      return sub;
    },
    fields: async () => {
      const difference = firstDifference(deriveCertificate(events), doc);
      if (difference !== null) fail('VERIFY_FIELD_MISMATCH', difference, `field ${difference} is not what the events say`);
    },
  };

  for (const name of CHECK_ORDER) {
    if (verdict.failure) {
      checks.push({ name, status: 'skipped' });
      continue;
    }
    try {
      const sub = (await steps[name]()) ?? [];
      const failed = sub.find((c) => c.status === 'fail');
      checks.push(...sub.map((c) => ({ ...c, name: `${name}.${c.name}` })));
      if (failed) {
        verdict.failure = { code: failed.code ?? 'ATTEST_FAILED', field: failed.field ?? null, message: failed.detail ?? `${name}.${failed.name} failed` };
        checks.push({ name, status: 'fail', code: verdict.failure.code, field: failed.field, detail: failed.detail });
      } else checks.push({ name, status: 'pass' });
    } catch (error) {
      const e = isEphemeraError(error) ? error : new EphemeraError('VERIFY_MALFORMED', 'the certificate could not be read');
      const field = typeof e.fields.field === 'string' ? e.fields.field : null;
      verdict.failure = { code: e.code, field, message: e.message };
      checks.push({ name, status: 'fail', code: e.code, ...(field ? { field } : {}), detail: e.message });
    }
  }
  verdict.valid = verdict.failure === null;
  return verdict;
}

/** How far the collateral's fetch may lie outside the run's events (it is fetched at sealing, after them). */
const COLLATERAL_SKEW_MS = 15 * 60 * 1000;

function fail(code: VerifyErrorCode | 'ATTEST_REPORT_DATA_MISMATCH' | 'ATTEST_UNKNOWN_TYPE' | 'ATTEST_COLLATERAL_TIME_MISMATCH', field: string, message: string): never {
  throw new EphemeraError(code, message, { fields: { field } });
}
