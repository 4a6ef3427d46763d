// Rewrites test-vectors/certificates/*.json from the mutation suite (see src/verify/testing/vectors.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certificateVectors } from '../src/verify/testing/vectors.js';

const dir = join(import.meta.dirname, '../test-vectors/certificates');
mkdirSync(dir, { recursive: true });
for (const [name, vector] of Object.entries(await certificateVectors())) writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(vector, null, 2)}\n`);
process.stderr.write(`wrote ${dir}\n`);
