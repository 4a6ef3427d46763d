// Rewrites test-vectors/certificates/ (manifest.json and cases/*.json) from the conformance suite (src/verify/testing/conformance.ts).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceCases, conformanceManifest } from '../src/verify/testing/conformance.js';

const dir = join(import.meta.dirname, '../test-vectors/certificates');
const cases = conformanceCases();
rmSync(join(dir, 'cases'), { recursive: true, force: true });
mkdirSync(join(dir, 'cases'), { recursive: true });
for (const c of cases) writeFileSync(join(dir, 'cases', `${c.name}.json`), c.bytes);
writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(conformanceManifest(cases), null, 2)}\n`);
process.stderr.write(`wrote ${cases.length} cases to ${dir}\n`);
