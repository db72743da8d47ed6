#!/bin/bash
# Scaling under CPU quotas (performance issue, item 4): every ternmail server process gets its own
# cgroup (v1, cpu + cpuacct) capped at Q cores, so that "N workers against one process" can be
# shown on a 2-core machine: one process at Q, then `--workers N` (a primary plus N workers, each
# process at Q) for every N given. The load generator runs outside any quota.
#
#   bench/quota-scaling.sh Q N... [--quick] [--workloads W1,W3] [--ternmail-args "..."]
#   e.g. bench/quota-scaling.sh 0.3 2 4          (run as root; build first: npx tsc -p tsconfig.json)
#
# For each workload and each configuration (one process, then each N) it starts a fresh ternmail
# (bench/harness-lib.sh: example.test, user0001..user1000 / pw), places its processes, runs the
# load, stops it and removes the cgroups. It prints throughput, its ratio to one process at the
# same Q (targets at N = 2: >= 1.8x, N = 4: >= 3.4x), the server's CPU-seconds (cpuacct, all its
# processes) per unit of work, and the share of CFS periods in which a server process was throttled.
#   W1: bench/smtp-deliver.js, 20,000 x 4 KiB over 50 sessions of 400 (end-to-end msg/s)
#   W3: populate.py users 1-50 x 480, then bench/imap-load.js, 50 clients x 20 s (commands/s)
#   LOADER=anchor uses the anchor loaders instead (w1-smtp-deliver.py --per-session 400, needs
#   smtp-source; imap-load.py): they cost the shared cores more CPU per unit.
# --quick: 2,000 messages; 40 messages per user and 5 s of IMAP (a smoke run: figures meaningless).
#
# Placement: a poller (every second) walks the server's process tree and puts every process not yet
# placed into its own group <cpu>/ternmail-quota.<pid>/p<PID> with cfs_quota_us = Q x period; a
# worker the primary restarts later starts in the primary's group (fork inherits it) and is moved
# into its own within a second. Setup (user import, populate) runs with the quota lifted
# (cfs_quota_us = -1); Q is set on every group just before the load and kept until the server stops.
# On exit every group is emptied back into the root group and removed.
#
# Environment: ANCHORS=DIR (default <repo>/../shared/anchors), HOST (127.0.0.1), QS_PORT_BASE
# (25000: SMTP +525, IMAP +143, admin +80), CGROUP_CPU / CGROUP_CPUACCT (/sys/fs/cgroup/cpu,
# /sys/fs/cgroup/cpuacct), W1_MESSAGES, W3_SECS, LOADER=node|anchor.
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
quick=0; workloads="W1 W3"; tm_args=""; pos=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; shift ;;
    --workloads) workloads=$(echo "$2" | tr 'a-z,' 'A-Z '); shift 2 ;;
    --ternmail-args) tm_args=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
    *) pos+=("$1"); shift ;;
  esac
done
[ ${#pos[@]} -ge 2 ] || { usage >&2; exit 2; }
Q=${pos[0]}; ns=("${pos[@]:1}")
echo "$Q" | grep -Eq '^([0-9]+\.?[0-9]*|\.[0-9]+)$' && [ "$(echo "$Q > 0" | bc)" = 1 ] || { echo "Q must be a positive number of cores, e.g. 0.3" >&2; exit 2; }
for n in "${ns[@]}"; do echo "$n" | grep -Eq '^[1-9][0-9]*$' || { echo "N must be a positive integer, not $n" >&2; exit 2; }; done
for w in $workloads; do case $w in W1|W3) ;; *) echo "quota-scaling runs W1 and W3 only, not $w" >&2; exit 2 ;; esac; done

# shellcheck source=bench/harness-lib.sh
. "$(dirname "$0")/harness-lib.sh"
root=$harness_root
anchors=${ANCHORS:-$root/../shared/anchors}
[ -f "$anchors/populate.py" ] || { echo "anchor scripts not found in $anchors (set ANCHORS=DIR)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run as root (cgroups)" >&2; exit 2; }
CPU=${CGROUP_CPU:-/sys/fs/cgroup/cpu}; ACCT=${CGROUP_CPUACCT:-/sys/fs/cgroup/cpuacct}
[ -f "$CPU/cpu.cfs_quota_us" ] || { echo "no cgroup v1 cpu controller at $CPU (set CGROUP_CPU)" >&2; exit 2; }
[ -f "$ACCT/cpuacct.usage" ] || { echo "no cgroup v1 cpuacct controller at $ACCT (set CGROUP_CPUACCT)" >&2; exit 2; }
base=${QS_PORT_BASE:-25000}
loader=${LOADER:-node}
period=100000
quota_us=$(echo "$Q * $period / 1" | bc)
[ "$quota_us" -ge 1000 ] || { echo "Q too small: cfs_quota_us must be >= 1000" >&2; exit 2; }
grp=ternmail-quota.$$
work=$(mktemp -d /tmp/quota-scaling.XXXXXX)
if [ "$quick" = 1 ]; then
  W1_MESSAGES=${W1_MESSAGES:-2000}; W1_ARGS="--concurrency 10 --per-session 100"; W3_COUNT=40; W3_SECS=${W3_SECS:-5}
else
  W1_MESSAGES=${W1_MESSAGES:-20000}; W1_ARGS="--concurrency 50 --per-session 400"; W3_COUNT=480; W3_SECS=${W3_SECS:-20}
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ------------------------------------------------------------------ cgroups
mkdir "$CPU/$grp" "$ACCT/$grp" || exit 1
echo -1 > "$work/quota"        # what the poller gives a newly placed process: -1 = no limit (setup)
place() { # PID: its own group in both hierarchies, with the current quota
  local c="$CPU/$grp/p$1" a="$ACCT/$grp/p$1"
  mkdir -p "$c" "$a" 2>/dev/null || return 0
  echo $period > "$c/cpu.cfs_period_us"; cat "$work/quota" > "$c/cpu.cfs_quota_us"
  echo "$1" > "$c/cgroup.procs" 2>/dev/null && echo "$1" > "$a/cgroup.procs" 2>/dev/null \
    && echo "$(date -u +%T) placed pid $1 ($(tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | cut -c 1-60)) quota $(cat "$c/cpu.cfs_quota_us")" >> "$work/placements"
}
poller() { # SERVER_PID: every second, place each process of its tree not placed yet
  while kill -0 "$1" 2>/dev/null; do
    for p in $(tree_pids "$1"); do [ -d "$CPU/$grp/p$p" ] || place "$p"; done
    sleep 1
  done
}
set_quota() { # VALUE for every group (and for those placed later)
  echo "$1" > "$work/quota"
  for g in "$CPU/$grp"/p*/; do [ -d "$g" ] && echo "$1" > "$g/cpu.cfs_quota_us"; done
}
usage_ns() { cat "$ACCT/$grp"/p*/cpuacct.usage 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
throttle() { cat "$CPU/$grp"/p*/cpu.stat 2>/dev/null | awk '$1 == "nr_periods" { p += $2 } $1 == "nr_throttled" { t += $2 } END { printf "%.0f %.0f\n", p, t }'; }
placed_pids() { cat "$CPU/$grp"/p*/cgroup.procs 2>/dev/null | sort -n | tr '\n' ' '; }
# Move whatever is left back to the root groups and remove ours; 1 if anything could not be removed.
remove_groups() {
  local h g rc=0
  for h in "$CPU" "$ACCT"; do
    [ -d "$h/$grp" ] || continue
    for g in "$h/$grp"/p*/; do
      [ -d "$g" ] || continue
      while read -r p; do echo "$p" > "$h/cgroup.procs" 2>/dev/null; done < "$g/cgroup.procs"
      rmdir "$g" 2>/dev/null || rc=1
    done
  done
  return $rc
}
POLLER=""
stop_run() {
  tm_stop; local rc=$?
  if [ -n "$POLLER" ]; then kill "$POLLER" 2>/dev/null; wait "$POLLER" 2>/dev/null; POLLER=""; fi
  remove_groups || { echo "could not remove a cgroup under $grp" >&2; rc=1; }
  echo -1 > "$work/quota"
  return $rc
}
cleanup() {
  stop_run > /dev/null 2>&1
  remove_groups
  rmdir "$CPU/$grp" "$ACCT/$grp" 2>/dev/null
  if [ -d "$CPU/$grp" ] || [ -d "$ACCT/$grp" ]; then echo "WARNING: cgroup $grp not removed" >&2; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

wait_count() { # N CMD [SECS]
  local end=$(( $(date +%s) + ${3:-900} )) c
  while [ "$(date +%s)" -lt $end ]; do
    c=$(sh -c "$2" 2>/dev/null); [ "${c:-0}" -ge "$1" ] 2>/dev/null && return 0
    sleep 0.5
  done
  echo "store holds ${c:-?} < $1 messages after ${3:-900} s" >&2; return 1
}

# ------------------------------------------------------------------ one measured run
# run WORKLOAD N (1 = one process, no --workers): prints "W N rate units cpu_s throttled% errors"
run() {
  local w=$1 n=$2 log="$work/$1-$2.log" args=() expect populate_failed=""
  [ "$n" -gt 1 ] && args=(--workers "$n")
  # shellcheck disable=SC2206
  args+=($tm_args)
  # Up to three starts: the fixture's ports lie in the kernel's ephemeral range, so an outgoing
  # connection of anything on the machine can hold one of them for a while (EADDRINUSE).
  local started=""
  for _ in 1 2 3; do
    if tm_start "$work/tm" "$base" "${args[@]}"; then started=1; break; fi
    stop_run >&2; sleep 2
  done
  if [ -z "$started" ]; then echo "$w $n - - - - start-failed"; return; fi
  poller "$TM_PID" & POLLER=$!
  expect=$(( n > 1 ? n + 1 : 1 ))
  for _ in $(seq 1 50); do [ "$(placed_pids | wc -w)" -ge "$expect" ] && break; sleep 0.2; done
  if [ "$w" = W3 ]; then
    python3 "$anchors/populate.py" "$HOST" $((base + 525)) --users 1-50 --count "$W3_COUNT" > "$log.populate" 2>&1
    wait_count $((50 * W3_COUNT)) "$TM_COUNT" >> "$log.populate" 2>&1 || populate_failed="+populate"
    sleep 2
  fi
  local tree placed
  tree=$(tree_pids "$TM_PID" | sort -n | tr '\n' ' '); placed=$(placed_pids)
  echo "$w N=$n server tree: $tree; placed: $placed" >> "$work/placements"
  set_quota "$quota_us"
  echo "$w N=$n cfs_quota_us $quota_us set on every group" >> "$work/placements"
  local u0 t0 u1 t1 rate units errors
  u0=$(usage_ns); t0=$(throttle)
  if [ "$w" = W1 ]; then
    if [ "$loader" = anchor ]; then
      # shellcheck disable=SC2086
      python3 "$anchors/w1-smtp-deliver.py" "$HOST" $((base + 525)) --messages "$W1_MESSAGES" $W1_ARGS --count-cmd "$TM_COUNT" > "$log" 2>&1
    else
      # shellcheck disable=SC2086
      node "$root/build/bench/smtp-deliver.js" "$HOST" $((base + 525)) --messages "$W1_MESSAGES" $W1_ARGS --count-cmd "$TM_COUNT" > "$log" 2>&1
    fi
    rate=$(sed -n 's/.*end-to-end \([0-9,.]*\) msg\/s.*/\1/p' "$log" | head -1 | tr -d ,)
    units=$(sed -n 's/^accepted \([0-9,]*\)\/.*/\1/p' "$log" | head -1 | tr -d ,)   # node loader: accepted messages
    units=${units:-$W1_MESSAGES}
    # failed messages (node loader: "...; N failed") or sessions (anchor: "N failed sessions"), + a timeout
    errors=$(sed -n 's/.*; \([0-9,]*\) failed.*/\1/p; s/.* \([0-9,]*\) failed sessions.*/\1/p' "$log" | head -1 | tr -d ,)
    grep -q TIMEOUT "$log" && errors="${errors:-0}+timeout"
    [ -z "$rate" ] && units=0
  else
    if [ "$loader" = anchor ]; then
      python3 "$anchors/imap-load.py" "$HOST" $((base + 143)) --users 1-50 --clients 50 --secs "$W3_SECS" > "$log" 2>&1
    else
      node "$root/build/bench/imap-load.js" "$HOST" $((base + 143)) --users 1-50 --clients 50 --secs "$W3_SECS" > "$log" 2>&1
    fi
    rate=$(sed -n 's/.* = \([0-9,.]*\) commands\/s.*/\1/p' "$log" | head -1 | tr -d ,)
    units=$(sed -n 's/.*errors, \([0-9,]*\) commands.*/\1/p' "$log" | head -1 | tr -d ,)
    errors=$(sed -n 's/.*cycles, \([0-9,]*\) errors.*/\1/p' "$log" | head -1 | tr -d ,)
  fi
  u1=$(usage_ns); t1=$(throttle)
  local cpu thr
  cpu=$(echo "scale=2; ($u1 - $u0) / 1000000000" | bc)
  thr=$(echo "$t0 $t1" | awk '{ dp = $3 - $1; dt = $4 - $2; printf "%.0f", (dp > 0 ? 100 * dt / dp : 0) }')
  echo "$w N=$n after the load: tree $(tree_pids "$TM_PID" | sort -n | tr '\n' ' '); placed: $(placed_pids)" >> "$work/placements"
  echo "$w $n ${rate:--} ${units:--} ${cpu:--} ${thr:--} ${errors:-?}$populate_failed"
  if ! stop_run >&2; then echo "stop left something behind (see above)" >&2; fi
}

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (+ uncommitted changes)")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit:  $commit$dirty"
echo "machine: $(nproc) cores; load average before: $load_before"
echo "quota:   Q = $Q core per server process (cfs_quota_us $quota_us of $period), groups $CPU/$grp, $ACCT/$grp"
echo "mode:    $([ $quick = 1 ] && echo 'quick (smoke run: figures not meaningful)' || echo full); loader $loader (outside any quota); ternmail args: ${tm_args:-none}"
build_check
configs=(1)
for n in "${ns[@]}"; do [ "$n" = 1 ] || configs+=("$n"); done
# The caps only show scaling if they fit on the machine with the loader beside them.
for n in "${configs[@]}"; do
  caps=$(echo "($n + ($n > 1)) * $Q" | bc)
  if [ "$(echo "$caps > $(nproc) - 0.4" | bc)" = 1 ]; then
    echo "WARNING: --workers $n at Q = $Q caps the server at $caps cores of $(nproc): less than 0.4 core left for the loader, so the quota is not what limits it"
  fi
done
: > "$work/results"
for w in $workloads; do
  for n in "${configs[@]}"; do
    echo "-- $w $([ "$n" = 1 ] && echo 'one process' || echo "--workers $n") (load $(cut -d' ' -f1 /proc/loadavg))"
    run "$w" "$n" >> "$work/results"   # not in a pipeline: the EXIT trap must see the server and poller
    tail -1 "$work/results"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "date $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit$dirty, $(nproc) cores, load average before $load_before, after $load_after, Q = $Q$([ $quick = 1 ] && echo ', QUICK run')"
echo "| workload | server | processes at Q | throughput | × one process | target | server CPU-s | CPU ms per unit | throttled periods | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
while read -r w n rate units cpu thr errors; do
  one=$(awk -v w="$w" '$1 == w && $2 == 1 { print $3 }' "$work/results")
  unit=$([ "$w" = W1 ] && echo msg/s || echo commands/s)
  ratio="—"; target="—"; perunit="—"
  if [ "$rate" != - ] && [ -n "$one" ] && [ "$one" != - ]; then ratio="$(echo "scale=2; $rate / $one" | bc | sed 's/^\./0./')×"; fi
  case $n in 2) target="≥ 1.8×" ;; 4) target="≥ 3.4×" ;; esac
  if [ "$cpu" != - ] && [ "$units" != - ] && [ "$units" != 0 ]; then perunit=$(echo "scale=3; $cpu * 1000 / $units" | bc | sed 's/^\./0./'); fi
  if [ "$n" = 1 ]; then srv="one process"; procs=1; else srv="--workers $n"; procs=$((n + 1)); fi
  echo "| $w | $srv | $procs | $rate $unit | $ratio | $target | $cpu | $perunit | $thr % | $errors |"
done < "$work/results"
echo
echo "placements (each server process in its own group):"
sed 's/^/  /' "$work/placements"
rc=0
trap - EXIT
cleanup
if [ -d "$CPU/$grp" ] || [ -d "$ACCT/$grp" ]; then rc=1; else echo "cgroups $grp removed"; fi
exit $rc
