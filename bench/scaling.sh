#!/bin/sh
# Scaling (issue 5): the same W1 (SMTP delivery) and W3 (IMAP) loads against one process
# and against `--workers N`, alternating, PASSES times each; prints each run's rate and
# server CPU per unit, then the ratio of the medians.
#   bench/scaling.sh [PASSES] [WORKERS]        (defaults 3 and 2; needs python3 for W3's populate)
# Uses bench/ternmail-fixture.sh (ports 325xx) and /work/shared/anchors/populate.py
# (ANCHORS=DIR to point elsewhere). Takes about 2 minutes per pass.
set -eu
passes=${1:-3}; workers=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
anchors=${ANCHORS:-$root/../shared/anchors}
fixture="$root/bench/ternmail-fixture.sh"
dir=/tmp/ternmail-scaling
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# W1: 20,000 × 4 KiB over 50 sessions of 400; end-to-end msg/s and server CPU ms per message.
w1() {
  if [ "$1" = 1 ]; then unset WORKERS; else export WORKERS=$1; fi
  "$fixture" start "$dir" > /dev/null
  node "$root/build/bench/cpu-split.js" --pid "$(cat "$dir.pid")" -- \
    node "$root/build/bench/smtp-deliver.js" 127.0.0.1 32525 --count-cmd "sh $dir.count" > "$out" 2>&1
  "$fixture" stop "$dir" > /dev/null
  rate=$(sed -n 's/.*end-to-end \([0-9,.]*\) msg\/s.*/\1/p' "$out" | tr -d ,)
  cpu=$(server_cpu)
  echo "W1 workers=$1 $rate msg/s $(echo "scale=3; $cpu * 1000 / 20000" | bc) ms/msg"
}

# W3: 50 clients × 20 s on users 1-50 × 480 messages; commands/s and server CPU ms per command.
w3() {
  if [ "$1" = 1 ]; then unset WORKERS; else export WORKERS=$1; fi
  "$fixture" start "$dir" > /dev/null
  python3 "$anchors/populate.py" 127.0.0.1 32525 --users 1-50 --count 480 > /dev/null 2>&1
  sleep 2
  node "$root/build/bench/cpu-split.js" --pid "$(cat "$dir.pid")" -- \
    node "$root/build/bench/imap-load.js" 127.0.0.1 32143 --users 1-50 --clients 50 --secs 20 > "$out" 2>&1
  "$fixture" stop "$dir" > /dev/null
  rate=$(sed -n 's/.* = \([0-9,.]*\) commands\/s.*/\1/p' "$out" | tr -d ,)
  commands=$(sed -n 's/.*errors, \([0-9]*\) commands.*/\1/p' "$out")
  cpu=$(server_cpu)
  echo "W3 workers=$1 $rate commands/s $(echo "scale=3; $cpu * 1000 / $commands" | bc) ms/command"
}

# The server's CPU seconds from cpu-split: all processes of a cluster, or the one process.
server_cpu() {
  all=$(sed -n 's/.*server, all processes *\([0-9.]*\) cpu-s.*/\1/p' "$out")
  if [ -n "$all" ]; then echo "$all"; else sed -n 's/.*server (pid [0-9]*) *\([0-9.]*\) cpu-s.*/\1/p' "$out"; fi
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

results=$(mktemp)
trap 'rm -f "$out" "$results"' EXIT
i=1
while [ "$i" -le "$passes" ]; do
  echo "pass $i (load $(cut -d' ' -f1 /proc/loadavg))"
  for w in 1 "$workers"; do w1 "$w" | tee -a "$results"; done
  for w in 1 "$workers"; do w3 "$w" | tee -a "$results"; done
  i=$((i + 1))
done
for load in W1 W3; do
  one=$(grep "^$load workers=1 " "$results" | awk '{ print $3 }' | median)
  many=$(grep "^$load workers=$workers " "$results" | awk '{ print $3 }' | median)
  echo "$load: median $one (1 process) against $many ($workers workers): $(echo "scale=2; $many / $one" | bc)x"
done
