#!/usr/bin/env bash
# PC2: the Kafka broker and EV_Central.   Usage: ./pc2.sh <IP2> [central_port] [db_path]
# IP2 is this PC's address as the other PCs see it (Kafka advertises it to them).
source "$(dirname "$0")/common.sh"
if [ $# -lt 1 ]; then
  echo "usage: $0 <IP2> [central_port=7000] [db_path=evcharging.db]" >&2
  exit 2
fi
IP2="$1"; PORT="${2:-7000}"; DB="${3:-evcharging.db}"
ev_require_host "$IP2"
if docker info >/dev/null 2>&1; then
  echo "Starting Kafka with Docker (advertised as $IP2:9092) …"
  KAFKA_ADVERTISED_HOST="$IP2" docker compose -f "$EV_ROOT/compose.yaml" up -d --wait
elif [ -f "$EV_ROOT/scripts/broker.ts" ]; then
  echo "No Docker engine: starting the local Kafka broker (advertised as $IP2:9092) …"
  source "$EV_ROOT/scripts/ensure-deno.sh"
  mkdir -p logs
  (cd "$EV_ROOT" && deno task broker --listen 0.0.0.0 --advertised-host "$IP2") >logs/kafka.log 2>&1 &
  BROKER_PID=$!
  trap 'kill -INT $BROKER_PID 2>/dev/null; wait $BROKER_PID' EXIT
  until grep -q "ready at" logs/kafka.log; do
    kill -0 $BROKER_PID 2>/dev/null || { echo "error: Kafka did not start; see logs/kafka.log" >&2; exit 1; }
    sleep 1
  done
else
  echo "error: start Kafka first (docker compose, see README), then run EV_Central" >&2
  exit 1
fi
mapfile -t CENTRAL < <(ev_command EV_Central)
echo "Starting EV_Central on port $PORT (web panel http://$IP2:8080/) …"
"${CENTRAL[@]}" "$PORT" "$IP2:9092" "$DB"
