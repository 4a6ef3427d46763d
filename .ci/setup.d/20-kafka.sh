# A real single-node Apache Kafka broker (KRaft) for the Kafka tests: Java 17
# and Maven fetch it from Maven Central (scripts/kafka/start.sh).
if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
  apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless maven >/dev/null
fi
KAFKA_BROKERS=$(scripts/kafka/start.sh)
export KAFKA_BROKERS
trap 'scripts/kafka/stop.sh --wipe || true' EXIT
