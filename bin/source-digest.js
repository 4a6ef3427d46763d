// What a build of dist/ was made from: a SHA-256 over the name and bytes of every file under src/ but the tests, the
// build script, and the installed version of each package the build bundled into dist/vendor/. scripts/build-dist.ts
// records it in dist/ last; bin/ephemera.js recomputes it at every start and runs dist/ only when the two agree, so a
// checkout edited (or a package updated) since its build never runs stale code. Content, not mtimes: a checkout, copy
// or archive can set any mtime.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where in dist/ the build records what it was built from: `{ "digest": hex, "vendored": [package names] }`. */
export const STAMP_FILE = '.built-from.json';
const BUILD_SCRIPT = 'scripts/build-dist.ts';
const CONFIG_FILES = ['package.json', 'tsconfig.json'];

/** The build's inputs under `srcDir` (relative paths, sorted): every file but the tests, which the build leaves out. */
export function buildInputs(srcDir, prefix = '') {
  const files = [];
  for (const entry of readdirSync(join(srcDir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...buildInputs(srcDir, path));
    else if (!entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files.sort();
}

/** The digest of what a build of the package at `root` compiles and bundles; each part named and sized, so no two inputs share one. */
export function buildDigest(root, vendored) {
  const hash = createHash('sha256');
  const add = (name, bytes) => hash.update(`${name}\0${bytes.length}\0`).update(bytes);
  for (const file of buildInputs(join(root, 'src'))) add(`src/${file}`, readFileSync(join(root, 'src', file)));
  add(BUILD_SCRIPT, readFileSync(join(root, BUILD_SCRIPT)));
  // What else decides the output: the compiler's settings (tsconfig.json's target), the package's own description.
  for (const file of CONFIG_FILES) add(file, existsSync(join(root, file)) ? readFileSync(join(root, file)) : Buffer.from('missing'));
  for (const name of vendored) {
    let version = 'missing';
    try {
      version = String(JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version);
    } catch {}
    add(`node_modules/${name}`, Buffer.from(version));
  }
  return hash.digest('hex');
}

/**
 * Which tree bin/ephemera.js runs from the package at `root`: dist/ when it was built from what is there now, else src/
 * (with why, when a build is there but stale). EPHEMERA_FROM_SOURCE=1 always takes src/.
 */
export function chooseTree(root, env = process.env) {
  if (env.EPHEMERA_FROM_SOURCE === '1') return { tree: 'src' };
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(join(root, 'dist', STAMP_FILE), 'utf8'));
  } catch {
    return { tree: 'src' }; // never built (or a build under way): nothing to say
  }
  // An installed package may ship dist/ without its sources: then there is nothing it could be stale against.
  // Only both gone means that; one of them gone is a changed checkout, stale like any other.
  if (!existsSync(join(root, 'src')) && !existsSync(join(root, BUILD_SCRIPT))) return { tree: 'dist' };
  if (!existsSync(join(root, 'src')) || !existsSync(join(root, BUILD_SCRIPT))) return { tree: 'src', why: STALE };
  if (Array.isArray(stamp?.vendored) && stamp.digest === buildDigest(root, stamp.vendored)) return { tree: 'dist' };
  return { tree: 'src', why: STALE };
}

const STALE =
  'dist/ is out of date (src/, its build script or a bundled package changed since); running the sources through tsx (npm run build to use the build)';
