/**
 * The application bundle (docs/reproducible-builds.md §2): everything the image holds above its base, built
 * from one commit into one tar whose SHA-256 depends on that commit (and the Node.js, npm and compiler that
 * build it, which its manifest names) and on nothing else: not the directory, the clock, the umask or the user.
 *
 * The commit's files are taken from git (never the working tree), the production dependencies installed from
 * the lockfile in a scratch directory (native modules compiled there), the browser scripts built, what only a
 * build needs removed, and the rest written with fixed order, owners, modes and times (tar.ts). Node built-ins
 * only (run through tsx: `npm run bundle`), so what it builds does not depend on the checkout's node_modules.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hashWhileWriting, tarBlocks, type TarEntry, type TarMember } from './tar.js';

/**
 * What the bundle is built from (git pathspecs). A commit that changes none of these (pinning the image digest,
 * docs, tests: the build compiles no test) builds the same bundle.
 */
export const BUNDLE_INPUTS = [
  'bin',
  'src',
  'web',
  'migrations',
  'deploy/image',
  'scripts/build-dist.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'LICENSE',
  ':(exclude,glob)**/*.test.ts',
];
/** What only the build needs: gone from the bundle (bin/ephemera.js runs dist/ when src/ and the build script are both absent). */
const BUILD_ONLY = ['src', 'scripts', 'tsconfig.json', 'web/src'];
export const MANIFEST_FILE = 'BUILD-MANIFEST.json';
export const FILES_FILE = 'BUILD-FILES.txt';
/** Beside an installed bundle (the image's /app, not in the tar): the tar's SHA-256, which the image build writes. */
export const BUNDLE_HASH_FILE = 'BUNDLE.sha256';
export const BUNDLE_FORMAT = 'ephemera.bundle/1';
export const RUNTIME_FILE = 'deploy/image/runtime.json';

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  name: string;
  version: string;
  commit: string;
  source_date_epoch: number;
  build_env: { node: string; npm: string; cc: string | null; cxx: string | null; platform: string };
  runtime: unknown;
  files: { count: number; sha256: string };
}

export interface BuiltBundle {
  path: string;
  sha256: `sha256:${string}`;
  manifest: BundleManifest;
}

/**
 * git as a commit is, whoever runs it: no GIT_* variable of the caller (GIT_DIR, replace refs, configuration
 * given in the environment), no system or user configuration, and the settings that change what `git archive`
 * or `git log` write pinned on the command line, which outranks the repository's own. (The repository's
 * .git/info/attributes still applies: keep it empty in a checkout you build from.)
 */
const GIT_ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_'))),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_NO_REPLACE_OBJECTS: '1',
};
const GIT_ARGS = ['-c', 'core.autocrlf=false', '-c', 'core.eol=lf', '-c', 'core.attributesFile=/dev/null', '-c', 'log.showSignature=false'];

/** Runs git in `root` as above; its stdout (trimmed unless `raw`). */
export function gitAt(root: string, args: readonly string[], raw = false): string {
  const out = execFileSync('git', ['-C', root, ...GIT_ARGS, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: GIT_ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return raw ? out : out.trim();
}
const git = (root: string, args: readonly string[]) => gitAt(root, args);

/** The last commit up to `revision` that changed the bundle's inputs, and its commit time (SOURCE_DATE_EPOCH). */
export function inputCommit(root: string, revision = 'HEAD'): { commit: string; epoch: number } {
  // A shallow history ends at its boundary commit, which would pass for the last one that changed the inputs.
  if (git(root, ['rev-parse', '--is-shallow-repository']) === 'true')
    throw new Error(`${root} is a shallow clone: the bundle's commit and time need the history (git fetch --unshallow)`);
  const [commit, epoch] = git(root, ['log', '-1', '--format=%H %ct', revision, '--', ...BUNDLE_INPUTS]).split(' ');
  if (!commit || !epoch) throw new Error(`${root}: no commit holds the bundle's inputs`);
  return { commit, epoch: Number(epoch) };
}

/** inputCommit of HEAD, and whether the working tree has changed the inputs since. */
export function bundleSource(root: string): { commit: string; epoch: number; dirty: boolean } {
  return { ...inputCommit(root), dirty: git(root, ['status', '--porcelain', '--', ...BUNDLE_INPUTS]) !== '' };
}

const firstLine = (command: string, args: string[]) => {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')[0]!
      .trim();
  } catch {
    return null;
  }
};

/** Builds the bundle of `root`'s commit into `out`; `log` hears each step. The scratch directory is removed either way. */
export function buildBundle(root: string, out: string, log: (line: string) => void = () => {}): BuiltBundle {
  const { commit, epoch, dirty } = bundleSource(root);
  if (dirty) log(`uncommitted changes to the bundle's inputs are not in it: it is built from commit ${commit}`);
  const stage = mkdtempSync(join(tmpdir(), 'ephemera-bundle-'));
  try {
    const archive = spawnSync('git', ['-C', root, ...GIT_ARGS, 'archive', '--format=tar', commit, '--', ...BUNDLE_INPUTS], {
      maxBuffer: 1 << 30,
      env: GIT_ENV,
    });
    if (archive.status !== 0) throw new Error(`git archive failed: ${archive.stderr}`);
    execFileSync('tar', ['-x', '-C', stage], { input: archive.stdout });
    const lockfile = readFileSync(join(stage, 'package-lock.json'));

    log('installing the production dependencies from the lockfile (native modules compile here)');
    // Not the npm_config_* an outer `npm run` sets (log level, prefixes, …) but the few that say how to reach the
    // registry, nor the compiler's or Node's own settings (CC, CFLAGS, NODE_OPTIONS, …): the install is the same
    // however and wherever this starts. (npm's configuration files still apply: a registry, nodedir.) Nor a
    // secret (ANTHROPIC_API_KEY, EPHEMERA_EXECUTE_TOKEN, …): the dependencies' install scripts run with this.
    const reach = /^npm_config_(registry|cafile|proxy|https_proxy|noproxy|strict_ssl|nodedir|cache)$/;
    const inherited = Object.entries(process.env).filter(
      ([name]) =>
        (reach.test(name) || !/^(npm_|INIT_CWD$|NODE_OPTIONS$|(CC|CXX|CPP|LD|AR)$|\w*FLAGS$)/i.test(name)) &&
        !/(KEY|TOKEN|SECRET|PASSWORD|CREDENTIALS?)$/i.test(name),
    );
    const env = {
      ...Object.fromEntries(inherited),
      SOURCE_DATE_EPOCH: String(epoch),
      npm_config_update_notifier: 'false',
      // better-sqlite3 would download a prebuilt binary the lockfile does not pin wherever GitHub answers: compile it, always.
      npm_config_build_from_source: 'true',
    };
    // Each setting a configuration file could change the tree with, stated.
    const flags = ['--omit=dev', '--include=optional', '--ignore-scripts=false', '--install-strategy=hoisted', '--no-audit', '--no-fund', '--prefer-offline'];
    const install = spawnSync('npm', ['install', ...flags], {
      cwd: stage,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (install.status !== 0) throw new Error(`npm install failed:\n${install.stderr}`);
    if (!readFileSync(join(stage, 'package-lock.json')).equals(lockfile))
      throw new Error('npm install changed package-lock.json: the lockfile does not describe the dependencies');

    log('building the browser scripts');
    const web = spawnSync(process.execPath, ['--input-type=module', '-e', "await (await import('./dist/web/plugin.js')).writeWebBundles()"], {
      cwd: stage,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    if (web.status !== 0) throw new Error(`building the browser scripts failed:\n${web.stderr}`);

    for (const path of BUILD_ONLY) rmSync(join(stage, path), { recursive: true, force: true });
    pruneNativeBuilds(join(stage, 'node_modules'));

    const pkg = JSON.parse(readFileSync(join(stage, 'package.json'), 'utf8')) as { name: string; version: string };
    const entries = collect(stage);
    const files = filesList(entries);
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      name: pkg.name,
      version: pkg.version,
      commit,
      source_date_epoch: epoch,
      build_env: {
        node: process.version,
        npm: firstLine('npm', ['--version']) ?? 'unknown',
        cc: firstLine('cc', ['--version']),
        cxx: firstLine('c++', ['--version']),
        platform: `${process.platform}-${process.arch}`,
      },
      runtime: JSON.parse(readFileSync(join(stage, RUNTIME_FILE), 'utf8')),
      files: { count: entries.length, sha256: `sha256:${createHash('sha256').update(files).digest('hex')}` },
    };
    const head: TarEntry[] = [
      { path: FILES_FILE, type: 'file', executable: false, body: () => files },
      { path: MANIFEST_FILE, type: 'file', executable: false, body: () => Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) },
    ];
    mkdirSync(dirname(out), { recursive: true });
    const partial = `${out}.${process.pid}.partial`;
    const fd = openSync(partial, 'w');
    let sha256: `sha256:${string}`;
    try {
      sha256 = hashWhileWriting(tarBlocks([...head, ...entries], epoch), (chunk) => writeSync(fd, chunk));
    } finally {
      closeSync(fd);
    }
    renameSync(partial, out);
    return { path: out, sha256, manifest };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/**
 * node-gyp leaves its Makefiles, objects and configuration (which name the directory it built in) beside the
 * module it compiled: of a `build/` that node-gyp configured, only `Release/*.node` is kept.
 */
function pruneNativeBuilds(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === 'build' && existsSync(join(path, 'config.gypi'))) {
      for (const item of readdirSync(path)) if (item !== 'Release') rmSync(join(path, item), { recursive: true, force: true });
      const release = join(path, 'Release');
      if (existsSync(release))
        for (const item of readdirSync(release))
          if (!item.endsWith('.node') || lstatSync(join(release, item)).isDirectory()) rmSync(join(release, item), { recursive: true, force: true });
    } else pruneNativeBuilds(path);
  }
}

/** Every entry under `root`, paths relative to it, sorted by their bytes (so the order is the same in any locale). */
function collect(root: string): TarEntry[] {
  const entries: TarEntry[] = [];
  const walk = (relative: string) => {
    for (const name of readdirSync(join(root, relative))) {
      const path = relative ? `${relative}/${name}` : name;
      const full = join(root, path);
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) entries.push({ path, type: 'symlink', target: readlinkSync(full) });
      else if (stat.isDirectory()) {
        entries.push({ path, type: 'directory' });
        walk(path);
      } else if (stat.isFile()) entries.push({ path, type: 'file', executable: (stat.mode & 0o111) !== 0, body: () => readFileSync(full) });
      else throw new Error(`${path}: neither a file, a directory nor a link`);
    }
  };
  walk('');
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
}

/** One line per entry ("<sha256> <mode> <path>", "-> target" for links): what to diff when two bundles differ. */
function filesList(entries: readonly TarEntry[]): Buffer {
  const lines = entries.map((e) =>
    memberLine(
      e.type === 'file'
        ? { path: e.path, type: 'file', mode: e.executable ? 0o755 : 0o644, sha256: createHash('sha256').update(e.body()).digest('hex') }
        : e.type === 'symlink'
          ? { path: e.path, type: 'symlink', mode: 0o777, target: e.target }
          : { path: e.path, type: 'directory', mode: 0o755 },
    ),
  );
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** A member's line in BUILD-FILES.txt, as written and as read back from the tar. */
export function memberLine(m: TarMember): string {
  const mode = m.mode.toString(8);
  if (m.type === 'file') return `${m.sha256} ${mode} ${m.path}`;
  if (m.type === 'symlink') return `${'-'.repeat(64)} ${mode} ${m.path} -> ${m.target}`;
  return `${'-'.repeat(64)} ${mode} ${m.path}/`;
}

/** Where `npm run bundle` writes by default. */
export const DEFAULT_BUNDLE = (root: string) => join(root, 'build', 'ephemera-bundle.tar');
