#!/usr/bin/env bash
# PC1: one EV_Driver per driver id, each reading requests_<id>.txt (or requests.txt).
# Usage: ./pc1.sh <IP2> <DRIVER_ID> [DRIVER_ID …]     e.g. ./pc1.sh 192.168.1.20 D1 D2
source "$(dirname "$0")/common.sh"
ev_parse_ip2_ids DRIVER_ID "$@"
ev_use_tmux evcharging-pc1
for d in "${EV_IDS[@]}"; do
  file="requests_$d.txt"
  [ -f "$file" ] || file="requests.txt"
  if [ ! -f "$file" ]; then
    echo "error: neither requests_$d.txt nor requests.txt is here (one CP id per line)" >&2
    exit 1
  fi
  ev_start "driver-$d" EV_Driver "$IP2:${KAFKA_PORT:-9092}" "$d" --file "$file"
done
ev_wait
