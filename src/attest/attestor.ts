/**
 * The Attestor seals a stream: it signs (or has the TEE quote) the 64-byte
 * report data. Implementations: `simulated` (Ed25519, not hardware-backed) and
 * `dstack` (Intel TDX through the dstack guest agent). What `attest` returns
 * is the sealing event's `attestation`, exactly the members its verification
 * covers (docs/verification.md §7): nothing else may ride along.
 */
import type { Attestation, SandboxCreated } from '../events/index.js';

export type SimulatedAttestation = Extract<Attestation, { type: 'simulated' }>;
export type TdxAttestation = Extract<Attestation, { type: 'tdx' }>;
/** Identity of the environment, recorded in sandbox.created (runtime.tee). */
export type TeeDescription = SandboxCreated['runtime']['tee'];

export interface Attestor {
  readonly kind: 'simulated' | 'dstack';
  describe(): Promise<TeeDescription>;
  attest(reportData: Uint8Array): Promise<Attestation>;
  /**
   * The transparency log key's 32-byte Ed25519 seed (docs/transparency.md §9): SHA-256(TLOG_KEY_SEED_TAG ‖ secret),
   * the secret being the simulated key's PKCS#8 DER or the dstack KMS key for TLOG_KEY_PATH. Derived on each call,
   * never stored; the caller keeps it in memory only.
   */
  tlogKeySeed(): Promise<Uint8Array>;
}

export const TLOG_KEY_SEED_TAG = 'ephemera/v1/tlog-key\n';
/** dstack getKey(path, purpose): every instance of the same app derives the same key. */
export const TLOG_KEY_PATH = { path: 'ephemera/tlog/v1', purpose: 'tlog' } as const;

export const SIMULATED_NOTICE = 'SIMULATED TEE: signed by a software key, not hardware-backed. It proves integrity of the event stream, not confidentiality.';

export type AttestErrorCode =
  | 'ATTEST_UNAVAILABLE'
  | 'ATTEST_FAILED'
  | 'ATTEST_REPORT_DATA_MISMATCH'
  | 'ATTEST_SIGNATURE_INVALID'
  | 'ATTEST_UNKNOWN_TYPE'
  | 'ATTEST_MALFORMED'
  | 'ATTEST_QUOTE_MALFORMED'
  | 'ATTEST_QUOTE_SIGNATURE_INVALID'
  | 'ATTEST_COLLATERAL_EXPIRED'
  | 'ATTEST_COLLATERAL_MISSING'
  | 'ATTEST_TCB_OUT_OF_DATE'
  | 'ATTEST_REVOKED'
  | 'ATTEST_DCAP_FAILED'
  | 'ATTEST_DEBUG_TD'
  | 'ATTEST_RTMR3_MISMATCH'
  | 'ATTEST_COMPOSE_HASH_UNTRUSTED'
  | 'ATTEST_COLLATERAL_TIME_MISMATCH'
  | 'ATTEST_COLLATERAL_INVALID'
  | 'ATTEST_EVENT_LOG_INVALID';
