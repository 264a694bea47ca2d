#!/usr/bin/env bash
# PC3: one engine (EV_CP_E) and one monitor (EV_CP_M) per charging point.
# Usage: ./pc3.sh <IP2> <CP_ID> [CP_ID …]     e.g. ./pc3.sh 192.168.1.20 CP-01 CP-02
# Settings (environment, else defaults.env): KAFKA_PORT, CENTRAL_PORT, ENGINE_PORT_BASE (the
# first CP's engine; the next CP's is one more), PRICE, LOCATION (default: this PC's name).
source "$(dirname "$0")/common.sh"
ev_parse_ip2_ids CP_ID "$@"
ev_require_ports KAFKA_PORT CENTRAL_PORT ENGINE_PORT_BASE
if ((ENGINE_PORT_BASE + ${#EV_IDS[@]} - 1 > 65535)); then
  ev_fail "ENGINE_PORT_BASE $ENGINE_PORT_BASE leaves no port for the last of ${#EV_IDS[@]} CPs (65535 is the highest)"
fi
ev_begin evcharging-pc3 EV_CP_E EV_CP_M
port=$ENGINE_PORT_BASE
for cp in "${EV_IDS[@]}"; do
  # The engine answers only its monitor, which runs here: 127.0.0.1.
  ev_start "engine-$cp" EV_CP_E "$IP2:$KAFKA_PORT" "$port"
  ev_start "monitor-$cp" EV_CP_M "127.0.0.1:$port" "$IP2:$CENTRAL_PORT" "$cp" \
    --location "$LOCATION" --price "$PRICE"
  port=$((port + 1))
done
ev_wait
