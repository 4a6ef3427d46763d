// Writes docs/errors.md from the error registry (src/error-codes.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorsDoc } from '../src/error-codes-doc.js';

writeFileSync(join(import.meta.dirname, '../docs/errors.md'), errorsDoc());
