/**
 * The Attestor seals a stream: it signs (or has the TEE quote) the 64-byte
 * report data. Implementations: `simulated` (Ed25519, not hardware-backed) and
 * `dstack` (Intel TDX through the dstack guest agent).
 */
export type SimulatedAttestation = {
  type: 'simulated';
  /** Ed25519 public key, lowercase hex of its 32 raw bytes. */
  public_key: string;
  /** Ed25519 signature over the 64 report-data bytes, lowercase hex. */
  signature: string;
  notice: string;
};

export interface Attestor {
  readonly kind: 'simulated' | 'dstack';
  /** Identity of the environment, recorded in sandbox.created (runtime.tee). */
  describe(): Promise<Record<string, unknown>>;
  attest(reportData: Uint8Array): Promise<Record<string, unknown> & { type: string }>;
}

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
  | 'ATTEST_COMPOSE_HASH_UNTRUSTED';
