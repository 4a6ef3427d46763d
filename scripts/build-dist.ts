/**
 * `npm run build` (and `prepare`, so `npm install` runs it): compiles src/ to
 * dist/ with esbuild, file for file (dist/cli.js is src/cli.ts), so paths the
 * code resolves from its own directory (../../web, ../../../migrations,
 * ../../package.json) land on the same files as from src/. Files that are not
 * TypeScript (the sandbox supervisor's Python) are copied beside. The digest of
 * the sources is written last: bin/ephemera.js runs dist/ only while src/ still
 * has that digest. Built into a scratch directory and renamed into place, so a
 * half-written dist/ is never there to run.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { buildInputs, DIGEST_FILE, sourceDigest } from '../bin/source-digest.js';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

const started = Date.now();
// The digest of what is compiled, taken first: an edit during the build makes it stale, never wrongly fresh.
const digest = sourceDigest(SRC);
const inputs = buildInputs(SRC);
const scratch = `${DIST}.${process.pid}.tmp`;
rmSync(scratch, { recursive: true, force: true });
await build({
  entryPoints: inputs.filter((file) => file.endsWith('.ts')).map((file) => join(SRC, file)),
  outdir: scratch,
  outbase: SRC,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of inputs.filter((file) => !file.endsWith('.ts'))) {
  mkdirSync(dirname(join(scratch, file)), { recursive: true });
  copyFileSync(join(SRC, file), join(scratch, file));
}
writeFileSync(join(scratch, DIGEST_FILE), `${digest}\n`);
rmSync(DIST, { recursive: true, force: true });
renameSync(scratch, DIST);
if (!existsSync(join(DIST, 'cli.js'))) throw new Error('build-dist: dist/cli.js is missing after the build');
process.stderr.write(`build-dist: ${inputs.length} files from src/ to dist/ in ${Date.now() - started} ms\n`);
