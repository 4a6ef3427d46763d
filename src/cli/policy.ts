/**
 * Whom the reader trusts, as `verify`, `open` and `submit` build it
 * (docs/verification.md §8): keys pinned with --trust-key, EPHEMERA_TRUSTED_KEYS
 * or the trust file; builds (compose hashes) and TCB statuses from the
 * configuration, --trust-compose-hash and --trusted-build (a build-info: its compose hash, and the sandbox
 * tools a certificate of that build must record); and this machine's own simulated key.
 * SECURITY: the data directory's key counts as this machine's own only when
 * that directory was named (--data-dir, EPHEMERA_DATA_DIR), or the input came
 * from its own log: the default, ./.ephemera, could have been planted beside
 * a forged file, or by whoever runs the server you are about to trust.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config.js';
import { readSimulatedPublicKey } from '../attest/simulated.js';
import { verifyOptionsFor } from '../verify-options.js';
import { MAX_BUILD_INFO_BYTES, parseBuildInfo, type BuildInfo, type VerifyOptions } from '../verify/index.js';
import { flagGiven, packageVersion } from './common.js';
import { readInput } from './files.js';

const PACKAGE_ROOT = join(import.meta.dirname, '../..');
import { EphemeraError, isEphemeraError } from '../errors.js';
import { parseLogPin, parsePin, readLogTrust, readPins } from './trust-store.js';

export interface TrustFlags {
  trustKey?: string[];
  trustComposeHash?: string[];
  /** Builds trusted through their build-info (docs/reproducible-builds.md §5): a file `build-info --json` wrote, or git:REV, a commit of this checkout (read with trustedBuilds). */
  trustedBuild?: string[];
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
  context: { fromOwnLog?: boolean; atSeconds?: number; builds?: readonly BuildInfo[] } = {},
): VerifyOptions {
  const pinned = [...(flags.trustKey ?? []).map((k) => parsePin(k, '--trust-key')), ...readPins().map((p) => p.key)];
  const named = flagGiven(command, 'dataDir') || Boolean(process.env.EPHEMERA_DATA_DIR);
  const localKey = context.fromOwnLog || named ? readSimulatedPublicKey(config.dataDir) : null;
  const builds = context.builds ?? [];
  const composeHashes = [...(flags.trustComposeHash ?? []), ...builds.flatMap((b) => (b.compose_hash ? [b.compose_hash] : []))];
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
    ...(builds.length > 0 ? { builds } : {}),
  };
}

/**
 * The --trusted-build values: `git:REV` is a commit of the checkout this ephemera runs from, anything else a
 * build-info file. Explicit, so a file planted under a revision's name (HEAD, v1.2.0) is never taken for it.
 */
export async function trustedBuilds(values: readonly string[]): Promise<BuildInfo[]> {
  const builds: BuildInfo[] = [];
  for (const value of values) {
    if (value.startsWith('git:')) {
      if (!existsSync(join(PACKAGE_ROOT, '.git')))
        throw new EphemeraError('CLI_USAGE', `--trusted-build ${value}: this ephemera does not run from a git checkout, so it has no commits to read`);
      // Loaded only for a commit: it reads the dstack SDK, which verifying a file otherwise never loads.
      const { atRevision, buildInfoOf } = await import('../build/build-info.js');
      builds.push(buildInfoOf(atRevision(PACKAGE_ROOT, value.slice(4)), packageVersion()));
      continue;
    }
    if (existsSync(value) && statSync(value).size > MAX_BUILD_INFO_BYTES)
      throw new EphemeraError('BUILD_INFO_MALFORMED', `${value}: larger than a build-info document (${MAX_BUILD_INFO_BYTES} bytes)`);
    const text = readInput(value, 'build-info').toString('utf8');
    try {
      builds.push(parseBuildInfo(text));
    } catch (error) {
      // Which of the --trusted-build files it is: the flag repeats.
      throw isEphemeraError(error) ? new EphemeraError(error.code, `${value}: ${error.message}`, { fields: error.fields }) : error;
    }
  }
  return builds;
}
