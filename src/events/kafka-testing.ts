/** Test support: the broker address, or a failure that says what is missing (never a skip). */
export function requireKafka(): string[] {
  const brokers = process.env.KAFKA_BROKERS;
  if (!brokers) {
    throw new Error(
      'Kafka broker missing: KAFKA_BROKERS is not set. Start one with `scripts/kafka/start.sh` (needs Java 17 and Maven) and export KAFKA_BROKERS=127.0.0.1:19092; npm test does this itself through test/global-setup.ts.',
    );
  }
  return brokers.split(',');
}
