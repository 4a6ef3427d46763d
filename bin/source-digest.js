// What a build of dist/ was made from: a SHA-256 over the name and bytes of every file under src/ but the tests.
// scripts/build-dist.ts writes it into dist/ last; bin/ephemera.js recomputes it at every start and runs dist/ only
// when the two agree, so a checkout edited since its build never runs stale code (content, not mtimes: a checkout,
// copy or archive can set any mtime).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where in dist/ the build records the digest of the sources it compiled. */
export const DIGEST_FILE = '.source-digest';

/** The build's inputs: every file under `srcDir` (relative paths, sorted) but the tests, which the build leaves out. */
export function buildInputs(srcDir, prefix = '') {
  const files = [];
  for (const entry of readdirSync(join(srcDir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) files.push(...buildInputs(srcDir, path));
    else if (!entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files.sort();
}

/** The digest of the sources in `srcDir`: each file's name and length before its bytes, so no two trees share one. */
export function sourceDigest(srcDir) {
  const hash = createHash('sha256');
  for (const file of buildInputs(srcDir)) {
    const bytes = readFileSync(join(srcDir, file));
    hash.update(`${file}\0${bytes.length}\0`).update(bytes);
  }
  return hash.digest('hex');
}

/**
 * Which tree bin/ephemera.js runs from the package at `root`: dist/ when it was built from src/ as it is now, else src/
 * (with why, when a build is there but stale). EPHEMERA_FROM_SOURCE=1 always takes src/.
 */
export function chooseTree(root, env = process.env) {
  if (env.EPHEMERA_FROM_SOURCE === '1') return { tree: 'src' };
  let recorded;
  try {
    recorded = readFileSync(join(root, 'dist', DIGEST_FILE), 'utf8').trim();
  } catch {
    return { tree: 'src' }; // never built (or a build under way): nothing to say
  }
  // An installed package may ship dist/ without src/: then there is nothing it could be stale against.
  const src = join(root, 'src');
  if (!existsSync(src) || recorded === sourceDigest(src)) return { tree: 'dist' };
  return { tree: 'src', why: 'src/ changed since dist/ was built; running the sources through tsx (npm run build to use the faster build)' };
}
