/**
 * ephemera build-info [--compose deploy/dstack/app-compose.json] [--json]
 * Prints the dstack compose hash of this build (the app-compose with the
 * docker-compose file inlined), which verifiers pin with
 * EPHEMERA_TRUSTED_COMPOSE_HASHES / --trusted-compose-hashes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { getComposeHash } from '@phala/dstack-sdk';
import { EphemeraError } from '../errors.js';
import { parse, printJson } from './common.js';

const DEFAULT_COMPOSE = join(import.meta.dirname, '../../deploy/dstack/app-compose.json');

export async function buildInfoCommand(argv: string[]): Promise<number> {
  const args = parse(argv, { compose: { type: 'string' } });
  const path = resolve((args.values.compose as string | undefined) ?? DEFAULT_COMPOSE);
  let appCompose: Record<string, unknown>;
  try {
    appCompose = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const file = appCompose.docker_compose_file;
    if (typeof file === 'string' && file.startsWith('@')) appCompose.docker_compose_file = readFileSync(join(dirname(path), file.slice(1)), 'utf8');
  } catch {
    throw new EphemeraError('CLI_USAGE', `cannot read the app compose ${path}`);
  }
  const composeHash = getComposeHash(appCompose as never);
  const version = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version as string;
  if (args.json) printJson({ version, compose_hash: composeHash, app_compose: path });
  else process.stdout.write(`ephemera ${version}\ncompose hash ${composeHash}\n(from ${path})\n`);
  return 0;
}
