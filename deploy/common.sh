#!/usr/bin/env bash
# Shared by pc1.sh, pc2.sh and pc3.sh: finds the programs and runs several of them at once.
# Programs are looked up as binaries next to these scripts, then in ../dist, then run from
# the source tree with Deno (./dev installs it).
set -euo pipefail
EV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EV_ROOT="$(cd "$EV_DIR/.." && pwd)"

declare -A EV_ENTRY=([EV_Central]=central/main.ts [EV_CP_M]=cp_monitor/main.ts [EV_CP_E]=cp_engine/main.ts [EV_Driver]=driver/main.ts)
# The flags of scripts/programs.ts (tests/arguments_test.ts checks they agree).
declare -A EV_FLAGS=(
  [EV_Central]="--allow-net --allow-env --allow-sys=hostname,osRelease --allow-read --allow-write --v8-flags=--max-old-space-size=1024,--max-semi-space-size=16"
  [EV_CP_M]="--allow-net --allow-env"
  [EV_CP_E]="--allow-net --allow-env --allow-sys=hostname,osRelease"
  [EV_Driver]="--allow-net --allow-env --allow-sys=hostname,osRelease --allow-read --allow-write"
)

# Prints the command line (one word per line) that runs program $1.
ev_command() {
  local name="$1"
  for candidate in "$EV_DIR/$name" "$EV_ROOT/dist/$name"; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  if [ -f "$EV_ROOT/${EV_ENTRY[$name]}" ]; then
    # shellcheck source=../scripts/ensure-deno.sh
    source "$EV_ROOT/scripts/ensure-deno.sh" >&2
    echo "$(command -v deno)"; echo run; echo --quiet
    for p in ${EV_FLAGS[$name]}; do echo "$p"; done
    echo "$EV_ROOT/${EV_ENTRY[$name]}"
    return
  fi
  echo "error: $name not found next to this script, in dist/, or as source" >&2
  exit 1
}

# Checks that $1 looks like an IPv4 address or a host name.
ev_require_host() {
  if ! [[ "$1" =~ ^[A-Za-z0-9.-]+$ ]]; then
    echo "error: \"$1\" is not an IP address or host name" >&2
    exit 2
  fi
}

# Reads "<IP2> <ID> [ID …]" (IDs named $1 in the usage line) into IP2 and EV_IDS, or exits 2.
ev_parse_ip2_ids() {
  local what="$1"; shift
  if [ $# -lt 2 ]; then
    echo "usage: $(basename "$0") <IP2> <$what> [$what …]" >&2
    exit 2
  fi
  IP2="$1"; shift
  ev_require_host "$IP2"
  EV_IDS=("$@")
}

EV_PIDS=()
EV_TMUX_SESSION=""

# Starts "title" "program" args… — in a tmux pane when on a terminal with tmux, else in the
# background with its output in logs/<title>.log.
ev_start() {
  local title="$1" name="$2"; shift 2
  local -a cmd
  mapfile -t cmd < <(ev_command "$name")
  cmd+=("$@")
  if [ -n "$EV_TMUX_SESSION" ]; then
    local quoted; quoted=$(printf '%q ' "${cmd[@]}")
    if tmux has-session -t "$EV_TMUX_SESSION" 2>/dev/null; then
      tmux split-window -t "$EV_TMUX_SESSION" "$quoted" && tmux select-layout -t "$EV_TMUX_SESSION" tiled >/dev/null
    else
      tmux new-session -d -s "$EV_TMUX_SESSION" -x 200 -y 50 "$quoted"
      tmux set-option -t "$EV_TMUX_SESSION" remain-on-exit on >/dev/null
    fi
  else
    mkdir -p logs
    "${cmd[@]}" >"logs/$title.log" 2>&1 </dev/null &
    EV_PIDS+=($!)
    echo "started $title (pid $!, log logs/$title.log)"
  fi
}

# Use tmux for the panes when it is there and we are on a terminal.
ev_use_tmux() {
  if [ -t 0 ] && command -v tmux >/dev/null 2>&1 && [ -z "${EV_NO_TMUX:-}" ]; then
    EV_TMUX_SESSION="$1"
    tmux kill-session -t "$1" 2>/dev/null || true
  fi
}

# Shows the programs (attaches to tmux, or waits for the background ones) and stops them
# all with Ctrl+C when the user is done.
ev_wait() {
  if [ -n "$EV_TMUX_SESSION" ]; then
    echo "Attaching to tmux session $EV_TMUX_SESSION (Ctrl+b d detaches; then everything stops)"
    tmux attach -t "$EV_TMUX_SESSION" || true
    for pane in $(tmux list-panes -t "$EV_TMUX_SESSION" -F '#{pane_id}' 2>/dev/null); do
      tmux send-keys -t "$pane" C-c
    done
    sleep 3
    tmux kill-session -t "$EV_TMUX_SESSION" 2>/dev/null || true
  else
    # Background jobs of a script ignore SIGINT; our programs stop as cleanly on SIGTERM.
    trap 'echo "stopping…"; kill -TERM "${EV_PIDS[@]}" 2>/dev/null; wait' INT TERM
    echo "Running; Ctrl+C stops everything."
    wait
  fi
}
