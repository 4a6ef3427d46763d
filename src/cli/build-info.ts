/**
 * ephemera build-info [--compose deploy/dstack/app-compose.json] [--json]
 * (declared in cli.ts) Prints the dstack compose hash of this build (the app-compose with the
 * docker-compose file inlined), which verifiers pin with
 * EPHEMERA_TRUSTED_COMPOSE_HASHES / --trusted-compose-hashes.
 */
import { dirname, join, resolve } from 'node:path';
import { getComposeHash } from '@phala/dstack-sdk';
import { EphemeraError } from '../errors.js';
import { packageVersion, printJson } from './common.js';
import { readInput } from './files.js';

const DEFAULT_COMPOSE = join(import.meta.dirname, '../../deploy/dstack/app-compose.json');

export function buildInfo(options: { compose?: string; json?: boolean }): void {
  const path = resolve(options.compose ?? DEFAULT_COMPOSE);
  let appCompose: Record<string, unknown>;
  try {
    appCompose = JSON.parse(readInput(path, 'app compose').toString('utf8')) as Record<string, unknown>;
    const file = appCompose.docker_compose_file;
    if (typeof file === 'string' && file.startsWith('@'))
      appCompose.docker_compose_file = readInput(join(dirname(path), file.slice(1)), 'docker compose').toString('utf8');
  } catch (cause) {
    if (cause instanceof EphemeraError) throw cause;
    throw new EphemeraError('CLI_USAGE', `the app compose ${path} is not JSON`);
  }
  const composeHash = getComposeHash(appCompose as never);
  const version = packageVersion();
  if (options.json) printJson({ version, compose_hash: composeHash, app_compose: path });
  else process.stdout.write(`ephemera ${version}\ncompose hash ${composeHash}\n(from ${path})\n`);
}
