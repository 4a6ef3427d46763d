/**
 * The verifier's options from the configuration: the TDX policy, pinned keys,
 * and keys this machine holds itself. Apart from services.ts so that
 * `ephemera verify` loads the verifier alone, not the log, sandbox and stores.
 */
import type { Config } from './config.js';
import { tdxVerifier, type TdxPolicy } from './attest/verify-tdx.js';
import { nodeSha256 } from './events/node-hash.js';
import type { VerifyOptions } from './verify/index.js';

export function verifyOptionsFor(config: Config, overrides: Partial<TdxPolicy> = {}, localKeys: readonly string[] = []): VerifyOptions {
  const policy: TdxPolicy = { trustedComposeHashes: config.trustedComposeHashes, allowedTcbStatuses: config.allowedTcbStatuses, ...overrides };
  return { attestationVerifiers: { tdx: tdxVerifier(policy) }, trustedKeys: config.trustedKeys, localKeys, sha256: nodeSha256 };
}
