#!/bin/sh
# Benchmark fixture: a fresh ternmail on loopback with domain example.test and
# users user0001..userNNNN (password pw), as the reference stack has them.
#   bench/ternmail-fixture.sh start DIR [USERS]   (env PROFILE_DIR=... adds --cpu-prof;
#                                                  NODE_FLAGS=... more node flags, e.g. --heapsnapshot-signal=SIGUSR2;
#                                                  WORKERS=N starts a cluster: --workers N;
#                                                  LOG_LEVEL=info logs every transaction, login and handoff)
#   bench/ternmail-fixture.sh stop DIR            (stops the server, removes DIR)
# Ports: SMTP 32525, submission 32587, POP3 32110, IMAP 32143, admin 32080 (env BENCH_PORT_BASE=32000).
# Writes DIR.pid and DIR.count (a count command printing `ternmail stats` JSON via the admin API).
set -eu
cmd=$1; dir=$2; users=${3:-1000}
base=${BENCH_PORT_BASE:-32000}
root=$(cd "$(dirname "$0")/.." && pwd)
main="$root/build/src/cli/main.js"
case "$cmd" in
start)
  rm -rf "$dir"; mkdir -p "$dir"
  prof=""
  if [ -n "${PROFILE_DIR:-}" ]; then prof="--cpu-prof --cpu-prof-dir=$PROFILE_DIR"; fi
  # As the shipped systemd unit and `npm start` run it (docs/operations.md, process memory).
  export MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1048576}
  # shellcheck disable=SC2086
  node $prof ${NODE_FLAGS:-} "$main" start --data "$dir" --smtp-port $((base + 525)) --submission-port $((base + 587)) \
    --pop3-port $((base + 110)) --imap-port $((base + 143)) --admin-port $((base + 80)) --log-level ${LOG_LEVEL:-warn} ${WORKERS:+--workers $WORKERS} \
    > "$dir.log" 2>&1 &
  echo $! > "$dir.pid"
  for _ in $(seq 1 300); do [ -f "$dir/admin.json" ] && break; sleep 0.1; done
  url=$(sed 's/.*"url":"\([^"]*\)".*/\1/' "$dir/admin.json")
  token=$(sed 's/.*"token":"\([^"]*\)".*/\1/' "$dir/admin.json")
  echo "curl -s -H 'authorization: Bearer $token' $url/v1/stats" > "$dir.count"
  if [ -n "${WORKERS:-}" ]; then
    # The primary's admin API is up before its workers: wait until all of them run.
    for _ in $(seq 1 300); do sh "$dir.count" | grep -q "\"workersRunning\":$WORKERS[,}]" && break; sleep 0.1; done
  fi
  node "$main" domain add example.test --data "$dir" > /dev/null
  i=1; : > "$dir.users"
  while [ $i -le "$users" ]; do printf 'user%04d@example.test pw\n' $i >> "$dir.users"; i=$((i + 1)); done
  node "$main" user import "$dir.users" --data "$dir"
  # A cluster's workers learn users from the primary's change feed (within a second).
  if [ -n "${WORKERS:-}" ]; then sleep 1.5; fi
  echo "server pid $(cat "$dir.pid"); count command: sh $dir.count"
  ;;
stop)
  if [ -f "$dir.pid" ]; then
    pid=$(cat "$dir.pid")
    t0=$(date +%s.%N)
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "server did not stop in 30 s: killed"; kill -KILL "$pid"; fi
    echo "shutdown took $(echo "$(date +%s.%N) - $t0" | bc) s; $(grep -c '"level":50' "$dir.log" || true) error lines in the log"
    grep -m 3 '"level":50' "$dir.log" | cut -c 1-400 || true
  fi
  rm -rf "$dir" "$dir.pid" "$dir.count" "$dir.users" "$dir.log"
  ;;
*) echo "usage: $0 start|stop DIR [USERS]" >&2; exit 2 ;;
esac
