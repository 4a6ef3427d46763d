/**
 * The two-build test (docs/reproducible-builds.md §2): two fresh clones of this commit, in different
 * directories, built one after the other under another umask and time zone, give the same bundle, byte for
 * byte; the bundle extracts with GNU tar, runs on its own (the compiled build, the prebuilt browser scripts),
 * and `build-info --bundle` reads its hash and manifest back.
 *
 * Each build installs the production dependencies from the lockfile (npm's cache answers, as after the
 * checkout's own `npm install`) and compiles better-sqlite3: a minute or two each.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleSource } from '../../src/build/bundle.js';

const ROOT = join(import.meta.dirname, '../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'ephemera-repro-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A file's SHA-256 as coreutils computes it: not the code under test. */
const fileSha256 = (path: string) => `sha256:${execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]}`;

interface Built {
  code: number | null;
  stdout: string;
  stderr: string;
  tar: string;
}

/** Clones this repository's HEAD into `dir` and builds its bundle there, as `npm run bundle` does (with the checkout's tsx: the clone installs nothing else). */
function cloneAndBuild(dir: string, env: Record<string, string>): Built {
  mkdirSync(join(dir, '..'), { recursive: true });
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, dir]);
  const tar = join(dir, 'build/ephemera-bundle.tar');
  const result = spawnSync('sh', ['-c', `umask ${env.UMASK} && exec "$0" "$@"`, process.execPath, TSX, 'scripts/bundle.ts'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, tar };
}

describe('the application bundle', () => {
  let first: Built;
  let second: Built;
  beforeAll(() => {
    first = cloneAndBuild(join(scratch, 'one/ephemera'), { UMASK: '022', TZ: 'UTC' });
    second = cloneAndBuild(join(scratch, 'two/deeper/elsewhere'), { UMASK: '077', TZ: 'Pacific/Kiritimati' });
  }, 1_200_000);

  it('is the same, byte for byte, from two fresh clones in different directories, at different times', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    const hash = /^(sha256:[0-9a-f]{64}) {2}\S+\n$/.exec(first.stdout)?.[1];
    expect(hash, first.stdout).toBeDefined();
    expect(second.stdout.split(' ')[0]).toBe(hash);
    expect(fileSha256(first.tar)).toBe(hash);
    expect(fileSha256(second.tar)).toBe(hash);
  });

  it('names its commit (the last that changed its inputs), the time of that commit, and the tools that built it', () => {
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', first.tar, 'BUILD-MANIFEST.json'], { encoding: 'utf8' }));
    const source = bundleSource(ROOT);
    expect(manifest).toMatchObject({
      format: 'ephemera.bundle/1',
      commit: source.commit,
      source_date_epoch: source.epoch,
      build_env: { node: process.version, platform: `${process.platform}-${process.arch}` },
      runtime: JSON.parse(readFileSync(join(ROOT, 'deploy/image/runtime.json'), 'utf8')),
    });
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', first.tar], { encoding: 'utf8', maxBuffer: 1 << 26 })
      .trim()
      .split('\n');
    expect(listing).toHaveLength(manifest.files.count + 2);
    expect(new Set(listing.map((line) => line.split(/\s+/)[1]))).toEqual(new Set(['0/0']));
  });

  it('extracts and runs on its own: the compiled build, no sources, the browser scripts prebuilt, no build directory of a native module', () => {
    const into = join(scratch, 'extracted');
    mkdirSync(into);
    execFileSync('tar', ['-xf', first.tar, '-C', into]);
    for (const gone of [
      'src',
      'scripts',
      'tsconfig.json',
      'web/src',
      'node_modules/better-sqlite3/build/Makefile',
      'node_modules/better-sqlite3/build/config.gypi',
    ])
      expect(existsSync(join(into, gone)), gone).toBe(false);
    for (const present of ['dist/cli.js', 'web/dist/main.js', 'web/dist/tdx.js', 'node_modules/better-sqlite3/build/Release/better_sqlite3.node', 'migrations'])
      expect(existsSync(join(into, present)), present).toBe(true);
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [join(into, 'bin/ephemera.js'), ...args], { cwd: into, encoding: 'utf8', env: { ...process.env, EPHEMERA_FROM_SOURCE: '' } });
    const version = run('--version');
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    // Installed from a bundle, build-info knows its commit from the manifest; no dstack compose is in the image.
    const info = run('build-info', '--json');
    expect(info.status, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ commit: bundleSource(ROOT).commit, compose_hash: null, bundle: null });
    // The image build writes the tar's hash beside it: then build-info there names the bundle too.
    writeFileSync(join(into, 'BUNDLE.sha256'), `${fileSha256(first.tar)}\n`);
    const inImage = run('build-info', '--json');
    expect(JSON.parse(inImage.stdout)).toMatchObject({ bundle: { sha256: fileSha256(first.tar), build_env: { node: process.version } } });
    // better-sqlite3's compiled module loads: the embedded log works from the bundle.
    const sqlite = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], {
      cwd: into,
      encoding: 'utf8',
    });
    expect(sqlite.status, sqlite.stderr).toBe(0);
  });

  it('is refused by build-info --bundle when cut short or padded (BUNDLE_INVALID), never published under another hash', () => {
    const size = statSync(first.tar).size;
    const cut = join(scratch, 'cut.tar');
    execFileSync('head', ['-c', String(10 << 20), first.tar], { stdio: ['ignore', openSync(cut, 'w'), 'inherit'] });
    const padded = join(scratch, 'padded.tar');
    execFileSync('sh', ['-c', `cat "$0" && printf x`, first.tar], { stdio: ['ignore', openSync(padded, 'w'), 'inherit'] });
    expect(statSync(padded).size).toBe(size + 1);
    for (const tar of [cut, padded]) {
      const info = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'build-info', '--bundle', tar, '--json'], { encoding: 'utf8' });
      expect(info.status, tar).toBe(2);
      expect(JSON.parse(info.stdout).error.code).toBe('BUNDLE_INVALID');
    }
  });

  it('is what build-info --bundle reports: its hash, its commit and build environment, beside the compose hash', () => {
    const info = spawnSync(process.execPath, [join(ROOT, 'bin/ephemera.js'), 'build-info', '--bundle', first.tar, '--json'], { encoding: 'utf8' });
    expect(info.status, info.stderr).toBe(0);
    const doc = JSON.parse(info.stdout);
    expect(doc).toMatchObject({
      format: 'ephemera.build-info/1',
      commit: bundleSource(ROOT).commit,
      bundle: { sha256: fileSha256(first.tar), build_env: { node: process.version } },
      compose_hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });
});
