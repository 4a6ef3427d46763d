/**
 * What a verification answers (docs/verification.md §9): the verdict and
 * its checks, and what a caller may plug in (attestation verifiers, limits,
 * trust, the hash). Types only, besides the order of the checks.
 */
import type { ErrorCode } from '../error-codes.js';
import type { RowsAbsentReason, RowsMember, Sha256, Submission } from '../events/index.js';
import type { BuildInfo } from './build-info.js';
import type { VerifyLimits } from './limits.js';
import type { KeyIdentity, TrustBasis, TrustOptions } from './trust.js';

export type CheckName = 'document' | 'events' | 'merkle' | 'report_data' | 'attestation' | 'fields' | 'transparency' | 'build';
/**
 * The checks every verdict lists, in order. `transparency` follows them only when the certificate carries the
 * member or the reader requires it (`requireLog`): a certificate without it verifies exactly as before. `build`
 * follows last, only when the reader gave build-info documents (`builds`).
 */
export const CHECK_ORDER: readonly Exclude<CheckName, 'transparency' | 'build'>[] = ['document', 'events', 'merkle', 'report_data', 'attestation', 'fields'];

export interface VerifyCheck {
  name: CheckName | `attestation.${string}` | `transparency.${string}`;
  status: 'pass' | 'fail' | 'skipped';
  code?: string;
  field?: string;
  detail?: string;
}

export interface Verdict {
  /** Every check passed: the events, root, report data and attestation hold together. */
  valid: boolean;
  /** Valid, and the signer is trusted (a pinned key, this machine's own key, or a hardware policy that holds). */
  trusted: boolean;
  status: 'trusted' | 'untrusted' | 'invalid';
  certificate_id: string | null;
  format_version: 1 | 2 | null;
  tee: string | null;
  hardware_backed: boolean;
  /** The simulated attestation's key, when there is one. */
  key: KeyIdentity | null;
  trust: { basis: TrustBasis | null; reason: string };
  checks: VerifyCheck[];
  failure: { code: string; field: string | null; message: string } | null;
  notice: string | null;
  /** Members nothing commits (version 1 only): shown, but anyone could have edited them. */
  uncommitted: string[];
  /** How the input arrived (docs/sealed.md §4), as the valid certificate says; null when it is not valid. */
  input: InputVerdict | null;
  /** The key the result is sealed to (docs/sealed.md §5); null for a result in the clear, or a certificate that is not valid. */
  sealed_result: { recipient: string; fingerprint: string } | null;
  /** The dataset's row commitment (docs/row-proofs.md §3), or why there is none; null when the certificate says neither or is not valid. */
  rows: RowsVerdict | null;
  /**
   * The certificate's log entry (docs/transparency.md §12) when it carries one and it holds (proof, log
   * signature); `trusted` there says whether the reader's log key and witness policy hold. Null otherwise.
   */
  transparency: TransparencyVerdict | null;
  /** The build the certificate was checked against (docs/reproducible-builds.md §5); null when the reader gave none, or none applies. */
  build: BuildVerdict | null;
}

/** What the verifier found of a certificate against the reader's build-info documents. */
export interface BuildVerdict {
  commit: string | null;
  version: string;
  /** The build-info names a reproducible bundle (its hash): anyone can rebuild it at `commit` and compare. */
  reproducible: boolean;
  bundle_sha256: string | null;
  /** The quote's compose hash is this build's: the hardware measured it. False for a certificate that is not TDX. */
  measured: boolean;
  compose_hash: string | null;
  /** The tools the sandbox recorded are the build's, no more and no fewer; else each difference. */
  runtime_matches: boolean;
  differences: string[];
}

export type RowsVerdict = ({ committed: true } & RowsMember) | { committed: false; reason: RowsAbsentReason };

export type InputVerdict = { mode: 'plain' } | ({ mode: 'sealed' } & Omit<Submission, 'mode'>);

/** What the verifier tells an attestation's own verifier besides the attestation and the report data. */
export interface AttestationContext {
  /** Time of verification when the reader set none: the committed sealing time (version 2). */
  defaultAtSeconds: number;
  version: 1 | 2;
}

/** Checks one attestation type; returns its sub-checks (all must pass). */
export type AttestationVerifier = (
  attestation: Record<string, unknown>,
  reportData: Uint8Array,
  context: AttestationContext,
) => Promise<AttestationCheck[]> | AttestationCheck[];
export interface AttestationCheck {
  name: string;
  status: 'pass' | 'fail';
  code?: ErrorCode;
  field?: string;
  detail?: string;
}

export interface VerifyOptions extends TrustOptions {
  /** Log vkeys the reader pinned (docs/transparency.md §9): trusted without their attestation. */
  logKeys?: readonly string[];
  /** Cosigner vkeys of the witnesses the reader counts. */
  witnesses?: readonly string[];
  /** How many of `witnesses` must have cosigned the certificate's checkpoint; default all of them. */
  witnessesRequired?: number;
  /** A certificate without a `transparency` member fails (TLOG_NOT_LOGGED). */
  requireLog?: boolean;
  /**
   * Builds the reader trusts (build-info documents): the certificate's build is the one whose compose hash its
   * quote names (any, for a certificate that is not TDX), and its sandbox's tools must be that build's. Their
   * compose hashes count as trusted only where the caller adds them to the TDX policy too (verify-options.ts).
   */
  builds?: readonly BuildInfo[];
  /** Verifiers by attestation type, besides the built-in `simulated` (e.g. `tdx`, from attest/). */
  attestationVerifiers?: Readonly<Record<string, AttestationVerifier>>;
  limits?: Partial<VerifyLimits>;
  /** SHA-256 for the many small hashes (node:crypto on Node); default @noble/hashes. */
  sha256?: Sha256;
}

export type VerifyErrorCode = Extract<ErrorCode, `VERIFY_${string}`>;

/** What the verdict says of a certificate's log entry (null: the certificate carries none). */
export interface TransparencyVerdict {
  leaf_index: number;
  tree_size: number;
  origin: string;
  /** The checkpoint's root, base64 as the checkpoint writes it. */
  root_hash: string;
  /** The checkpoint note, signatures included (what `--refresh` compares with the log's latest). */
  checkpoint: string;
  /** The log key's vkey (its name is the origin). */
  log_key: string;
  /** Whether the reader trusts the log key and its witness policy holds, and why (not). */
  trusted: boolean;
  trust: string;
  /** The witnesses the reader named whose cosignatures verified. */
  cosigned_by: string[];
  /** Names on the other signature lines (cosignatures of witnesses the reader did not name): unchecked. */
  unverified_signers: string[];
  /** The previous leaf of the same fingerprint (the history chain, §14). */
  prev: number | null;
}
