#!/usr/bin/env bash
# PC3: one engine (EV_CP_E) and one monitor (EV_CP_M) per charging point.
# Usage: ./pc3.sh <IP2> <CP_ID> [CP_ID …]     e.g. ./pc3.sh 192.168.1.20 CP-01 CP-02
# The n-th CP's engine listens on port 7000+n. Options via env: CENTRAL_PORT (7000), PRICE.
source "$(dirname "$0")/common.sh"
ev_parse_ip2_ids CP_ID "$@"
ev_use_tmux evcharging-pc3
n=0
for cp in "${EV_IDS[@]}"; do
  n=$((n + 1))
  port=$((7000 + n))
  ev_start "engine-$cp" EV_CP_E "$IP2:${KAFKA_PORT:-9092}" "$port"
  ev_start "monitor-$cp" EV_CP_M "127.0.0.1:$port" "$IP2:${CENTRAL_PORT:-7000}" "$cp" \
    --location "${LOCATION:-$HOSTNAME}" --price "${PRICE:-0.35}"
done
ev_wait
