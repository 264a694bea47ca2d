#!/usr/bin/env bash
# PC2: the Kafka broker and EV_Central.   Usage: ./pc2.sh <IP2> [central_port] [db_path]
# IP2 is this PC's address as the other PCs see it (Kafka advertises it to them).
# Settings (environment, else defaults.env): KAFKA_PORT, CENTRAL_PORT (central_port wins),
# HTTP_PORT.
source "$(dirname "$0")/common.sh"
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
  echo "usage: $EV_SCRIPT <IP2> [central_port=\$CENTRAL_PORT] [db_path=evcharging.db]" >&2
  exit 2
fi
IP2="$1"
PORT="${2:-$CENTRAL_PORT}"
DB="${3:-evcharging.db}"
ev_require_host "$IP2"
ev_require_port central_port "$PORT"
ev_require_ports KAFKA_PORT HTTP_PORT
ev_command EV_Central
KAFKA="$IP2:$KAFKA_PORT"
if docker info >/dev/null 2>&1; then
  echo "Starting Kafka with Docker (advertised as $KAFKA) …"
  KAFKA_ADVERTISED_HOST="$IP2" KAFKA_PORT="$KAFKA_PORT" docker compose -f "$EV_ROOT/compose.yaml" up -d --wait
elif [ -f "$EV_ROOT/scripts/broker.ts" ]; then
  echo "No Docker engine: starting the local Kafka broker (advertised as $KAFKA) …"
  source "$EV_ROOT/scripts/ensure-deno.sh"
  mkdir -p logs
  deno run --allow-all "$EV_ROOT/scripts/broker.ts" --port "$KAFKA_PORT" --listen 0.0.0.0 \
    --advertised-host "$IP2" >logs/kafka.log 2>&1 </dev/null &
  BROKER_PID=$!
  trap 'kill -TERM $BROKER_PID 2>/dev/null; wait $BROKER_PID' EXIT
  until grep -q "ready at" logs/kafka.log; do
    kill -0 $BROKER_PID 2>/dev/null || ev_fail "Kafka did not start; see logs/kafka.log" 1
    sleep 1
  done
else
  ev_fail "start Kafka first (docker compose, see README), then run EV_Central" 1
fi
echo "Starting EV_Central on port $PORT (web panel http://$IP2:$HTTP_PORT/) …"
"${EV_CMD[@]}" "$PORT" "$KAFKA" "$DB" --http "$HTTP_PORT"
