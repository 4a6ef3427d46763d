/**
 * vitest global setup: the Kafka tests need a real broker. When KAFKA_BROKERS
 * is not set, start the single-node test broker (scripts/kafka/start.sh,
 * fetched from Maven Central on first use) and stop it afterwards. If it
 * cannot start, the Kafka tests fail saying what is missing; none is skipped.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

export default function setup(): () => void {
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
