#!/usr/bin/env bash
# Stops the test broker started by start.sh.
#   --kill  SIGKILL (a crash), instead of a clean SIGTERM
#   --wipe  also delete its data directory
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN=${KAFKA_RUN_DIR:-$ROOT/.cache/kafka/run}
signal=TERM
wipe=no
for arg in "$@"; do
  case "$arg" in
    --kill) signal=KILL ;;
    --wipe) wipe=yes ;;
    *) echo "usage: stop.sh [--kill] [--wipe]" >&2; exit 2 ;;
  esac
done
if [ -f "$RUN/pid" ]; then
  pid=$(cat "$RUN/pid")
  kill -"$signal" "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$RUN/pid"
fi
[ "$wipe" = yes ] && rm -rf "$RUN/data"
exit 0
