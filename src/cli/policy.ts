/**
 * Whom the reader trusts, as `verify`, `open` and `submit` build it
 * (docs/verification.md §8): keys pinned with --trust-key, EPHEMERA_TRUSTED_KEYS
 * or the trust file; builds (compose hashes) and TCB statuses from the
 * configuration and --trust-compose-hash; and this machine's own simulated key.
 * SECURITY: the data directory's key counts as this machine's own only when
 * that directory was named (--data-dir, EPHEMERA_DATA_DIR), or the input came
 * from its own log: the default, ./.ephemera, could have been planted beside
 * a forged file, or by whoever runs the server you are about to trust.
 */
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { readSimulatedPublicKey } from '../attest/simulated.js';
import { verifyOptionsFor } from '../verify-options.js';
import type { VerifyOptions } from '../verify/index.js';
import { flagGiven } from './common.js';
import { EphemeraError } from '../errors.js';
import { parseLogPin, parsePin, readLogTrust, readPins } from './trust-store.js';

export interface TrustFlags {
  trustKey?: string[];
  trustComposeHash?: string[];
  /** The transparency log's trust (docs/transparency.md §12): pinned log vkeys, witnesses, k of them, and whether a certificate must be logged. */
  logKey?: string[];
  witness?: string[];
  witnessesRequired?: number;
  requireLog?: boolean;
}

export function readerVerifyOptions(
  command: Command,
  config: Config,
  flags: TrustFlags,
  context: { fromOwnLog?: boolean; atSeconds?: number } = {},
): VerifyOptions {
  const pinned = [...(flags.trustKey ?? []).map((k) => parsePin(k, '--trust-key')), ...readPins().map((p) => p.key)];
  const named = flagGiven(command, 'dataDir') || Boolean(process.env.EPHEMERA_DATA_DIR);
  const localKey = context.fromOwnLog || named ? readSimulatedPublicKey(config.dataDir) : null;
  const composeHashes = flags.trustComposeHash ?? [];
  const base = verifyOptionsFor(
    config,
    {
      ...(context.atSeconds === undefined ? {} : { atSeconds: context.atSeconds }),
      ...(composeHashes.length > 0 ? { trustedComposeHashes: [...config.trustedComposeHashes, ...composeHashes] } : {}),
    },
    localKey ? [localKey] : [],
  );
  const fileLog = readLogTrust();
  const logKeys = [...(flags.logKey ?? []).map((k) => parseLogPin('log-key', k, '--log-key')), ...fileLog.logKeys];
  const witnesses = [...new Set([...(flags.witness ?? []).map((k) => parseLogPin('witness', k, '--witness')), ...fileLog.witnesses])];
  if (flags.witnessesRequired !== undefined && flags.witnessesRequired > witnesses.length)
    throw new EphemeraError(
      'CLI_USAGE',
      `--witnesses-required ${flags.witnessesRequired}, but only ${witnesses.length} witnesses named (--witness, the trust file)`,
    );
  return {
    ...base,
    trustedKeys: [...(base.trustedKeys ?? []), ...pinned],
    logKeys,
    witnesses,
    ...(flags.witnessesRequired === undefined ? {} : { witnessesRequired: flags.witnessesRequired }),
    ...(flags.requireLog ? { requireLog: true } : {}),
  };
}
