#!/usr/bin/env bash
# End-to-end peer benchmark: Sluice vs nghttpx, HAProxy and nginx, with the
# load straight to one backend ("direct") as the limit and HAProxy in mode tcp
# ("l4", no HTTP/2 work at all) as the floor, all on 127.0.0.1. Row "sluice-retry" is sluice
# with a retryPolicy on every call: the cost of the attempt machinery beside plain "sluice".
#
# Each row gets 3 fresh sluice-testservers; the proxy runs on cpu 0 with one
# worker, the load generator and the backends on cpu 1 (design brief, section 7).
# Per row:
#   1. IDLE_CONNS idle h2 connections on the fresh proxy: RSS before/with them;
#   2. h2load warm-up run (WARMUP s), then a closed-loop run at full speed
#      (DURATION s): calls/s, p50/p99, proxy CPU us per call, upstream
#      connections (ss), and h2load's own CPU per call;
#   3. an h2load fixed-rate run at RATE calls/s: p50/p99 and CPU us per call;
#   4. sluice-load closed loop with the same connections and calls in flight
#      (DURATION s), then open loop at each of SL_RATES calls/s (1 s warm-up,
#      then SL_DURATION s measured): latency, errors, proxy CPU per call;
#   5. the backends' own "served N calls" counts (the load generators only
#      count successful calls).
# Prints Markdown tables, appends them to docs/benchmarks.md (DOC= to skip) and
# writes bench-out/peers.json. Every process it starts is stopped by PID.
# A missing peer is installed with apt-get when running as root, else skipped.
#
# Knobs (env): DURATION=10 WARMUP=2 CONNECTIONS=4 STREAMS=32 RATE=5000
#   IDLE_CONNS=10000 IDLE_HOLD=3 PROXIES="sluice sluice-retry nghttpx haproxy nginx"
#   ROWS="direct l4 $PROXIES" SL_RATES="1000 5000 20000" SL_DURATION=$DURATION
#   BIN=build/release/bin OUT_DIR=bench-out DOC=docs/benchmarks.md KEEP_WORK=0
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS_DIR="$ROOT/bench/peers"
BIN=${BIN:-$ROOT/build/release/bin}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
CONNECTIONS=${CONNECTIONS:-4}
STREAMS=${STREAMS:-32}
RATE=${RATE:-5000}
IDLE_CONNS=${IDLE_CONNS:-10000}
IDLE_HOLD=${IDLE_HOLD:-3}
PROXIES=${PROXIES:-sluice sluice-retry nghttpx haproxy nginx}
ROWS=${ROWS:-direct l4 $PROXIES}
SL_RATES=${SL_RATES:-1000 5000 20000}
SL_DURATION=${SL_DURATION:-$DURATION}
SL_WARMUP=1 # s; sluice-load open loop counts calls only after it.
OUT_DIR=${OUT_DIR:-$ROOT/bench-out}
DOC=${DOC-$ROOT/docs/benchmarks.md}
KEEP_WORK=${KEEP_WORK:-0}
PROXY_CPU=0
LOAD_CPU=1
PYTHON=/usr/bin/python3
GRPC_PATH=/sluice.test.v1.TestService/Unary

log() { printf '[run_peers] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Proxies inherit this; everyone needs it above IDLE_CONNS, HAProxy above
# 2 x maxconn. Without CAP_SYS_RESOURCE the hard limit is the ceiling.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/sluice-peers.XXXXXX)
STARTED_PIDS=()

# Children first (nginx and nghttpx fork workers), then the ones we started.
descendants() {
  local child
  for child in $(pgrep -P "$1" 2>/dev/null || true); do
    echo "$child"
    descendants "$child"
  done
}

cleanup() {
  local pid victims=()
  for pid in "${STARTED_PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    # shellcheck disable=SC2207 # PIDs: one word each.
    victims+=($(descendants "$pid") "$pid")
  done
  if ((${#victims[@]})); then
    kill -TERM "${victims[@]}" 2>/dev/null || true
    sleep 1
    kill -KILL "${victims[@]}" 2>/dev/null || true
  fi
  if [[ $KEEP_WORK == 1 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'log interrupted; exit 130' INT TERM

# Starts "$@" in the background with stdout/stderr in $WORK/NAME.{out,err};
# sets LAST_PID.
start_bg() {
  local name=$1
  shift
  rm -f "$WORK/$name.out" "$WORK/$name.err" # So no one reads a previous row's file.
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

# SIGTERM one PID we started and wait (up to 10 s) for it to exit.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# Prints the port of the first "listening on HOST:PORT" line of FILE.
wait_listening_line() {
  local file=$1 pid=$2 i line
  for ((i = 0; i < 100; i++)); do
    line=$(grep -sm1 '^listening on ' "$file" || true)
    if [[ -n $line ]]; then
      echo "${line##*:}"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

wait_port() {
  local port=$1 pid=$2 i
  for ((i = 0; i < 100; i++)); do
    [[ -n $(ss -ltnH "sport = :$port") ]] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# shellcheck disable=SC2046 # PIDs: one word each.
tree_pids() { echo "$1" $(descendants "$1"); }

# utime+stime in clock ticks, summed over a process tree.
cpu_ticks() {
  local total=0 pid fields
  for pid in $(tree_pids "$1"); do
    fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
    set -- $fields
    total=$((total + ${12} + ${13}))
  done
  echo "$total"
}

# The backends share cpu 1 with h2load: what a proxy makes them spend
# (e.g. by how it packs frames) moves calls/s.
backend_cpu_ticks() {
  local total=0 pid
  for pid in "${BACKEND_PIDS[@]}"; do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}

rss_kb() {
  local total=0 pid kb
  for pid in $(tree_pids "$1"); do
    kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || continue
    total=$((total + ${kb:-0}))
  done
  echo "$total"
}

# Established TCP connections from the proxy's processes to the backend ports.
upstream_conns() {
  local pids ports
  pids=$(tree_pids "$1" | tr ' ' '|')
  ports=$(echo "${BACKEND_PORTS[*]}" | tr ' ' '|')
  ss -tnpH state established |
    awk -v pids="($pids)" -v ports="($ports)" '
      { n = split($4, peer, ":"); if (peer[n] !~ "^" ports "$") next
        if ($0 ~ "pid=" pids ",") count++ }
      END { print count + 0 }'
}

# CPU_FILE, when given, gets h2load's own CPU time (bench/peers/cpu_time.py).
h2load_grpc() { # OUT_FILE LOG_FILE CPU_FILE PORT extra h2load args...
  local out=$1 logf=$2 cpu=$3 port=$4
  shift 4
  local log_args=() wrap=()
  if [[ -n $logf ]]; then
    rm -f "$logf" # h2load appends to an existing log file.
    log_args=(--log-file="$logf")
  fi
  if [[ -n $cpu ]]; then
    rm -f "$cpu"
    wrap=("$PYTHON" "$PEERS_DIR/cpu_time.py" "$cpu")
  fi
  taskset -c "$LOAD_CPU" timeout -k 5 $((DURATION + WARMUP + 60)) \
    "${wrap[@]}" h2load "$@" "${log_args[@]}" -d "$WORK/body.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$port$GRPC_PATH" >"$out" 2>&1 || true
}

# Runs sluice-load (extra args: the load shape) against the current target from
# cpu 1, its own CPU time recorded by cpu_time.py. Outputs go to
# $WORK/ROW-sl-TAG.{json,txt,cpu}; the env lines for the row go to SL_LINES.
sluice_load_run() { # ROW TAG SECONDS sluice-load args...
  local row=$1 tag=$2 seconds=$3 base="$WORK/$1-sl-$2" t0="" t1="" b0 b1
  shift 3
  rm -f "$base.json" "$base.cpu" "$base.txt"
  if [[ -n $PROXY_PID ]]; then t0=$(cpu_ticks "$PROXY_PID"); fi
  b0=$(backend_cpu_ticks)
  taskset -c "$LOAD_CPU" timeout -k 5 $((seconds + 60)) \
    "$PYTHON" "$PEERS_DIR/cpu_time.py" "$base.cpu" \
    "$BIN/sluice-load" "127.0.0.1:$PROXY_PORT" -c "$CONNECTIONS" -q --json "$base.json" "$@" \
    >"$base.txt" 2>&1 || true
  if [[ -n $PROXY_PID ]]; then t1=$(cpu_ticks "$PROXY_PID"); fi
  b1=$(backend_cpu_ticks)
  SL_LINES+=("sl_${tag}_json=$base.json" "sl_${tag}_cpu=$base.cpu" "sl_${tag}_out=$base.txt")
  SL_LINES+=("sl_${tag}_backend_ticks=$((b1 - b0))")
  if [[ -n $t0 ]]; then SL_LINES+=("sl_${tag}_proxy_ticks=$((t1 - t0))"); fi
  log "$row: sluice-load $tag: $(grep -m1 -E '^ +calls ' "$base.txt" | sed 's/^ *//' ||
    echo "no result: $(tail -1 "$base.txt")")"
}

# sluice-load closed loop (same connections and calls in flight as h2load),
# then open loop at each of SL_RATES.
sluice_load_phase() {
  local row=$1 rate tags=(closed)
  SL_LINES=()
  [[ -n $SL_SKIP ]] && return 0
  sluice_load_run "$row" closed "$DURATION" -n $((CONNECTIONS * STREAMS)) -d "${DURATION}s"
  for rate in $SL_RATES; do
    sluice_load_run "$row" "open-$rate" $((SL_DURATION + SL_WARMUP)) -r "$rate" \
      -d "$((SL_DURATION + SL_WARMUP))s" --warmup "${SL_WARMUP}s"
    tags+=("open-$rate")
  done
  SL_LINES+=("sl_runs=${tags[*]}")
}

start_backends() {
  local i
  BACKEND_PIDS=()
  BACKEND_PORTS=()
  for i in 1 2 3; do
    start_bg "backend$i" taskset -c "$LOAD_CPU" "$BIN/sluice-testserver" --listen 127.0.0.1:0 --id "b$i"
    BACKEND_PIDS+=("$LAST_PID")
    BACKEND_PORTS+=("$(wait_listening_line "$WORK/backend$i.out" "$LAST_PID")") ||
      die "sluice-testserver $i did not start: $(cat "$WORK/backend$i.err")"
  done
}

# Stops the backends; prints their served-call counts, space separated.
stop_backends() {
  local i pid counts=()
  for i in 0 1 2; do
    pid=${BACKEND_PIDS[$i]}
    stop_pid "$pid"
    counts+=("$(sed -n 's/^served \([0-9]*\) calls.*/\1/p' "$WORK/backend$((i + 1)).out" | tail -1)")
  done
  echo "${counts[*]}"
}

# HAProxy refuses to start if 2 x maxconn (+ a few) exceeds the fd limit, and
# without CAP_SYS_RESOURCE the limit cannot be raised past the hard limit.
haproxy_maxconn() {
  local fit=$((($(ulimit -n) - 300) / 2)) want=$((IDLE_CONNS + 100))
  echo $((want < fit ? want : fit))
}

fill_template() { # TEMPLATE OUT
  sed -e "s|@LISTEN_PORT@|$PROXY_PORT|g" -e "s|@RUN_DIR@|$RUN_DIR|g" \
    -e "s|@FD_LIMIT@|$(ulimit -n)|g" -e "s|@HAPROXY_MAXCONN@|$(haproxy_maxconn)|g" \
    -e "s|@NGINX_WORKER_CONNECTIONS@|$((IDLE_CONNS + 1000))|g" \
    -e "s|@BACKEND_PORT_1@|${BACKEND_PORTS[0]}|g" \
    -e "s|@BACKEND_PORT_2@|${BACKEND_PORTS[1]}|g" \
    -e "s|@BACKEND_PORT_3@|${BACKEND_PORTS[2]}|g" "$1" >"$2"
}

# True if COMMAND is here. If not and we are root, tries `apt-get install -y
# PACKAGE` once per run first; otherwise PEER_MISSING says why it is not.
declare -A APT_TRIED=()
have_peer() { # COMMAND PACKAGE
  local cmd=$1 pkg=$2 aptlog="$WORK/apt-$2.log"
  command -v "$cmd" >/dev/null && return 0
  PEER_MISSING="$cmd not installed (package $pkg; not root, so not installed here)"
  [[ $(id -u) == 0 ]] || return 1
  if [[ -z ${APT_TRIED[$pkg]:-} ]]; then
    APT_TRIED[$pkg]=1
    log "$cmd not found: apt-get install -y $pkg"
    # It installs the package only: a service Debian starts with it is the machine's own
    # (the benchmark runs its instances on free ports).
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" \
      >"$aptlog" 2>&1 || true
  fi
  local why
  why=$(tail -1 "$aptlog" 2>/dev/null || true)
  PEER_MISSING="$cmd not installed (apt-get install -y $pkg failed: $why)"
  command -v "$cmd" >/dev/null
}

# The third-party program row NAME needs, installed if missing (see have_peer).
ensure_row_peer() {
  case $1 in
    nghttpx) have_peer nghttpx nghttp2-proxy ;;
    haproxy | l4) have_peer haproxy haproxy ;;
    nginx) have_peer nginx nginx-light ;;
    *) return 0 ;;
  esac
}

# Starts proxy NAME over the current backends; sets PROXY_PID and PROXY_PORT.
# Returns 1 (with SKIP_REASON) if it cannot run here.
start_proxy() {
  local name=$1
  RUN_DIR="$WORK/$name"
  mkdir -p "$RUN_DIR"
  SKIP_REASON=""
  PROXY_PID=""
  ensure_row_peer "$name" || { SKIP_REASON=$PEER_MISSING; return 1; }
  case $name in
    direct)
      PROXY_PID=""
      PROXY_PORT=${BACKEND_PORTS[0]}
      return 0
      ;;
    sluice)
      [[ -x $BIN/sluice ]] || { SKIP_REASON="$BIN/sluice not built"; return 1; }
      local upstreams=() port
      for port in "${BACKEND_PORTS[@]}"; do upstreams+=(--upstream "127.0.0.1:$port"); done
      start_bg sluice taskset -c "$PROXY_CPU" "$BIN/sluice" --listen 127.0.0.1:0 "${upstreams[@]}" \
        --workers 1 --admin 127.0.0.1:0 --log-level warn
      PROXY_PID=$LAST_PID
      PROXY_PORT=$(wait_listening_line "$WORK/sluice.out" "$PROXY_PID") ||
        { SKIP_REASON="sluice did not start: $(tail -5 "$WORK/sluice.err")"; return 1; }
      ;;
    sluice-retry)
      # The same proxy with a retryPolicy on every call (none is ever retried here): what the
      # attempt machinery costs a call that succeeds first time.
      [[ -x $BIN/sluice ]] || { SKIP_REASON="$BIN/sluice not built"; return 1; }
      {
        printf 'workers: 1\nadmin: {address: 127.0.0.1:0}\n'
        printf 'listeners: [{name: main, address: 127.0.0.1:0}]\nclusters:\n  - name: backends\n'
        printf '    service_config: |\n'
        printf '      {"methodConfig": [{"name": [{}], "retryPolicy": {"maxAttempts": 3,\n'
        printf '        "initialBackoff": "0.05s", "maxBackoff": "1s", "backoffMultiplier": 2,\n'
        printf '        "retryableStatusCodes": ["UNAVAILABLE"]}}]}\n    endpoints:\n'
        for port in "${BACKEND_PORTS[@]}"; do printf '      - 127.0.0.1:%s\n' "$port"; done
      } >"$RUN_DIR/sluice.yaml"
      start_bg sluice-retry taskset -c "$PROXY_CPU" "$BIN/sluice" --config "$RUN_DIR/sluice.yaml" \
        --log-level warn
      PROXY_PID=$LAST_PID
      PROXY_PORT=$(wait_listening_line "$WORK/sluice-retry.out" "$PROXY_PID") ||
        { SKIP_REASON="sluice did not start: $(tail -5 "$WORK/sluice-retry.err")"; return 1; }
      ;;
    nghttpx)
      PROXY_PORT=$(free_port)
      local backends=() port
      for port in "${BACKEND_PORTS[@]}"; do backends+=("--backend=127.0.0.1,$port;;proto=h2"); done
      start_bg nghttpx taskset -c "$PROXY_CPU" nghttpx --conf=/dev/null \
        "--frontend=127.0.0.1,$PROXY_PORT;no-tls" "${backends[@]}" -n1 --log-level=WARN
      PROXY_PID=$LAST_PID
      ;;
    haproxy)
      PROXY_PORT=$(free_port)
      fill_template "$PEERS_DIR/haproxy.cfg.in" "$RUN_DIR/haproxy.cfg"
      start_bg haproxy taskset -c "$PROXY_CPU" haproxy -db -f "$RUN_DIR/haproxy.cfg"
      PROXY_PID=$LAST_PID
      ;;
    l4)
      PROXY_PORT=$(free_port)
      fill_template "$PEERS_DIR/haproxy-tcp.cfg.in" "$RUN_DIR/haproxy.cfg"
      start_bg l4 taskset -c "$PROXY_CPU" haproxy -db -f "$RUN_DIR/haproxy.cfg"
      PROXY_PID=$LAST_PID
      ;;
    nginx)
      if nginx -V 2>&1 | grep -q -- '--without-http_grpc_module'; then
        SKIP_REASON="nginx built without the grpc module (try nginx-full/nginx-extras)"
        return 1
      fi
      PROXY_PORT=$(free_port)
      fill_template "$PEERS_DIR/nginx.conf.in" "$RUN_DIR/nginx.conf"
      if ! nginx -t -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" -e "$RUN_DIR/nginx-error.log" \
        >"$RUN_DIR/nginx-t.log" 2>&1; then
        SKIP_REASON="nginx -t failed: $(grep -m1 emerg "$RUN_DIR/nginx-t.log")"
        return 1
      fi
      start_bg nginx taskset -c "$PROXY_CPU" nginx -p "$RUN_DIR" -c "$RUN_DIR/nginx.conf" \
        -e "$RUN_DIR/nginx-error.log"
      PROXY_PID=$LAST_PID
      ;;
    *)
      SKIP_REASON="unknown proxy"
      return 1
      ;;
  esac
  wait_port "$PROXY_PORT" "$PROXY_PID" ||
    { SKIP_REASON="$name did not start listening: $(tail -3 "$WORK/$name.err")"; return 1; }
}

# Opens IDLE_CONNS idle h2 connections; records RSS before, with and after.
idle_phase() {
  local row=$1 i
  RSS_BEFORE=$(rss_kb "$PROXY_PID")
  start_bg "$row-idle" taskset -c "$LOAD_CPU" timeout -k 5 300 \
    "$PYTHON" "$PEERS_DIR/idle_conns.py" 127.0.0.1 "$PROXY_PORT" "$IDLE_CONNS" "$IDLE_HOLD"
  local idle_pid=$LAST_PID
  RSS_WITH=""
  for ((i = 0; i < 2400; i++)); do
    if grep -qs '^ready' "$WORK/$row-idle.out"; then
      sleep 1
      RSS_WITH=$(rss_kb "$PROXY_PID")
      break
    fi
    kill -0 "$idle_pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$idle_pid" 2>/dev/null || true
  sleep 1
  RSS_AFTER=$(rss_kb "$PROXY_PID")
  IDLE_READY=$(grep -m1 '^ready' "$WORK/$row-idle.out" || true)
  IDLE_RESULT=$(grep -m1 '^{' "$WORK/$row-idle.out" || echo '{}')
}

run_row() {
  local row=$1 env="$WORK/rows/$1.env"
  log "== $row"
  start_backends
  if ! start_proxy "$row"; then
    log "skipping $row: $SKIP_REASON"
    stop_backends >/dev/null
    if [[ -n ${PROXY_PID:-} ]]; then stop_pid "$PROXY_PID"; fi
    printf 'name=%s\nskipped=%s\n' "$row" "$SKIP_REASON" >"$env"
    return 0
  fi
  local target=${PROXY_PID:-}

  # Idle connections first, on a fresh process: heap freed by the load runs
  # would otherwise hide part of the per-connection cost.
  RSS_BEFORE="" RSS_WITH="" RSS_AFTER="" IDLE_READY="" IDLE_RESULT="{}"
  if [[ -n $target ]]; then
    log "$row: $IDLE_CONNS idle connections"
    idle_phase "$row"
  fi

  h2load_grpc "$WORK/$row-warmup.txt" "" "" "$PROXY_PORT" \
    -c "$CONNECTIONS" -m "$STREAMS" -D "$WARMUP"

  # Closed loop, as fast as it goes; sample upstream connections every second.
  local cpu0 cpu1 bcpu0 bcpu1 samples=()
  if [[ -n $target ]]; then cpu0=$(cpu_ticks "$target"); fi
  bcpu0=$(backend_cpu_ticks)
  h2load_grpc "$WORK/$row-max.txt" "$WORK/$row-max.log" "$WORK/$row-max.cpu" "$PROXY_PORT" \
    -c "$CONNECTIONS" -m "$STREAMS" -D "$DURATION" &
  local load_pid=$!
  STARTED_PIDS+=("$load_pid")
  while kill -0 "$load_pid" 2>/dev/null; do
    sleep 1
    if [[ -n $target ]] && kill -0 "$load_pid" 2>/dev/null; then
      samples+=("$(upstream_conns "$target")")
    fi
  done
  wait "$load_pid" || true
  if [[ -n $target ]]; then cpu1=$(cpu_ticks "$target"); fi
  bcpu1=$(backend_cpu_ticks)

  # Open loop at RATE calls/s (h2load --rps is per connection).
  local rcpu0 rcpu1 rps_per_conn=$(((RATE + CONNECTIONS - 1) / CONNECTIONS))
  if [[ -n $target ]]; then rcpu0=$(cpu_ticks "$target"); fi
  h2load_grpc "$WORK/$row-rate.txt" "$WORK/$row-rate.log" "" "$PROXY_PORT" \
    -c "$CONNECTIONS" -m "$STREAMS" --rps "$rps_per_conn" -D "$DURATION"
  if [[ -n $target ]]; then rcpu1=$(cpu_ticks "$target"); fi

  sluice_load_phase "$row"

  local alive=1
  if [[ -n $target ]]; then
    kill -0 "$target" 2>/dev/null || alive=0
    if [[ $row == sluice ]]; then
      curl -s --max-time 2 "http://$(sed -n 's/^admin listening on //p' "$WORK/sluice.out")/metrics" \
        >"$OUT_DIR/sluice-metrics.txt" 2>/dev/null || true
    fi
    stop_pid "$target"
  fi
  local counts
  counts=$(stop_backends)
  {
    echo "name=$row"
    echo "proxy_alive_at_end=$alive"
    if [[ -n $target ]]; then
      echo "cpu_ticks_max=$((cpu1 - cpu0))"
      echo "cpu_ticks_rate=$((rcpu1 - rcpu0))"
      if [[ $row == nginx ]]; then
        echo "stderr_file=$RUN_DIR/nginx-error.log"
      else
        echo "stderr_file=$WORK/$row.err"
      fi
    fi
    echo "backend_cpu_ticks_max=$((bcpu1 - bcpu0))"
    echo "upstream_conn_samples=${samples[*]}"
    echo "backend_calls=$counts"
    echo "rps_per_conn=$rps_per_conn"
    echo "rss_before_kb=$RSS_BEFORE"
    echo "rss_with_idle_kb=$RSS_WITH"
    echo "rss_after_idle_kb=$RSS_AFTER"
    echo "idle_ready=$IDLE_READY"
    echo "idle_result=$IDLE_RESULT"
    echo "warmup_out=$WORK/$row-warmup.txt"
    echo "max_out=$WORK/$row-max.txt"
    echo "max_log=$WORK/$row-max.log"
    echo "rate_out=$WORK/$row-rate.txt"
    echo "rate_log=$WORK/$row-rate.log"
    echo "max_cpu=$WORK/$row-max.cpu"
    if [[ $row == sluice ]]; then echo "metrics_file=$OUT_DIR/sluice-metrics.txt"; fi
    if ((${#SL_LINES[@]})); then printf '%s\n' "${SL_LINES[@]}"; fi
  } >"$env"
  log "$row: backends served $counts; $(grep -m1 '^finished' "$WORK/$row-max.txt" || echo 'no h2load result')"
}

version_of() {
  command -v "$1" >/dev/null || { echo "$1 not installed"; return 0; }
  "$@" 2>&1 | head -1 || true
}

# "built DATE, tree at COMMIT[ + local changes]" for one of our binaries.
built_info() {
  [[ -e $1 ]] || { echo "not built"; return 0; }
  local commit changes=""
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
  git -C "$ROOT" diff --quiet HEAD -- src apps 2>/dev/null || changes=" + local changes"
  echo "built $(date -u -r "$1" '+%Y-%m-%d %H:%M UTC'), tree at $commit$changes"
}

main() {
  mkdir -p "$WORK/rows" "$OUT_DIR"
  have_peer h2load nghttp2-client || die "$PEER_MISSING"
  [[ -x $BIN/sluice-testserver ]] || die "$BIN/sluice-testserver not built"
  SL_SKIP=""
  if [[ ! -x $BIN/sluice-load ]]; then
    SL_SKIP="$BIN/sluice-load not built"
    log "skipping the sluice-load runs: $SL_SKIP"
  fi
  printf '\0\0\0\0\0' >"$WORK/body.bin" # gRPC frame: flag 0, length 0, empty CallRequest.
  # Missing peers are installed before their versions are recorded below.
  local row
  for row in $ROWS; do ensure_row_peer "$row" || log "$PEER_MISSING"; done

  {
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "nproc=$(nproc)"
    echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "kernel=$(uname -sr)"
    echo "sluice_version=$(version_of "$BIN/sluice" --version)"
    echo "sluice_build=$(built_info "$BIN/sluice")"
    echo "nghttpx_version=$(version_of nghttpx --version)"
    echo "haproxy_version=$(version_of haproxy -v)"
    echo "nginx_version=$(version_of nginx -v)"
    echo "h2load_version=$(version_of h2load --version)"
    echo "sluice_load_build=$(built_info "$BIN/sluice-load")"
    echo "sluice_load_skipped=$SL_SKIP"
    echo "sl_rates=$SL_RATES"
    echo "sl_duration_s=$SL_DURATION"
    echo "sl_warmup_s=$SL_WARMUP"
    echo "fd_limit=$(ulimit -n)"
    echo "haproxy_maxconn=$(haproxy_maxconn)"
    echo "clk_tck=$(getconf CLK_TCK)"
    echo "duration_s=$DURATION"
    echo "warmup_s=$WARMUP"
    echo "connections=$CONNECTIONS"
    echo "streams=$STREAMS"
    echo "rate=$RATE"
    echo "idle_conns=$IDLE_CONNS"
    local knobs='DURATION|WARMUP|CONNECTIONS|STREAMS|RATE|IDLE_CONNS|IDLE_HOLD|PROXIES|ROWS|SL_RATES'
    echo "command=$(env | grep -E "^($knobs|SL_DURATION)=" | tr '\n' ' ')bench/run_peers.sh"
    echo "rows=$ROWS"
  } >"$WORK/meta.env"

  for row in $ROWS; do run_row "$row"; done

  local md="$WORK/table.md"
  "$PYTHON" "$PEERS_DIR/summarize.py" "$WORK" "$OUT_DIR/peers.json" "$md"
  cat "$md"
  if [[ -n $DOC ]]; then
    { echo; cat "$md"; } >>"$DOC"
    log "appended to $DOC"
  fi
  log "wrote $OUT_DIR/peers.json"
}

main "$@"
