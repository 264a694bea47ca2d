#!/usr/bin/env bash
# PC1: one EV_Driver per driver id, each reading requests_<id>.txt (or requests.txt).
# Usage: ./pc1.sh <IP2> <DRIVER_ID> [DRIVER_ID …]     e.g. ./pc1.sh 192.168.1.20 D1 D2
# Settings (environment, else defaults.env): KAFKA_PORT.
source "$(dirname "$0")/common.sh"
ev_parse_ip2_ids DRIVER_ID "$@"
ev_require_ports KAFKA_PORT
declare -A file
for d in "${EV_IDS[@]}"; do
  file[$d]="requests_$d.txt"
  [ -f "${file[$d]}" ] || file[$d]="requests.txt"
  [ -f "${file[$d]}" ] || ev_fail "neither requests_$d.txt nor requests.txt is here (one CP id per line)" 1
done
ev_begin evcharging-pc1 EV_Driver
for d in "${EV_IDS[@]}"; do
  ev_start "driver-$d" EV_Driver "$IP2:$KAFKA_PORT" "$d" --file "${file[$d]}"
done
ev_wait
