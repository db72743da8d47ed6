#!/bin/sh
# Two servers under the same W1 load at the same time, so that both see the same machine
# (on a shared machine, runs one after the other can differ by 2x in CPU per message):
# each is warmed up with 10,000 messages, then gets N more (default 20,000) while
# bench/cpu-split.js reads each server's processes. Prints, per side, end-to-end msg/s,
# server CPU ms per message (all its processes), synced batches/commits over the whole
# run (from the stats), and the CPU of each process.
#   bench/cpu-ab.sh ROOT_A WORKERS_A ROOT_B WORKERS_B [TAG]
#   ROOT: a built tree (this repo, or a `git archive` of another commit with node_modules
#   linked and `npx tsc -p tsconfig.json` run); WORKERS: "" or 1 for one process, else N.
#   e.g. bench/cpu-ab.sh "$PWD" "" "$PWD" 2          (cluster CPU ÷ one process, same window)
#        bench/cpu-ab.sh /tmp/base 2 "$PWD" 2         (A/B of two builds, both --workers 2)
# Ports: A at BENCH_PORT_BASE (default 46000), B at +200; N=20000 messages, WARM=10000; TMP=/tmp.
# ENV_A / ENV_B: settings for one side only, e.g. ENV_B=TERNMAIL_WORKERS_ACCEPT=true (one build, two settings).
set -eu
ra=$1; wa=$2; rb=$3; wb=$4; tag=${5:-ab$$}; n=${N:-20000}; warm=${WARM:-10000}
base=${BENCH_PORT_BASE:-46000}; tmp=${TMP:-/tmp}
[ "$wa" = 1 ] && wa=""; [ "$wb" = 1 ] && wb=""
da=$tmp/cpu-ab-a-$tag; db=$tmp/cpu-ab-b-$tag
start() { # root workers base dir env
  cd "$1" && env ${5:-BENCH_SIDE=1} BENCH_PORT_BASE=$3 WORKERS=$2 bench/ternmail-fixture.sh start "$4" > /dev/null
}
load() { # root port dir count out
  cd "$1" && node build/bench/smtp-deliver.js 127.0.0.1 "$2" --messages "$4" --count-cmd "sh $3.count" --poll-ms 500 > "$5" 2>&1
}
stop_both() {
  (cd "$ra" && bench/ternmail-fixture.sh stop "$da" > /dev/null; rm -f "$da.out") &
  (cd "$rb" && bench/ternmail-fixture.sh stop "$db" > /dev/null; rm -f "$db.out") &
  wait
}
trap stop_both EXIT
trap 'exit 130' INT TERM
start "$ra" "$wa" "$base" "$da" "${ENV_A:-}" & start "$rb" "$wb" $((base + 200)) "$db" "${ENV_B:-}" & wait
load "$ra" $((base + 525)) "$da" "$warm" /dev/null & load "$rb" $((base + 725)) "$db" "$warm" /dev/null & wait
echo "== A=$ra ${wa:-one process} ${ENV_A:-} B=$rb ${wb:-one process} ${ENV_B:-}, $n messages each after $warm; load $(cut -d' ' -f1-3 /proc/loadavg)"
(cd "$ra" && node build/bench/cpu-split.js --pid "$(cat "$da.pid")" -- node build/bench/smtp-deliver.js 127.0.0.1 $((base + 525)) --messages "$n" --count-cmd "sh $da.count" --poll-ms 500 > "$da.out" 2>&1) &
(cd "$rb" && node build/bench/cpu-split.js --pid "$(cat "$db.pid")" -- node build/bench/smtp-deliver.js 127.0.0.1 $((base + 725)) --messages "$n" --count-cmd "sh $db.count" --poll-ms 500 > "$db.out" 2>&1) &
wait
for side in A B; do
  d=$da; [ $side = B ] && d=$db
  [ -s "$d.out" ] || { echo "$side: no output"; continue; }
  cpu=$(grep -E "server, all processes|server \(pid" "$d.out" | tail -1 | awk '{ for (i = 1; i <= NF; i++) if ($i == "cpu-s") print $(i - 1) }')
  commits=$(sh "$d.count" | node -e 'let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => { const j = JSON.parse(s); console.log(`${j.syncedBatches}/${j.syncedCommits}`); })')
  rate=$(grep 'end-to-end' "$d.out" | grep -o '[0-9.,]* msg/s' | tail -1)
  procs=$(grep -E '^  (worker|server \()' "$d.out" | awk '{ printf "%s %s %s cpu-s; ", $1, $2, $(NF - 6) }')
  echo "$side: $rate; server $cpu cpu-s = $(echo "scale=3; $cpu * 1000 / $n" | bc) ms/msg; synced batches/commits $commits; $procs"
done
