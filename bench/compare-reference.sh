#!/bin/bash
# Side by side (performance issue, item 1): the anchor workloads W1-W5 against the reference
# stack (Postfix + Dovecot, /work/shared/anchors/setup-postfix-dovecot.sh) and against ternmail
# (built tree, build/src/cli/main.js) in one run, with the same anchor loaders, then one table:
# each figure for both sides and the ratio ternmail / reference.
#
#   bench/compare-reference.sh [--workloads W1,W2,W3,W4,W5] [--quick] [--ternmail-args "--workers 2"]
#                              [--quota Q] [--out DIR]
#
# Run as root (the reference setup installs postfix, dovecot-imapd/-pop3d/-lmtpd from Debian when
# missing, and W1 needs Postfix's smtp-source). Build first: npx tsc -p tsconfig.json.
# Each workload gets a fresh reference (setup --wipe-mail) and a fresh ternmail (new data folder):
# reference first, then ternmail, then both are stopped and checked for leftover processes.
# --quick: small counts for a smoke run (figures meaningless). Logs of every step go to --out
# (default /tmp/compare-reference.<date>), the table also to OUT/table.md.
#
# Server CPU: each side's processes (the whole Postfix + Dovecot tree; ternmail and any workers)
# are put in a cgroup of their own (v1 cpu + cpuacct; children forked later inherit it), so the
# table also gives each side's server CPU per unit of work (ms per W1 message, W2 delivery, W3
# command, W4 message), counted over the loader's run only (set-up and populate excluded).
# --quota Q: during each loader run, each side's group is capped at Q cores in total
# (cpu.cfs_quota_us), the loaders staying outside any quota. On this 2-core machine the anchor
# loaders use up to a core and more (imap-load.py ~0.27 ms of its own CPU per command,
# pop3-load.py --raw 1.2 cores at 16,000 msg/s), so without a quota W3 and W4 measure the loader's
# ceiling as much as the server; with both servers held to the same Q (e.g. 0.5) the ratio is one
# of server throughput per core. Set-up and populate run without the cap.
#
# Environment:
#   ANCHORS=DIR        the anchor scripts (default: <repo>/../shared/anchors)
#   HOST=ADDR          address ternmail binds to and the loaders use for it (default 127.0.0.1)
#   TM_PORT_BASE=N     ternmail ports N+525 SMTP, +110 POP3, +143 IMAP, +80 admin (default 24000: below the
#                      kernel's ephemeral range, where a loader's closed connections could hold a port)
#   REF_HOST=ADDR      address the loaders use for the reference (default 127.0.0.1; the setup
#                      script itself listens on loopback only)
#   REF_SMTP_PORT / REF_IMAP_PORT / REF_POP3_PORT   reference ports (default 10025 / 10143 / 10110)
#   REF_AB=DIR         the reference's private folder (default /tmp/anchorbench)
#   W5_CONNS=N         W5 connections (default 5000; --quick 200)
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
workloads=W1,W2,W3,W4,W5; quick=0; tm_args=""; out=""; quota=""
while [ $# -gt 0 ]; do
  case "$1" in
    --workloads) workloads=$2; shift 2 ;;
    --workloads=*) workloads=${1#*=}; shift ;;
    --quick) quick=1; shift ;;
    --ternmail-args) tm_args=$2; shift 2 ;;
    --ternmail-args=*) tm_args=${1#*=}; shift ;;
    --out) out=$2; shift 2 ;;
    --quota) quota=$2; shift 2 ;;
    --quota=*) quota=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
workloads=$(echo "$workloads" | tr 'a-z,' 'A-Z ')
for w in $workloads; do case $w in W1|W2|W3|W4|W5) ;; *) echo "unknown workload $w (W1..W5)" >&2; exit 2 ;; esac; done

# shellcheck source=bench/harness-lib.sh
. "$(dirname "$0")/harness-lib.sh"
root=$harness_root
anchors=${ANCHORS:-$root/../shared/anchors}
[ -x "$anchors/setup-postfix-dovecot.sh" ] || { echo "anchor scripts not found in $anchors (set ANCHORS=DIR)" >&2; exit 2; }
anchors=$(cd "$anchors" && pwd)
[ "$(id -u)" = 0 ] || { echo "run as root (the reference setup needs it)" >&2; exit 2; }
tm_base=${TM_PORT_BASE:-24000}
ref_host=${REF_HOST:-127.0.0.1}
export AB=${REF_AB:-/tmp/anchorbench}
export SMTP_PORT=${REF_SMTP_PORT:-10025} IMAP_PORT=${REF_IMAP_PORT:-10143} POP3_PORT=${REF_POP3_PORT:-10110}
out=${out:-/tmp/compare-reference.$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"; out=$(cd "$out" && pwd)
results="$out/results"; : > "$results"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ "$quick" = 1 ]; then
  W1_ARGS="--messages 2000 --concurrency 10 --per-session 100"
  W2_ARGS="--repeats 10"
  W3_POP="--count 40"; W3_SECS=5
  W4_POP="--count 20"; W4_SECS=5
  W5_CONNS=${W5_CONNS:-200}; W5_HOLD=2
else
  W1_ARGS="--per-session 400"
  W2_ARGS=""
  W3_POP="--count 480"; W3_SECS=30
  W4_POP="--count 180"; W4_SECS=30
  W5_CONNS=${W5_CONNS:-5000}; W5_HOLD=10
fi

# ------------------------------------------------------------------ a cgroup per side
CPU=${CGROUP_CPU:-/sys/fs/cgroup/cpu}; ACCT=${CGROUP_CPUACCT:-/sys/fs/cgroup/cpuacct}
[ -f "$CPU/cpu.cfs_quota_us" ] && [ -f "$ACCT/cpuacct.usage" ] \
  || { echo "no cgroup v1 cpu/cpuacct controllers at $CPU, $ACCT (set CGROUP_CPU, CGROUP_CPUACCT)" >&2; exit 2; }
period=100000; quota_us=-1
if [ -n "$quota" ]; then
  quota_us=$(echo "$quota * $period / 1" | bc 2>/dev/null)
  [ -n "$quota_us" ] && [ "$quota_us" -ge 1000 ] 2>/dev/null || { echo "--quota $quota: give cores, at least 0.01" >&2; exit 2; }
fi
grp=compare-reference.$$
for side in reference ternmail; do
  mkdir -p "$CPU/$grp/$side" "$ACCT/$grp/$side" || exit 1
  echo $period > "$CPU/$grp/$side/cpu.cfs_period_us"; echo -1 > "$CPU/$grp/$side/cpu.cfs_quota_us"
done
side_place() { # SIDE ROOT_PID...: every process of those trees into the side's groups
  local side=$1 p; shift
  for p in $(for r in "$@"; do tree_pids "$r"; done); do
    echo "$p" > "$CPU/$grp/$side/cgroup.procs" 2>/dev/null; echo "$p" > "$ACCT/$grp/$side/cgroup.procs" 2>/dev/null
  done
  return 0
}
side_usage() { cat "$ACCT/$grp/$1/cpuacct.usage"; }
LOAD_SIDE=""; LOAD_NS0=0
load_begin() { # SIDE: the loader starts now (the cap, if any, goes on)
  LOAD_SIDE=$1; echo "$quota_us" > "$CPU/$grp/$1/cpu.cfs_quota_us"; LOAD_NS0=$(side_usage "$1")
}
load_end() { # W UNITS: the loader ended; records the side's server CPU ms per unit and lifts the cap
  local ns; ns=$(( $(side_usage "$LOAD_SIDE") - LOAD_NS0 ))
  echo -1 > "$CPU/$grp/$LOAD_SIDE/cpu.cfs_quota_us"
  record "$1" "$LOAD_SIDE" cpus "$(echo "scale=1; $ns / 1000000000" | bc | sed 's/^\./0./')"
  if [ -n "$2" ] && [ "$2" -gt 0 ] 2>/dev/null; then
    record "$1" "$LOAD_SIDE" cpu "$(echo "scale=4; $ns / 1000000 / $2" | bc | sed 's/^\./0./')"
  fi
}
remove_side_groups() {
  local h side p
  for h in "$CPU" "$ACCT"; do
    for side in reference ternmail; do
      [ -d "$h/$grp/$side" ] || continue
      while read -r p; do echo "$p" > "$h/cgroup.procs" 2>/dev/null; done < "$h/$grp/$side/cgroup.procs"
      rmdir "$h/$grp/$side" 2>/dev/null
    done
    rmdir "$h/$grp" 2>/dev/null
  done
  if [ -d "$CPU/$grp" ] || [ -d "$ACCT/$grp" ]; then echo "WARNING: cgroup $grp not removed" >&2; fi
}

# ------------------------------------------------------------------ the reference stack
REF_TREE=""
ref_start() { # LOGFILE
  # Its daemons inherit the script's stdout: a file, never a pipe we wait on.
  "$anchors/setup-postfix-dovecot.sh" --wipe-mail > "$1" 2>&1 || { echo "reference setup failed: $(tail -3 "$1")" >&2; return 1; }
  REF_DOVECOT=$(cat "$AB/dovecot/run/master.pid")
  REF_POSTFIX=$(head -1 "$AB/postfix/spool/pid/master.pid" | tr -d ' ')
  side_place reference "$REF_DOVECOT" "$REF_POSTFIX"
}
ref_stop() { # LOGFILE; returns 1 if a process of either tree is left
  [ -n "${REF_DOVECOT:-}${REF_POSTFIX:-}" ] || return 0
  local tree left=""
  tree="$( [ -n "${REF_DOVECOT:-}" ] && tree_pids "$REF_DOVECOT"; [ -n "${REF_POSTFIX:-}" ] && tree_pids "$REF_POSTFIX")"
  "$anchors/stop-postfix-dovecot.sh" >> "$1" 2>&1
  for _ in $(seq 1 100); do left=$(alive_pids $tree); [ -z "$left" ] && break; sleep 0.1; done
  REF_DOVECOT=; REF_POSTFIX=
  if [ -n "$left" ]; then echo "reference processes left after stop: $(echo $left)" >&2; return 1; fi
}
ref_count() { find "$AB/mail" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null | wc -l; }

cleanup() {
  tm_stop 2>/dev/null || true
  ref_stop "$out/ref-stop.log" 2>/dev/null || true
  remove_side_groups
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# Waits until COUNT_CMD prints at least N (deliveries of a populate run are asynchronous).
wait_count() { # N CMD [SECS]
  local end=$(( $(date +%s) + ${3:-600} )) c
  while [ "$(date +%s)" -lt $end ]; do
    c=$(sh -c "$2" 2>/dev/null); [ "${c:-0}" -ge "$1" ] 2>/dev/null && return 0
    sleep 0.5
  done
  echo "store holds ${c:-?} < $1 messages after ${3:-600} s" >&2; return 1
}

# record WORKLOAD SIDE KEY VALUE
record() { [ -n "$4" ] && echo "$1 $2 $3 $4" >> "$results"; }
num() { sed -n "$1" "$2" | head -1 | tr -d ','; }

# ------------------------------------------------------------------ the workloads
# run_wN SIDE LOG: with $H (host), $SMTP $IMAP $POP3 (ports), $COUNT (count command),
# $STORE_ARGS (how W1/W2 count), $DU_CMD, $SRV_PID set for that side.
run_w1() {
  # shellcheck disable=SC2086
  load_begin "$1"
  python3 "$anchors/w1-smtp-deliver.py" "$H" "$SMTP" $W1_ARGS "${STORE_ARGS[@]}" > "$2" 2>&1
  load_end W1 "$(num 's/^sent \([0-9]*\) msgs in.*/\1/p' "$2")"
  record W1 "$1" accept "$(num 's/.*accept rate \([0-9.]*\) msg\/s.*/\1/p' "$2")"
  record W1 "$1" e2e "$(num 's/.*end-to-end \([0-9.]*\) msg\/s.*/\1/p' "$2")"
  record W1 "$1" errors "$(num 's/.*msg\/s, \([0-9]*\) failed sessions.*/\1/p' "$2")"
  grep -q TIMEOUT "$2" && record W1 "$1" errors timeout
}
run_w2() {
  # shellcheck disable=SC2086
  load_begin "$1"
  python3 "$anchors/w2-fanout.py" "$H" "$SMTP" $W2_ARGS "${STORE_ARGS[@]}" --du-cmd "$DU_CMD" > "$2" 2>&1
  load_end W2 "$(num 's/^all \([0-9]*\) deliveries in store.*/\1/p' "$2")"
  record W2 "$1" rate "$(num 's/.*(\([0-9.]*\) deliveries\/s).*/\1/p' "$2")"
  record W2 "$1" grew "$(num 's/.*store grew \(-\{0,1\}[0-9]*\) KiB.*/\1/p' "$2")"
  record W2 "$1" errors "$(grep -c 'refused:\|TIMEOUT\|Traceback' "$2")"
}
run_w3() {
  # shellcheck disable=SC2086
  python3 "$anchors/populate.py" "$H" "$SMTP" --users 1-50 $W3_POP > "$2.populate" 2>&1
  wait_count $((50 * $(echo "$W3_POP" | awk '{ print $2 }'))) "$COUNT" || record W3 "$1" errors populate
  load_begin "$1"
  python3 "$anchors/imap-load.py" "$H" "$IMAP" --users 1-50 --clients 50 --secs "$W3_SECS" > "$2" 2>&1
  load_end W3 "$(num 's/.* \([0-9]*\) commands = .*/\1/p' "$2")"
  record W3 "$1" rate "$(num 's/.* = \([0-9.]*\) commands\/s.*/\1/p' "$2")"
  record W3 "$1" login "$(awk '$1 == "LOGIN" { for (i = 1; i < NF; i++) if ($i == "p50") print $(i + 1) }' "$2" | head -1)"
  record W3 "$1" uidfetch "$(awk '$1 == "UID" && $3 == "1:*" { for (i = 1; i < NF; i++) if ($i == "p50") print $(i + 1) }' "$2" | head -1)"
  record W3 "$1" errors "$(num 's/.*cycles, \([0-9]*\) errors.*/\1/p' "$2")"
}
run_w4() {
  # shellcheck disable=SC2086
  python3 "$anchors/populate.py" "$H" "$SMTP" --users 51-100 $W4_POP > "$2.populate" 2>&1
  wait_count $((50 * $(echo "$W4_POP" | awk '{ print $2 }'))) "$COUNT" || record W4 "$1" errors populate
  load_begin "$1"
  python3 "$anchors/pop3-load.py" "$H" "$POP3" --users 51-100 --clients 50 --secs "$W4_SECS" --raw --distinct > "$2" 2>&1
  load_end W4 "$(num 's/.* sessions ([0-9.]*\/s), \([0-9]*\) msgs.*/\1/p' "$2")"
  record W4 "$1" rate "$(num 's/.*msgs (\([0-9.]*\) msg\/s).*/\1/p' "$2")"
  record W4 "$1" errors "$(num 's/.*MB\/s), \([0-9]*\) errors.*/\1/p' "$2")"
}
run_w5() {
  load_begin "$1"
  python3 "$anchors/w5-idle.py" "$H" "$IMAP" --pid "$SRV_PID" --conns "$W5_CONNS" --hold "$W5_HOLD" > "$2" 2>&1
  load_end W5 ""
  record W5 "$1" pss "$(num 's/.*PSS sum \([0-9.]*\) MiB.*/\1/p' "$2")"
  record W5 "$1" logins "$(num 's/.*(\([0-9.]*\) logins\/s).*/\1/p' "$2")"
  record W5 "$1" errors "$(num 's/.*logins\/s); \([0-9]*\) errors.*/\1/p' "$2")"
}

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (+ uncommitted changes)")
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "date:      $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit:    $commit$dirty"
echo "machine:   $(nproc) cores, $(uname -n); load average before: $load_before"
echo "mode:      $([ $quick = 1 ] && echo 'quick (smoke run: figures not meaningful)' || echo full); workloads: $workloads"
echo "ternmail:  node build/src/cli/main.js start ${tm_args:-(one process)} on $HOST:$((tm_base + 525))/$((tm_base + 143))/$((tm_base + 110))"
echo "reference: Postfix + Dovecot ($AB) on $ref_host:$SMTP_PORT/$IMAP_PORT/$POP3_PORT"
echo "cpu:       each side in cgroup $grp/<side>; $([ -n "$quota" ] && echo "capped at $quota core(s) per side while its loader runs" || echo "no cap (--quota Q to cap both sides)")"
echo "logs:      $out"
build_check
stop_problems=0
for w in $workloads; do
  lw=$(echo "$w" | tr 'A-Z' 'a-z')
  echo "-- $w reference (load $(cut -d' ' -f1 /proc/loadavg))"
  if ref_start "$out/$w-reference-setup.log"; then
    H=$ref_host; SMTP=$SMTP_PORT; IMAP=$IMAP_PORT; POP3=$POP3_PORT; SRV_PID=$REF_DOVECOT
    COUNT="find '$AB/mail' -type f \\( -path '*/new/*' -o -path '*/cur/*' \\) | wc -l"
    STORE_ARGS=(--store "$AB/mail"); DU_CMD="du -sk '$AB/mail'"
    "run_$lw" reference "$out/$w-reference.log"
    grep -q Traceback "$out/$w-reference.log" && record "$w" reference errors traceback
  else
    record "$w" reference errors setup
  fi
  ref_stop "$out/$w-reference-setup.log" || stop_problems=$((stop_problems + 1))
  echo "-- $w ternmail (load $(cut -d' ' -f1 /proc/loadavg))"
  [ "$w" = W5 ] && export TERNMAIL_MAX_CONNECTIONS_PER_IP=20000
  # shellcheck disable=SC2086
  if tm_start "$out/tm-$lw" "$tm_base" $tm_args && side_place ternmail "$TM_PID"; then
    H=$HOST; SMTP=$((tm_base + 525)); IMAP=$((tm_base + 143)); POP3=$((tm_base + 110)); SRV_PID=$TM_PID
    COUNT=$TM_COUNT; STORE_ARGS=(--count-cmd "$TM_COUNT"); DU_CMD="du -sk '$TM_DIR'"
    "run_$lw" ternmail "$out/$w-ternmail.log"
    grep -q Traceback "$out/$w-ternmail.log" && record "$w" ternmail errors traceback
  else
    record "$w" ternmail errors start
  fi
  unset TERNMAIL_MAX_CONNECTIONS_PER_IP
  tm_stop || stop_problems=$((stop_problems + 1))
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ------------------------------------------------------------------ the table
val() { awk -v w="$1" -v s="$2" -v k="$3" '$1 == w && $2 == s && $3 == k { v = $4 } END { print v }' "$results"; }
has_errors() { awk -v w="$1" -v s="$2" '$1 == w && $2 == s && $3 == "errors" && $4 != "0" { f = 1 } END { exit !f }' "$results"; }
row() { # W KEY LABEL
  local r t e ratio
  r=$(val "$1" reference "$2"); t=$(val "$1" ternmail "$2")
  ratio=""
  if [ -n "$r" ] && [ -n "$t" ] && [ "$(echo "$r != 0" | bc)" = 1 ]; then ratio="$(echo "scale=2; $t / $r" | bc | sed 's/^\./0./;s/^-\./-0./')×"; fi
  # a side with errors in this workload gets a mark; the errors are listed under the table
  has_errors "$1" reference && r="${r:-—} (!)"
  has_errors "$1" ternmail && t="${t:-—} (!)"
  echo "| $3 | ${r:-—} | ${t:-—} | ${ratio:-—} |"
}
{
  echo "| workload | reference | ternmail | ratio |"
  echo "| --- | --- | --- | --- |"
  for w in $workloads; do
    case $w in
      W1) row W1 e2e "W1 end to end, msg/s"; row W1 accept "W1 accept, msg/s"
          row W1 cpu "W1 server CPU per message, ms (lower is better)" ;;
      W2) row W2 rate "W2 fan-out, deliveries/s"; row W2 grew "W2 store growth, KiB (lower is better)"
          row W2 cpu "W2 server CPU per delivery, ms (lower is better)" ;;
      W3) row W3 rate "W3 IMAP, commands/s"; row W3 login "W3 LOGIN p50, ms (lower is better)"
          row W3 uidfetch "W3 UID FETCH 1:* p50, ms (lower is better)"
          row W3 cpu "W3 server CPU per command, ms (lower is better)" ;;
      W4) row W4 rate "W4 POP3 --raw --distinct, msg/s"; row W4 cpu "W4 server CPU per message, ms (lower is better)" ;;
      W5) row W5 pss "W5 PSS at $W5_CONNS idle, MiB (lower is better)"; row W5 logins "W5 logins/s" ;;
    esac
  done
} > "$out/table.md"
echo
echo "date $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit$dirty, $(nproc) cores, load average before $load_before, after $load_after$([ $quick = 1 ] && echo ', QUICK run')"
echo "ratio = ternmail / reference; ternmail ${tm_args:-one process}; $([ -n "$quota" ] && echo "each server capped at $quota core(s) while its loader ran" || echo "no CPU cap")"
cat "$out/table.md"
errs=$(awk '$3 == "errors" && $4 != "0" { print "  " $1 " " $2 ": " $4 }' "$results")
if [ -n "$errs" ]; then echo "errors (!) — see the logs in $out:"; echo "$errs"; fi
if [ "$stop_problems" -gt 0 ]; then echo "WARNING: $stop_problems stop(s) left processes behind (see above)"; exit 1; fi
echo "both stacks stopped, no processes left"
