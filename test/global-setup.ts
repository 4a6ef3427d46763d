/**
 * vitest global setup. The tests that spawn the CLI run what a user runs, the
 * compiled dist/: built here when src/ changed since the last build (else
 * bin/ephemera.js would take the sources). The Kafka tests need a real
 * broker: when KAFKA_BROKERS is not set, start the single-node test broker (scripts/kafka/start.sh,
 * fetched from Maven Central on first use) and stop it afterwards. If it
 * cannot start, the Kafka tests fail saying what is missing; none is skipped.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { chooseTree } from '../bin/source-digest.js';

const ROOT = join(import.meta.dirname, '..');

export default function setup(): () => void {
  if (chooseTree(ROOT, {}).tree !== 'dist') execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (process.env.KAFKA_BROKERS) return () => undefined;
  try {
    process.env.KAFKA_BROKERS = execFileSync(join(ROOT, 'scripts/kafka/start.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    process.stderr.write('global-setup: could not start the Kafka test broker; the Kafka tests will fail and say so\n');
    return () => undefined;
  }
  return () => {
    execFileSync(join(ROOT, 'scripts/kafka/stop.sh'), ['--wipe'], { stdio: 'inherit' });
  };
}
