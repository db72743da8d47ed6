#!/bin/bash
# IMAP under steady load (issue 16): Dovecot's imaptest in its stress mode against any IMAP
# server, the two mixes the issue measures, with commands/s from imaptest's own totals.
#   churn: LOGIN … LOGOUT every cycle;  kept: `logout=0`, SELECT once, then FETCH, STORE,
#   EXPUNGE, APPEND, LIST, STATUS for the rest of the run.
#
#   bench/imap-stress.sh HOST PORT [--mode churn|kept|both] [--secs 30] [--users 1-50]
#                        [--clients 50] [--msgs 500] [--mbox FILE] [--pid PID[,PID…]]
#
# Users are user%04d@example.test / pw (the anchor fixture's). `both` runs churn first (it fills
# each mailbox to about --msgs messages), then kept, as the issue prescribes; run it against
# empty mailboxes on both servers. --pid: server processes whose CPU (utime+stime, children not
# included) is divided by the commands of each run. The mbox defaults to one made by
# ../shared/anchors/make-mbox.py. imaptest is not packaged by Debian: build it by hand (issue 14
# says how) and point IMAPTEST at the binary (default /opt/imaptest-src/src/imaptest).
set -uo pipefail

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
[ $# -ge 2 ] || { usage >&2; exit 64; }
host=$1 port=$2; shift 2
mode=both secs=30 users=1-50 clients=50 msgs=500 mbox="" pids=""
while [ $# -gt 0 ]; do
  case "$1" in
    --mode) mode=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    --users) users=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --msgs) msgs=$2; shift 2 ;;
    --mbox) mbox=$2; shift 2 ;;
    --pid) pids=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 64 ;;
  esac
done
case "$mode" in churn) runs=churn ;; kept) runs=kept ;; both) runs="churn kept" ;; *) echo "--mode: churn, kept or both" >&2; exit 64 ;; esac

bin=${IMAPTEST:-/opt/imaptest-src/src/imaptest}
[ -x "$bin" ] || { echo "imaptest not found at $bin (set IMAPTEST)" >&2; exit 69; }
if [ -z "$mbox" ]; then
  anchors=${ANCHORS:-$(cd "$(dirname "$0")/.." && pwd)/../shared/anchors}
  mbox=$(mktemp /tmp/imap-stress.XXXXXX.mbox)
  python3 "$anchors/make-mbox.py" "$mbox" > /dev/null || { echo "could not make the mbox with $anchors/make-mbox.py" >&2; exit 69; }
fi

ticks=$(getconf CLK_TCK)
cpu_ms() { # summed utime+stime of the --pid processes, in ms
  local total=0 p f
  for p in ${pids//,/ }; do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    total=$((total + $(echo "$f" | awk '{ print $12 + $13 }')))
  done
  echo $((total * 1000 / ticks))
}

for run in $runs; do
  extra=""; [ "$run" = kept ] && extra="logout=0"
  log=$(mktemp /tmp/imap-stress.$run.XXXXXX.log)
  before=$(cpu_ms)
  # shellcheck disable=SC2086
  LD_LIBRARY_PATH=/usr/lib/dovecot${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    timeout $((secs + 120)) "$bin" host="$host" port="$port" user='user%04d@example.test' pass=pw \
    users="$users" clients="$clients" secs="$secs" msgs="$msgs" mbox="$mbox" $extra > "$log" 2>&1
  after=$(cpu_ms)
  # The last line of imaptest's "Totals:" block holds the command counts of the whole run.
  commands=$(awk '/^Totals:/ { t = 1; next } t && /^ *[0-9]/ { n = 0; for (i = 1; i <= NF; i++) n += $i; last = n } END { print last + 0 }' "$log")
  errors=$(grep -c '^Error:' "$log")
  rate=$(awk -v c="$commands" -v s="$secs" 'BEGIN { printf "%.0f", c / s }')
  line="$run: $commands commands in ${secs} s = $rate commands/s, $errors imaptest errors"
  if [ -n "$pids" ] && [ "$commands" -gt 0 ]; then
    line="$line, server CPU $(awk -v d=$((after - before)) -v c="$commands" 'BEGIN { printf "%.3f", d / c }') ms/command"
  fi
  echo "$line"
  echo "  averages (ms/command): $(grep 'ms/cmd avg' "$log" | tail -1 | sed 's/ms\/cmd avg//')"
  echo "  full output: $log"
done
