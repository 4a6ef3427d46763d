#!/usr/bin/env bash
# Starts a single-node Apache Kafka 4.x broker+controller (KRaft) on loopback
# for tests and CI, fetching it from Maven Central on first use (cached under
# .cache/kafka). Prints the bootstrap address. Idempotent: a running broker is
# reused; a stopped one restarts on its existing data (so acknowledged events
# survive a SIGKILL, as the fault tests need).
#   KAFKA_PORT (default 19092), KAFKA_RUN_DIR (default .cache/kafka/run)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/.cache/kafka"
PORT=${KAFKA_PORT:-19092}
CONTROLLER_PORT=$((PORT + 1))
RUN=${KAFKA_RUN_DIR:-$CACHE/run}
CP="$CACHE/libs/*"
mkdir -p "$RUN"

if ! ls "$CACHE"/libs/kafka_2.13-*.jar >/dev/null 2>&1; then
  echo "kafka: fetching the broker from Maven Central (first run only)…" >&2
  command -v mvn >/dev/null || { echo "kafka: Maven (mvn) and Java 17+ are needed to fetch the test broker" >&2; exit 1; }
  mvn -q -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$CACHE/libs" -DincludeScope=runtime >&2
fi

if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
  echo "127.0.0.1:$PORT"
  exit 0
fi

DATA="$RUN/data"
if [ ! -f "$DATA/logs/meta.properties" ]; then
  mkdir -p "$DATA/logs"
  cat > "$DATA/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA/logs
num.partitions=1
auto.create.topics.enable=false
# One node: every replication factor is 1 (production: RF 3, min.insync.replicas=2).
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
PROPS
  CLUSTER_ID=$(java -cp "$CP" kafka.tools.StorageTool random-uuid 2>/dev/null)
  java -cp "$CP" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$DATA/server.properties" >/dev/null
fi

nohup java -Xms128m -Xmx512m -XX:+UseSerialGC -cp "$CP" kafka.Kafka "$DATA/server.properties" >"$RUN/broker.log" 2>&1 &
echo $! >"$RUN/pid"

for _ in $(seq 1 120); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "127.0.0.1:$PORT"
    exit 0
  fi
  kill -0 "$(cat "$RUN/pid")" 2>/dev/null || { echo "kafka: the broker exited; see $RUN/broker.log" >&2; tail -20 "$RUN/broker.log" >&2; exit 1; }
  sleep 0.5
done
echo "kafka: the broker did not listen on 127.0.0.1:$PORT within 60 s; see $RUN/broker.log" >&2
exit 1
