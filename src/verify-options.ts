/**
 * The verifier's options from the configuration: the TDX policy, pinned keys,
 * and keys this machine holds itself. Apart from services.ts so that
 * `ephemera verify` loads the verifier alone, not the log, sandbox and stores.
 */
import type { Config } from './config.js';
import type { TdxPolicy } from './attest/verify-tdx.js';
import { nodeSha256 } from './events/node-hash.js';
import type { AttestationVerifier, VerifyOptions } from './verify/index.js';

export function verifyOptionsFor(config: Config, overrides: Partial<TdxPolicy> = {}, localKeys: readonly string[] = []): VerifyOptions {
  const policy: TdxPolicy = { trustedComposeHashes: config.trustedComposeHashes, allowedTcbStatuses: config.allowedTcbStatuses, ...overrides };
  return { attestationVerifiers: { tdx: lazyTdxVerifier(policy) }, trustedKeys: config.trustedKeys, localKeys, sha256: nodeSha256 };
}

/**
 * The TDX verifier, loaded when a TDX attestation is met: its quote parser,
 * X.509 and P-256 code (dcap-qvl) are a third of `ephemera verify`'s start,
 * and a simulated certificate never needs them. Same checks, same verdicts.
 */
function lazyTdxVerifier(policy: TdxPolicy): AttestationVerifier {
  return async (attestation, reportData, context) => (await import('./attest/verify-tdx.js')).tdxVerifier(policy)(attestation, reportData, context);
}
