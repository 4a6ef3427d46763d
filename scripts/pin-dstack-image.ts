/**
 * npm run dstack:pin -- <registry>/<name>@sha256:<64 hex>
 * Pins the dstack app's service image by digest in deploy/dstack/docker-compose.yaml,
 * so the compose hash verifiers trust names exactly one image.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinImage } from './dstack-image.js';

const COMPOSE = join(import.meta.dirname, '../deploy/dstack/docker-compose.yaml');

try {
  writeFileSync(COMPOSE, pinImage(readFileSync(COMPOSE, 'utf8'), process.argv[2] ?? ''));
  process.stdout.write(`pinned ${process.argv[2]}\nnext: ephemera build-info prints the compose hash to publish\n`);
} catch (error) {
  process.stderr.write(`usage: npm run dstack:pin -- <registry>/<name>@sha256:<digest>\n${(error as Error).message}\n`);
  process.exit(2);
}
