/**
 * What one commit's build measures to (docs/reproducible-builds.md §4): the build-info document that
 * `ephemera build-info --json` prints and `ephemera verify --trusted-build` reads. Its parts come from the
 * commit's files (the dstack app compose and the image it pins, the runtime manifest) and, when given, from a
 * bundle built at that commit (its hash and manifest).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getComposeHash } from '@phala/dstack-sdk';
import { EphemeraError } from '../errors.js';
import { parseStrictJson, s } from '../events/index.js';
import { BUILD_INFO_FORMAT, buildEnvSchema, parseBuildInfo, parseRuntimeManifest, type BuildInfo } from '../verify/index.js';
import { BUNDLE_FORMAT, FILES_FILE, MANIFEST_FILE, gitAt, inputCommit, memberLine, RUNTIME_FILE, type BundleManifest } from './bundle.js';
import { scanTar } from './tar.js';

export const APP_COMPOSE = 'deploy/dstack/app-compose.json';
/** BUILD-FILES.txt is about 1.7 MB for 13,500 entries. */
const MAX_FILES_LIST_BYTES = 64 << 20;

/** Reads the repository's files either from the working tree or, for a revision, from git. */
export interface SourceFiles {
  read(path: string): string | null;
  commit(): string | null;
  /** Where the files are, for messages: "the working tree", "commit 1a2b3c". */
  where: string;
}

/** A directory's files as they are: an installed bundle's (an image's /app), or a --compose file's directory. */
export function workingTree(root: string): SourceFiles {
  return {
    read: (path) => (existsSync(join(root, path)) ? readFileSync(join(root, path), 'utf8') : null),
    commit: () => installedManifest(root)?.commit ?? null,
    where: root,
  };
}

/** A commit's files, read from git: the revision is resolved to its commit once, and every file read from that. */
export function atRevision(root: string, revision: string): SourceFiles {
  if (!/^[\w./~^-]{1,100}$/.test(revision) || revision.startsWith('-')) throw new EphemeraError('CLI_USAGE', `not a git revision: ${revision}`);
  if (!existsSync(join(root, '.git'))) throw new EphemeraError('CLI_USAGE', `${root} is not a git checkout: it has no commits to read ${revision} from`);
  let commit: string;
  try {
    commit = gitAt(root, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`]);
  } catch {
    throw new EphemeraError('CLI_USAGE', `${revision}: no such commit in ${root}`);
  }
  return {
    where: `commit ${commit.slice(0, 12)}`,
    read: (path) => {
      try {
        return gitAt(root, ['show', `${commit}:${path}`], true);
      } catch {
        return null;
      }
    },
    commit: () => {
      try {
        return inputCommit(root, commit).commit;
      } catch (cause) {
        throw new EphemeraError('CLI_USAGE', `${revision}: no history to read its bundle's commit from (${(cause as Error).message.split('\n')[0]})`);
      }
    },
  };
}

/** The manifest of the bundle this program was installed from (an image's /app), if it was. */
export function installedManifest(root: string): BundleManifest | null {
  const path = join(root, MANIFEST_FILE);
  return existsSync(path) ? checkedManifest(readFileSync(path, 'utf8'), root) : null;
}

/** The image a docker compose file names for its first service (the dstack compose names one, pinned by digest). */
function pinnedImage(composeText: string | null): string | null {
  return composeText === null ? null : (/^\s+image:\s*["']?([^\s"'#]+)/m.exec(composeText)?.[1] ?? null);
}

/** The dstack compose hash of an app compose whose docker compose file is `@name` beside it (inlined, as dstack measures it); null when there is none. */
function composeHashOf(files: SourceFiles, appComposePath: string): { hash: string; image: string | null } | null {
  const text = files.read(appComposePath);
  if (text === null) return null;
  let appCompose: Record<string, unknown>;
  try {
    appCompose = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new EphemeraError('CLI_USAGE', `the app compose ${appComposePath} is not JSON`);
  }
  let image: string | null = null;
  const file = appCompose.docker_compose_file;
  if (typeof file === 'string' && file.startsWith('@')) {
    const composePath = join(appComposePath, '..', file.slice(1));
    const compose = files.read(composePath);
    if (compose === null) throw new EphemeraError('CLI_FILE_NOT_FOUND', `${composePath}: the docker compose file the app compose names is missing`);
    appCompose.docker_compose_file = compose;
    image = pinnedImage(compose);
  }
  return { hash: getComposeHash(appCompose as never), image };
}

/**
 * A bundle's hash and manifest, read from the tar `npm run bundle` wrote: refused (BUNDLE_INVALID) unless it is
 * whole (every header, the end, nothing after it), and its entries and file list are the ones its manifest counts
 * and hashes, so a cut or padded tar is never published under a hash.
 */
export function readBundle(path: string): { sha256: `sha256:${string}`; manifest: BundleManifest } {
  let scan: ReturnType<typeof scanTar>;
  try {
    scan = scanTar(path, [MANIFEST_FILE, FILES_FILE], MAX_FILES_LIST_BYTES);
  } catch (cause) {
    throw new EphemeraError('BUNDLE_INVALID', `${path}: not a whole bundle (${(cause as Error).message})`);
  }
  const [filesMember, manifestMember, ...entries] = scan.members;
  const files = scan.bodies.get(FILES_FILE);
  const text = scan.bodies.get(MANIFEST_FILE);
  if (filesMember?.path !== FILES_FILE || manifestMember?.path !== MANIFEST_FILE || !files || !text)
    throw new EphemeraError('BUNDLE_INVALID', `${path}: not a bundle (${FILES_FILE} and ${MANIFEST_FILE} do not open it)`);
  const manifest = checkedManifest(text.toString('utf8'), path);
  // Every entry is the one its file list names, in order, and the list is the one the manifest hashes and counts.
  const listed = entries.length === 0 ? '' : `${entries.map(memberLine).join('\n')}\n`;
  if (
    entries.length !== manifest.files.count ||
    listed !== files.toString('utf8') ||
    `sha256:${createHash('sha256').update(files).digest('hex')}` !== manifest.files.sha256
  )
    throw new EphemeraError('BUNDLE_INVALID', `${path}: its entries are not the ${manifest.files.count} its manifest lists`);
  return { sha256: scan.sha256, manifest };
}

/** A bundle manifest's text, checked (BUNDLE_INVALID otherwise). */
function checkedManifest(text: string, where: string): BundleManifest {
  let value: unknown;
  try {
    value = parseStrictJson(text);
  } catch {
    throw new EphemeraError('BUNDLE_INVALID', `${where}: its ${MANIFEST_FILE} is not JSON`);
  }
  const problem = bundleManifestSchema.check(value, MANIFEST_FILE);
  if (problem) throw new EphemeraError('BUNDLE_INVALID', `${where}: not a bundle's manifest: ${problem.path}: ${problem.reason}`);
  return value as BundleManifest;
}

/** What build-info takes from a bundle's manifest, checked (the rest it carries is not read). */
const bundleManifestSchema = s.object({
  format: s.literal(BUNDLE_FORMAT),
  name: s.string(214),
  version: s.string(64),
  commit: s.pattern(/^[0-9a-f]{40}$/, 'a 40-hex git commit'),
  source_date_epoch: s.int(),
  build_env: buildEnvSchema,
  runtime: s.json(),
  files: s.object({ count: s.int(), sha256: s.hash() }),
});

/** The build-info of `files` (a checkout, or a revision of one), with `bundle` when one was built at its commit. */
export function buildInfoOf(
  files: SourceFiles,
  fallbackVersion: string,
  appCompose: { files: SourceFiles; path: string } = { files, path: APP_COMPOSE },
  bundle?: ReturnType<typeof readBundle>,
): BuildInfo {
  const own = files.commit();
  // A bundle beside another commit's compose file would pair one build's hash with another's measurement.
  if (bundle && own && own !== bundle.manifest.commit)
    throw new EphemeraError(
      'CLI_USAGE',
      `the bundle was built from commit ${bundle.manifest.commit}, but ${files.where} builds commit ${own}'s bundle: give --commit the commit that pins the bundle's image (any commit whose bundle inputs were last changed by ${bundle.manifest.commit.slice(0, 12)})`,
    );
  const commit = bundle?.manifest.commit ?? own;
  const packageJson = files.read('package.json');
  const version = bundle?.manifest.version ?? (packageJson === null ? fallbackVersion : String(JSON.parse(packageJson).version));
  const runtimeText = files.read(RUNTIME_FILE);
  const runtime = bundle ? bundle.manifest.runtime : runtimeText === null ? null : JSON.parse(runtimeText);
  if (runtime === null)
    throw new EphemeraError('CLI_FILE_NOT_FOUND', `${RUNTIME_FILE} is not in ${files.where}: a commit older than reproducible builds has no build-info`);
  const compose = composeHashOf(appCompose.files, appCompose.path);
  const info = {
    format: BUILD_INFO_FORMAT,
    version,
    commit,
    bundle: bundle ? { sha256: bundle.sha256, source_date_epoch: bundle.manifest.source_date_epoch, build_env: bundle.manifest.build_env } : null,
    image: compose?.image ?? null,
    compose_hash: compose?.hash ?? null,
    runtime: parseRuntimeManifest(runtime),
  };
  // Read back as a verifier will: what this prints, `verify --trusted-build` accepts.
  return parseBuildInfo(JSON.stringify(info));
}
