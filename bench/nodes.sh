#!/bin/bash
# Issue 12's benchmark: W1 and W3 against 1, 2 and 3 ternmail nodes of a cluster of machines,
# all on this one: node i runs `ternmail start --cluster … --node-id i --bind 127.0.0.(2+i)` with
# the bench port layout (SMTP 45525, IMAP 45643, POP3 45610, admin 45680), each node process in
# its own cgroup (v1, cpu + cpuacct) capped at Q cores; one nats-server (JetStream, 127.0.0.2:45422)
# runs outside the quotas and its CPU is reported. The loaders spread their connections over the
# nodes' addresses (HOST lists them).
#
#   bench/nodes.sh Q [N...] [--quick] [--workloads W1,W3]      e.g. bench/nodes.sh 0.3 1 2 3
#   (run as root; build first: npx tsc -p tsconfig.json)
#
# Per workload and N (default 1 2 3): fresh nats-server and nodes, example.test with
# user0001..user1000 / pw imported through node 1 (quota lifted meanwhile); W3 first stores 50
# users x 480 messages (anchor populate.py, through node 1). Then Q is set and the load runs:
#   W1: bench/smtp-deliver.js, 20,000 x 4 KiB over 50 sessions of 400 (end-to-end msg/s)
#   W3: bench/imap-load.js, 50 clients x 20 s (commands/s)
# With N >= 2, bench/node-hop.js measures the cross-node hop (request/reply to node 2 over NATS)
# while W1 runs, and idle after it. Prints one row per run: throughput, ratio to N = 1 (target
# >= 2.5x at N = 3), the nodes' CPU-seconds, NATS's CPU ms per unit of work, hop p50/p99.
# --quick: 2,000 messages, 40 messages per user and 5 s of IMAP (a smoke run: figures meaningless).
# Environment: NODE_ARGS (more flags for every node, e.g. "--session-proxy false" for an A/B of
# the session proxy), LOG_LEVEL (nodes' log level, default warn), KEEP=1 (keep the work folder
# with the nodes' logs and the loaders' output).
# PROFILE_DIR: each node runs under `node --cpu-prof`, its profile in PROFILE_DIR/N-nodes when it stops.
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
quick=0; workloads="W1 W3"; pos=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --workloads) workloads=$(echo "$2" | tr 'a-z,' 'A-Z '); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    *) pos+=("$1"); shift ;;
  esac
done
[ ${#pos[@]} -ge 1 ] || { usage >&2; exit 2; }
Q=${pos[0]}; ns=("${pos[@]:1}"); [ ${#ns[@]} -gt 0 ] || ns=(1 2 3)
root=$(cd "$(dirname "$0")/.." && pwd)
main="$root/build/src/cli/main.js"
anchors=${ANCHORS:-$root/../shared/anchors}
[ -f "$main" ] || { echo "no build: run npx tsc -p tsconfig.json" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (cgroups)" >&2; exit 2; }
command -v nats-server > /dev/null || { echo "nats-server is missing (apt-get install nats-server)" >&2; exit 2; }
CPU=${CGROUP_CPU:-/sys/fs/cgroup/cpu}; ACCT=${CGROUP_CPUACCT:-/sys/fs/cgroup/cpuacct}
period=100000; quota_us=$(echo "$Q * $period / 1" | bc)
grp=ternmail-nodes.$$; work=$(mktemp -d /tmp/bench-nodes.XXXXXX)
# NODES_PORT_BASE (default 45000): NATS +422, SMTP +525, submission +526, POP3 +610, IMAP +643, admin +680.
pb=${NODES_PORT_BASE:-45000}
NATS_HOST=127.0.0.2; NATS_PORT=$((pb + 422)); SMTP=$((pb + 525)); SUBM=$((pb + 526)); POP3=$((pb + 610)); IMAP=$((pb + 643)); ADMIN=$((pb + 680))
if [ "$quick" = 1 ]; then W1_MESSAGES=2000; W1_ARGS="--concurrency 10 --per-session 100"; W3_COUNT=40; W3_SECS=5
else W1_MESSAGES=${W1_MESSAGES:-20000}; W1_ARGS="--concurrency 50 --per-session 400"; W3_COUNT=480; W3_SECS=${W3_SECS:-20}; fi
mkdir "$CPU/$grp" "$ACCT/$grp" || exit 1

place() { # PID QUOTA
  mkdir -p "$CPU/$grp/p$1" "$ACCT/$grp/p$1"
  echo $period > "$CPU/$grp/p$1/cpu.cfs_period_us"; echo "$2" > "$CPU/$grp/p$1/cpu.cfs_quota_us"
  echo "$1" > "$CPU/$grp/p$1/cgroup.procs"; echo "$1" > "$ACCT/$grp/p$1/cgroup.procs"
}
set_quota() { for g in "$CPU/$grp"/p*/; do [ -d "$g" ] && echo "$1" > "$g/cpu.cfs_quota_us"; done; }
usage_ns() { cat "$ACCT/$grp"/p*/cpuacct.usage 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
remove_groups() {
  for h in "$CPU" "$ACCT"; do
    for g in "$h/$grp"/p*/; do
      [ -d "$g" ] || continue
      while read -r p; do echo "$p" > "$h/cgroup.procs" 2>/dev/null; done < "$g/cgroup.procs"
      rmdir "$g" 2>/dev/null
    done
  done
}
PIDS=(); NATS_PID=""
stop_all() {
  for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done; kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  [ -n "$NATS_PID" ] && { kill "$NATS_PID" 2>/dev/null; wait "$NATS_PID" 2>/dev/null; }
  PIDS=(); NATS_PID=""; remove_groups
}
cleanup() { stop_all; rmdir "$CPU/$grp" "$ACCT/$grp" 2>/dev/null; if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi; }
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

wait_count() { # N CMD
  local end=$(( $(date +%s) + 900 )) c
  while [ "$(date +%s)" -lt $end ]; do c=$(sh -c "$2" 2>/dev/null); [ "${c:-0}" -ge "$1" ] 2>/dev/null && return 0; sleep 0.5; done
  echo "stored ${c:-?} < $1" >&2; return 1
}

start_cluster() { # N: nats-server and N nodes, quota lifted; sets HOSTS (comma list) and COUNT (stored-message count command)
  local n=$1 i host
  mkdir -p "$work/nats"; rm -rf "$work/nats/js"
  printf 'listen: "%s:%s"\nmax_payload: 67108864\njetstream { store_dir: "%s" }\n' $NATS_HOST $NATS_PORT "$work/nats/js" > "$work/nats/nats.conf"
  nats-server -c "$work/nats/nats.conf" > "$work/nats.log" 2>&1 & NATS_PID=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/$NATS_HOST/$NATS_PORT") 2>/dev/null && break; sleep 0.1; done
  HOSTS=""
  for i in $(seq 1 "$n"); do
    host=127.0.0.$((2 + i)); rm -rf "$work/node$i"
    # shellcheck disable=SC2086
    node ${PROFILE_DIR:+--cpu-prof --cpu-prof-dir "$PROFILE_DIR/$1-nodes"} "$main" start --cluster "nats://$NATS_HOST:$NATS_PORT" --node-id "$i" --data "$work/node$i" --bind "$host" --admin-bind "$host" \
      --smtp-port $SMTP --submission-port $SUBM --pop3-port $POP3 --imap-port $IMAP --admin-port $ADMIN --log-level ${LOG_LEVEL:-warn} ${NODE_ARGS:-} > "$work/node$i.log" 2>&1 &
    PIDS+=($!); place $! -1
    HOSTS="${HOSTS:+$HOSTS,}$host"
  done
  for i in $(seq 1 "$n"); do for _ in $(seq 1 300); do [ -f "$work/node$i/admin.json" ] && break; sleep 0.1; done; done
  sleep 1
  node "$main" domain add example.test --data "$work/node1" > /dev/null
  for i in $(seq 1 1000); do printf 'user%04d@example.test pw\n' "$i"; done > "$work/users"
  node "$main" user import "$work/users" --data "$work/node1" > "$work/import.log" 2>&1 || { echo "import failed" >&2; return 1; }
  local url token
  url=$(sed 's/.*"url":"\([^"]*\)".*/\1/' "$work/node1/admin.json"); token=$(sed 's/.*"token":"\([^"]*\)".*/\1/' "$work/node1/admin.json")
  COUNT="curl -s -H 'authorization: Bearer $token' $url/v1/stats | sed -n 's/.*\"messages\":\\([0-9]*\\).*/\\1/p'"
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 100); do node "$main" user list --data "$work/node$i" 2>/dev/null | grep -q user1000 && break; sleep 0.2; done
  done
}

run() { # W N -> "W N rate units nodes_cpu_s nats_ms_per_unit hop_load hop_idle errors"
  local w=$1 n=$2 log="$work/$1-$2.log" u0 u1 k0 k1 rate units errors hop_load=- hop_idle=- hz
  start_cluster "$n" || { echo "$w $n - - - - - - start-failed"; stop_all; return; }
  if [ "$w" = W3 ]; then
    python3 "$anchors/populate.py" "${HOSTS%%,*}" $SMTP --users 1-50 --count "$W3_COUNT" > "$log.populate" 2>&1
    wait_count $((50 * W3_COUNT)) "$COUNT" >> "$log.populate" 2>&1; sleep 2
  fi
  set_quota "$quota_us"; hz=$(getconf CLK_TCK)
  u0=$(usage_ns); k0=$(proc_ticks "$NATS_PID")
  if [ "$w" = W1 ]; then
    local hop_pid=""
    if [ "$n" -ge 2 ]; then node "$root/build/bench/node-hop.js" "nats://$NATS_HOST:$NATS_PORT" 2 --count 3000 > "$log.hop" 2>&1 & hop_pid=$!; fi
    # shellcheck disable=SC2086
    node "$root/build/bench/smtp-deliver.js" "$HOSTS" $SMTP --messages "$W1_MESSAGES" $W1_ARGS --count-cmd "$COUNT" > "$log" 2>&1
    [ -n "$hop_pid" ] && wait "$hop_pid"
    rate=$(sed -n 's/.*end-to-end \([0-9,.]*\) msg\/s.*/\1/p' "$log" | head -1 | tr -d ,)
    units=$(sed -n 's/^accepted \([0-9,]*\)\/.*/\1/p' "$log" | head -1 | tr -d ,); units=${units:-$W1_MESSAGES}
    errors=$(sed -n 's/.*; \([0-9,]*\) failed.*/\1/p' "$log" | head -1 | tr -d ,)
    [ "$n" -ge 2 ] && hop_load=$(sed -n 's/.*p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1\/\2/p' "$log.hop")
  else
    node "$root/build/bench/imap-load.js" "$HOSTS" $IMAP --users 1-50 --clients 50 --secs "$W3_SECS" > "$log" 2>&1
    rate=$(sed -n 's/.* = \([0-9,.]*\) commands\/s.*/\1/p' "$log" | head -1 | tr -d ,)
    units=$(sed -n 's/.*errors, \([0-9,]*\) commands.*/\1/p' "$log" | head -1 | tr -d ,)
    errors=$(sed -n 's/.*cycles, \([0-9,]*\) errors.*/\1/p' "$log" | head -1 | tr -d ,)
  fi
  u1=$(usage_ns); k1=$(proc_ticks "$NATS_PID")
  if [ "$n" -ge 2 ]; then
    node "$root/build/bench/node-hop.js" "nats://$NATS_HOST:$NATS_PORT" 2 --count 3000 > "$log.hop-idle" 2>&1
    hop_idle=$(sed -n 's/.*p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1\/\2/p' "$log.hop-idle")
  fi
  local cpu nats_ms
  cpu=$(echo "scale=2; ($u1 - $u0) / 1000000000" | bc)
  nats_ms=$(echo "$k0 $k1 ${units:-0} $hz" | awk '{ printf "%.3f", ($3 > 0 ? ($2 - $1) * 1000 / $4 / $3 : 0) }')
  echo "$w $n ${rate:--} ${units:--} ${cpu:--} $nats_ms ${hop_load:--} ${hop_idle:--} ${errors:-?}"
  stop_all
}

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "date $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), Q = $Q per node$([ $quick = 1 ] && echo ', QUICK run')"
: > "$work/results"
for w in $workloads; do
  for n in "${ns[@]}"; do
    echo "-- $w, $n node(s)" >&2
    run "$w" "$n" >> "$work/results"; tail -1 "$work/results" >&2
  done
done
echo "| workload | nodes at Q | throughput | × one node | nodes' CPU-s | NATS CPU ms per unit | hop p50/p99 ms under W1 | hop p50/p99 ms idle | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
while read -r w n rate units cpu nats hl hi errors; do
  one=$(awk -v w="$w" '$1 == w && $2 == 1 { print $3 }' "$work/results")
  ratio="—"; [ "$rate" != - ] && [ -n "$one" ] && [ "$one" != - ] && ratio="$(echo "scale=2; $rate / $one" | bc | sed 's/^\./0./')×"
  echo "| $w | $n | $rate $([ "$w" = W1 ] && echo msg/s || echo commands/s) | $ratio | $cpu | $nats | $hl | $hi | $errors |"
done < "$work/results"
