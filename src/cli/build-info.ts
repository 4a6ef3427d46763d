/**
 * ephemera build-info [--bundle TAR] [--commit REV] [--compose FILE] [--json] | --runtime | --check-runtime
 * (declared in cli.ts) What this commit's build measures to (docs/reproducible-builds.md §4): the bundle's
 * hash (given the bundle `npm run bundle` built), the image the dstack compose pins, the compose hash a quote
 * names, and the sandbox's runtime. `--json` prints the build-info document that `verify --trusted-build`
 * reads. `--runtime` prints this machine's runtime manifest (deploy/image/runtime.json is one);
 * `--check-runtime` fails unless this machine's tools are the declared ones (the image build runs it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { APP_COMPOSE, atRevision, buildInfoOf, installedManifest, readBundle, workingTree } from '../build/build-info.js';
import { BUNDLE_HASH_FILE, BUNDLE_INPUTS, RUNTIME_FILE, gitAt, type BundleManifest } from '../build/bundle.js';
import { installedVersion, localRuntimeManifest } from '../build/runtime-manifest.js';
import { EphemeraError } from '../errors.js';
import { parseRuntimeManifest, runtimeDifferences, type BuildInfo } from '../verify/index.js';
import { packageVersion, printJson } from './common.js';
import { assertReadable, readInput } from './files.js';

const ROOT = join(import.meta.dirname, '../..');

export interface BuildInfoOptions {
  compose?: string;
  bundle?: string;
  commit?: string;
  runtime?: boolean;
  checkRuntime?: boolean;
  json?: boolean;
}

export function buildInfo(options: BuildInfoOptions): void {
  const modes = [options.runtime && '--runtime', options.checkRuntime && '--check-runtime'].filter(Boolean);
  // --json is harmless there: both print JSON or plain text as they always do.
  const others = [options.bundle && '--bundle', options.commit && '--commit', options.compose && '--compose'].filter(Boolean);
  if (modes.length > 1 || (modes.length === 1 && others.length > 0))
    throw new EphemeraError('CLI_USAGE', `${modes[0]} takes no other option (${[...modes.slice(1), ...others].join(', ')} given)`);
  if (options.runtime) return printJson(localRuntimeManifest());
  if (options.checkRuntime) return checkRuntime();
  // Only whether it is there and readable: the bundle is hundreds of megabytes, hashed as it is read.
  if (options.bundle) assertReadable(resolve(options.bundle), 'bundle');
  // In a checkout, a commit's files as committed (HEAD's by default), never the working tree's under its name.
  const inCheckout = existsSync(join(ROOT, '.git'));
  const files = options.commit || inCheckout ? atRevision(ROOT, options.commit ?? 'HEAD') : workingTree(ROOT);
  // --compose names a file of this machine, with its docker compose file beside it; by default the commit's own.
  const compose = options.compose ? { files: workingTree(dirname(resolve(options.compose))), path: basename(options.compose) } : { files, path: APP_COMPOSE };
  if (options.compose) readInput(resolve(options.compose), 'app compose');
  const installed = inCheckout ? null : installedManifest(ROOT);
  const info = buildInfoOf(files, packageVersion(), compose, options.bundle ? readBundle(resolve(options.bundle)) : installedBundle(installed));
  if (!options.commit && inCheckout && uncommitted(ROOT))
    process.stderr.write(
      `note: uncommitted changes to the build's files are not in this: it describes ${info.commit ? `commit ${info.commit}` : 'HEAD'} as committed\n`,
    );
  if (options.json) printJson(info);
  else process.stdout.write(describe(info, installed !== null));
}

/** Whether the working tree changed what a build is made of: the bundle's inputs, or the dstack app it pins. */
function uncommitted(root: string): boolean {
  return gitAt(root, ['status', '--porcelain', '--', ...BUNDLE_INPUTS, 'deploy/dstack']) !== '';
}

/** Installed from a bundle (an image's /app): the tar's hash, which the image build wrote beside it, and its manifest. */
function installedBundle(manifest: BundleManifest | null): ReturnType<typeof readBundle> | undefined {
  const hash = existsSync(join(ROOT, BUNDLE_HASH_FILE)) ? readFileSync(join(ROOT, BUNDLE_HASH_FILE), 'utf8').trim() : '';
  return manifest && /^sha256:[0-9a-f]{64}$/.test(hash) ? { sha256: hash as `sha256:${string}`, manifest } : undefined;
}

function describe(info: BuildInfo, installed: boolean): string {
  const env = info.bundle?.build_env;
  const bundle = info.bundle
    ? `${info.bundle.sha256} (Node ${env!.node}, npm ${env!.npm}, ${env!.platform})`
    : installed
      ? `this is an installed bundle: its hash is that of the tar it came from (an image keeps it in ${BUNDLE_HASH_FILE})`
      : 'not given: npm run bundle, then build-info --bundle build/ephemera-bundle.tar';
  const placeholder = info.image && /@sha256:0{64}$/.test(info.image) ? ' (a placeholder that names no image: npm run dstack:pin)' : '';
  const tools = Object.entries(info.runtime.tools)
    .map(([name, tool]) => `${name} ${tool.version}`)
    .join(', ');
  return [
    `ephemera ${info.version}, ${info.commit ? `built from commit ${info.commit}` : 'of no known commit (not a git checkout, not installed from a bundle)'}`,
    `bundle        ${bundle}`,
    `image         ${info.image ?? 'none pinned'}${placeholder}`,
    `compose hash  ${info.compose_hash ?? 'none (no dstack app compose here)'}`,
    `runtime       ${info.runtime.base}: ${tools}`,
    '',
  ].join('\n');
}

/** Fails (BUILD_RUNTIME_MISMATCH) unless this machine's sandbox tools are the ones the build declares. */
function checkRuntime(): void {
  const declared = workingTree(ROOT).read(RUNTIME_FILE);
  if (declared === null) throw new EphemeraError('CLI_FILE_NOT_FOUND', `${RUNTIME_FILE}: missing`);
  const manifest = parseRuntimeManifest(JSON.parse(declared));
  const local = localRuntimeManifest();
  const differences = runtimeDifferences(manifest, local.tools);
  for (const [name, version] of Object.entries(manifest.packages)) {
    const installed = Object.hasOwn(local.packages, name) ? local.packages[name] : installedVersion(name);
    if (installed !== version) differences.push(`package ${name}: ${installed ?? 'not installed'} where the build has ${version}`);
  }
  if (differences.length > 0)
    throw new EphemeraError('BUILD_RUNTIME_MISMATCH', `this machine's sandbox tools are not the build's (${RUNTIME_FILE}):\n  ${differences.join('\n  ')}`);
  process.stdout.write(`the sandbox's tools are the build's: ${Object.keys(manifest.tools).join(', ')}\n`);
}
