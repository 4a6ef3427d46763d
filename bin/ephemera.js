#!/usr/bin/env node
// Runs the compiled JavaScript in dist/ (built on install: `npm run build`) when it was built from src/ as it is now;
// otherwise the TypeScript sources through tsx. A stale build never runs: the check recomputes the digest of what a
// build is made from (bin/source-digest.js, about 5 ms) and compares it with the one the build recorded.
// EPHEMERA_FROM_SOURCE=1 always takes the sources.
import { join } from 'node:path';
import { chooseTree } from './source-digest.js';

const { tree, why } = chooseTree(join(import.meta.dirname, '..'));
if (tree === 'dist') await import('../dist/cli.js');
else {
  if (why) process.stderr.write(`ephemera: ${why}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli.ts');
}
