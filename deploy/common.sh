#!/usr/bin/env bash
# Shared by pc1.sh, pc2.sh and pc3.sh: the settings, finding the programs, and running several
# of them at once. Settings come from the environment, else from defaults.env (the .bat files
# read the same file). Programs are looked up as binaries next to these scripts, then in
# ../dist, then run from the source tree with Deno (./dev installs it).
set -euo pipefail
EV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EV_ROOT="$(cd "$EV_DIR/.." && pwd)"
EV_SCRIPT="$(basename "$0")"

declare -A EV_ENTRY=([EV_Central]=central/main.ts [EV_CP_M]=cp_monitor/main.ts [EV_CP_E]=cp_engine/main.ts [EV_Driver]=driver/main.ts)
# The flags of scripts/programs.ts (tests/arguments_test.ts checks they agree).
declare -A EV_FLAGS=(
  [EV_Central]="--allow-net --allow-env --allow-sys=hostname,osRelease --allow-read --allow-write --v8-flags=--max-old-space-size=1024,--max-semi-space-size=16"
  [EV_CP_M]="--allow-net --allow-env --allow-read"
  [EV_CP_E]="--allow-net --allow-env --allow-sys=hostname,osRelease --allow-read --allow-write"
  [EV_Driver]="--allow-net --allow-env --allow-sys=hostname,osRelease --allow-read --allow-write"
)

# Prints "<script>: error: $1" and exits with $2 (default 2, a bad argument or setting).
ev_fail() {
  echo "$EV_SCRIPT: error: $1" >&2
  exit "${2:-2}"
}

# Sets each setting of defaults.env that the environment leaves unset; LOCATION defaults to
# this PC's name.
ev_load_defaults() {
  local key value
  while IFS='=' read -r key value || [ -n "$key" ]; do
    [[ "$key" =~ ^[A-Z_]+$ ]] || continue # a comment or a blank line
    [ -n "${!key:-}" ] || printf -v "$key" '%s' "${value%$'\r'}"
  done <"$EV_DIR/defaults.env"
  LOCATION="${LOCATION:-$HOSTNAME}"
}
ev_load_defaults

# Checks that $2, named $1 in the error, is a port number.
ev_require_port() {
  if ! [[ "$2" =~ ^[1-9][0-9]{0,4}$ ]] || (($2 > 65535)); then
    ev_fail "$1 must be a number from 1 to 65535, got \"$2\""
  fi
}

# Checks the port settings named as arguments (those the calling script uses).
ev_require_ports() {
  local name
  for name in "$@"; do ev_require_port "$name" "${!name}"; done
}

# Sets EV_CMD to the command line that runs program $1, or exits 1.
ev_command() {
  local name="$1" candidate
  for candidate in "$EV_DIR/$name" "$EV_ROOT/dist/$name"; do
    if [ -x "$candidate" ]; then
      EV_CMD=("$candidate")
      return
    fi
  done
  [ -f "$EV_ROOT/${EV_ENTRY[$name]}" ] || ev_fail "$name not found next to this script, in dist/, or as source" 1
  # shellcheck source=../scripts/ensure-deno.sh
  source "$EV_ROOT/scripts/ensure-deno.sh" >&2
  # shellcheck disable=SC2206 # the flags are words
  EV_CMD=("$(command -v deno)" run --quiet ${EV_FLAGS[$name]} "$EV_ROOT/${EV_ENTRY[$name]}")
}

# Checks that $1 looks like an IPv4 address or a host name.
ev_require_host() {
  [[ "$1" =~ ^[A-Za-z0-9.-]+$ ]] || ev_fail "\"$1\" is not an IP address or host name"
}

# Reads "<IP2> <ID> [ID …]" (IDs named $1 in the usage line) into IP2 and EV_IDS, or exits 2.
ev_parse_ip2_ids() {
  local what="$1"
  shift
  if [ $# -lt 2 ]; then
    echo "usage: $EV_SCRIPT <IP2> <$what> [$what …]" >&2
    exit 2
  fi
  IP2="$1"
  shift
  ev_require_host "$IP2"
  EV_IDS=("$@")
}

EV_PIDS=()
EV_TMUX_NAME="" # the tmux session of the programs, when they run in tmux
EV_TMUX_ID=""   # its id, once created (ids, unlike names, never match another session)
declare -A EV_CMDS=()

# Prepares to run programs $2… in tmux session $1: in tmux when on a terminal with tmux (not
# with EV_NO_TMUX=1), else in the background. Finds every program first, so that a missing
# one stops the script before anything runs.
ev_begin() {
  local session="$1" name
  shift
  for name in "$@"; do
    ev_command "$name"
    EV_CMDS[$name]=$(printf '%q ' "${EV_CMD[@]}")
  done
  if [ -t 0 ] && command -v tmux >/dev/null 2>&1 && [ -z "${EV_NO_TMUX:-}" ]; then
    if [ -n "${TMUX:-}" ] && [ "$(tmux display-message -p '#{session_name}')" = "$session" ]; then
      ev_fail "this runs in tmux session $session, which the script replaces: run it from another"
    fi
    EV_TMUX_NAME="$session"
    tmux kill-session -t "=$session" 2>/dev/null || true # left by an earlier run
  fi
}

# The variables our programs read (EV_*, NO_COLOR) as `env` arguments: a tmux server that
# was already running gives its panes the environment it started with, not ours.
ev_tmux_env() {
  local v
  printf 'env '
  for v in $(compgen -e); do
    case "$v" in EV_* | NO_COLOR) printf '%q ' "$v=${!v}" ;; esac
  done
}

# Starts "title" "program" args… (the program named in ev_begin): in a tmux pane, or in the
# background with its output in logs/<title>.log.
ev_start() {
  local title="$1" name="$2"
  shift 2
  if [ -n "$EV_TMUX_NAME" ]; then
    local line
    line="$(ev_tmux_env)${EV_CMDS[$name]}$(printf '%q ' "$@")"
    if [ -z "$EV_TMUX_ID" ]; then
      # remain-on-exit in the same tmux command: a program that ends at once still shows why.
      EV_TMUX_ID=$(tmux new-session -d -P -F '#{session_id}' -s "$EV_TMUX_NAME" -x 200 -y 50 \
        -c "$PWD" "$line" \; set-option -t "=$EV_TMUX_NAME:" remain-on-exit on)
    else
      tmux split-window -t "$EV_TMUX_ID" -c "$PWD" "$line"
      tmux select-layout -t "$EV_TMUX_ID" tiled >/dev/null
    fi
  else
    local -a cmd
    eval "cmd=(${EV_CMDS[$name]})" # quoted by printf %q in ev_begin
    mkdir -p logs
    "${cmd[@]}" "$@" >"logs/$title.log" 2>&1 </dev/null &
    EV_PIDS+=($!)
    echo "started $title (pid $!, log logs/$title.log)"
  fi
}

# Stops every program: Ctrl+C in each pane (they end cleanly: a driver its charge, an engine
# its supply), then the session after at most 5 s; or SIGTERM to the background ones.
ev_stop() {
  trap - INT TERM HUP
  echo "stopping…"
  if [ -n "$EV_TMUX_ID" ]; then
    local pane i
    for pane in $(tmux list-panes -s -t "$EV_TMUX_ID" -F '#{pane_id}' 2>/dev/null); do
      tmux send-keys -t "$pane" C-c
    done
    for i in $(seq 50); do
      tmux list-panes -s -t "$EV_TMUX_ID" -F '#{pane_dead}' 2>/dev/null | grep -q 0 || break
      sleep 0.1
    done
    tmux kill-session -t "$EV_TMUX_ID" 2>/dev/null || true
  elif [ ${#EV_PIDS[@]} -gt 0 ]; then
    kill -TERM "${EV_PIDS[@]}" 2>/dev/null || true
    wait
  fi
}

# Shows the programs and stops them all when the user is done: inside tmux it switches to
# their session (attaching would nest tmux in tmux) and waits here for Ctrl+C or the session
# to close; on a terminal it attaches, until Ctrl+b d; otherwise it waits for Ctrl+C.
ev_wait() {
  trap 'ev_stop; exit 130' INT
  trap 'ev_stop; exit 143' TERM HUP
  if [ -n "$EV_TMUX_ID" ] && [ -n "${TMUX:-}" ]; then
    echo "The programs run in tmux session $EV_TMUX_NAME (Ctrl+b ( and ) switch sessions)."
    echo "Ctrl+C here stops them all."
    tmux switch-client -t "$EV_TMUX_ID" 2>/dev/null || true # no client to switch, e.g. detached
    while tmux has-session -t "$EV_TMUX_ID" 2>/dev/null; do sleep 1; done
  elif [ -n "$EV_TMUX_ID" ]; then
    echo "Attaching to tmux session $EV_TMUX_NAME (Ctrl+b d detaches; then everything stops)"
    tmux attach -t "$EV_TMUX_ID" || true
    ev_stop
  else
    # Background jobs of a script ignore SIGINT; our programs stop as cleanly on SIGTERM.
    echo "Running; Ctrl+C stops everything."
    wait
  fi
}
