/**
 * `npm run build` (and `prepare`, so `npm install` runs it): compiles src/ to
 * dist/ with esbuild, file for file (dist/cli.js is src/cli.ts), so paths the
 * code resolves from its own directory (../../web, ../../../migrations,
 * ../../package.json) land on the same files as from src/. Files that are not
 * TypeScript (the sandbox supervisor's Python) are copied beside. commander,
 * noble and ipaddr.js are bundled into dist/vendor/ and imported from there: a
 * CommonJS package imported through Node's ESM loader starts its CommonJS
 * loader too, and with noble's two dozen small modules that was ~30 ms and
 * ~10 MB of `ephemera --help` (docs/performance/cli.md). What the build was
 * made from (bin/source-digest.js: the sources, this script, the bundled
 * packages' versions) is recorded last: bin/ephemera.js runs dist/ only while
 * that still holds. Built into a scratch directory and renamed into place, so
 * a half-written dist/ is never there to run.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { buildDigest, buildInputs, STAMP_FILE } from '../bin/source-digest.js';

const ROOT = join(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

/**
 * Pure-JavaScript dependencies of the CLI's start, each import of them answered by one file in dist/vendor/, and what
 * that file re-exports: their named exports, or the default (ipaddr.js is CommonJS, imported whole).
 */
const VENDORED: Record<string, 'named' | 'default'> = {
  commander: 'named',
  '@noble/curves/ed25519': 'named',
  '@noble/curves/nist': 'named',
  '@noble/hashes/sha256': 'named',
  '@noble/hashes/sha512': 'named',
  '@noble/hashes/utils': 'named',
  'ipaddr.js': 'default',
};
const vendorName = (specifier: string) => specifier.replace(/^@/, '').replace(/[/.]/g, '-');

const started = Date.now();
const vendoredPackages = [
  ...new Set(
    Object.keys(VENDORED).map((specifier) =>
      specifier
        .split('/')
        .slice(0, specifier.startsWith('@') ? 2 : 1)
        .join('/'),
    ),
  ),
];
// Taken before compiling: an edit during the build makes it stale, never wrongly fresh.
const digest = buildDigest(ROOT, vendoredPackages);
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
  // "Bundled" only so that imports can be rewritten: every import stays external, each file compiles alone.
  bundle: true,
  plugins: [importsStayExternal()],
});
await build({
  entryPoints: Object.fromEntries(Object.keys(VENDORED).map((specifier) => [vendorName(specifier), `vendor:${specifier}`])),
  outdir: join(scratch, 'vendor'),
  chunkNames: 'shared-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // commander and ipaddr.js are CommonJS; commander requires Node's own modules.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  plugins: [vendorEntries()],
});
for (const file of inputs.filter((file) => !file.endsWith('.ts'))) {
  mkdirSync(dirname(join(scratch, file)), { recursive: true });
  copyFileSync(join(SRC, file), join(scratch, file));
}
writeFileSync(join(scratch, STAMP_FILE), `${JSON.stringify({ digest, vendored: vendoredPackages })}\n`);
rmSync(DIST, { recursive: true, force: true });
renameSync(scratch, DIST);
if (!existsSync(join(DIST, 'cli.js'))) throw new Error('build-dist: dist/cli.js is missing after the build');
process.stderr.write(`build-dist: ${inputs.length} files from src/ to dist/ in ${Date.now() - started} ms\n`);

/** Leaves every import as it is, except a vendored package's, which becomes the relative path to its file in dist/vendor/. */
function importsStayExternal(): Plugin {
  return {
    name: 'imports-stay-external',
    setup(on) {
      on.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (!Object.hasOwn(VENDORED, args.path)) return { path: args.path, external: true };
        const from = dirname(join(scratch, relative(SRC, args.importer)));
        return { path: `./${relative(from, join(scratch, 'vendor', `${vendorName(args.path)}.js`))}`.replace(/^\.\/\.\./, '..'), external: true };
      });
    },
  };
}

/** One entry per vendored specifier, named after it, re-exporting it whole (shared code goes to common chunks). */
function vendorEntries(): Plugin {
  return {
    name: 'vendor-entries',
    setup(on) {
      on.onResolve({ filter: /^vendor:/ }, (args) => ({ path: args.path.slice('vendor:'.length), namespace: 'vendor' }));
      on.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({
        contents: VENDORED[args.path] === 'default' ? `export { default } from '${args.path}';` : `export * from '${args.path}';`,
        resolveDir: ROOT,
        loader: 'js',
      }));
    },
  };
}
