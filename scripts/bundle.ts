/**
 * npm run bundle [-- --out FILE] | npm run --silent bundle -- --source-date-epoch
 * Builds the reproducible application bundle of this checkout's commit (src/build/bundle.ts) and prints its
 * SHA-256: the same at that commit in any clone, directory or time (docs/reproducible-builds.md).
 * Imports Node built-ins only (through src/build/): the checkout's node_modules serve only to run it (tsx).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BUNDLE, buildBundle, inputCommit } from '../src/build/bundle.js';

const ROOT = join(import.meta.dirname, '..');

try {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'source-date-epoch': { type: 'boolean' } }, strict: true });
  // The time the bundle's files carry, for the image build to give its own (docs/reproducible-builds.md §3).
  if (values['source-date-epoch']) {
    process.stdout.write(`${inputCommit(ROOT).epoch}\n`);
    process.exit(0);
  }
  const started = Date.now();
  const built = buildBundle(ROOT, resolve(values.out ?? DEFAULT_BUNDLE(ROOT)), (line) => process.stderr.write(`bundle: ${line}\n`));
  const { commit, build_env: env, files } = built.manifest;
  process.stderr.write(
    `bundle: commit ${commit}, ${files.count} entries, Node ${env.node}, npm ${env.npm}, in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  process.stdout.write(`${built.sha256}  ${built.path}\n`);
} catch (error) {
  process.stderr.write(`bundle: ${(error as Error).message}\n`);
  process.exit(1);
}
