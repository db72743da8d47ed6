#!/bin/sh
# Issue 13: what the plugin hook points cost when no plugin is configured, on W1
# (20,000 × 4 KiB over 50 sessions of 400). A = a build of the tree before the hook
# points (BASE_TREE, e.g. `git archive c7281d8 | tar -x -C DIR`, its node_modules
# linked, `npx tsc -p tsconfig.json` run there); B = this tree, no plugins; C (with
# NOOP=1) = this tree with one plugin whose rcptTo, data and beforeDelivery hooks
# return nothing (the cost of an actor hop per hook call). Alternates A, B[, C] PASSES
# times on one machine in one window; prints each run's end-to-end rate and the
# server's CPU per message.
#   bench/plugin-chain-ab.sh BASE_TREE [PASSES]        ports BENCH_PORT_BASE (46000) + 525 / 587 / 110 / 143 / 80
set -eu
base_tree=$1; passes=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
port=${BENCH_PORT_BASE:-46000}

run() { # LABEL MAIN [ternmail start args...]
  label=$1; main=$2; shift 2
  dir=$(mktemp -d /tmp/ternmail-ab.XXXXXX)
  node "$main" start --data "$dir/data" --smtp-port $((port + 525)) --submission-port $((port + 587)) --pop3-port $((port + 110)) \
    --imap-port $((port + 143)) --admin-port $((port + 80)) --log-level warn "$@" > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do [ -f "$dir/data/admin.json" ] && break; sleep 0.1; done
  url=$(sed 's/.*"url":"\([^"]*\)".*/\1/' "$dir/data/admin.json")
  token=$(sed 's/.*"token":"\([^"]*\)".*/\1/' "$dir/data/admin.json")
  echo "curl -s -H 'authorization: Bearer $token' $url/v1/stats" > "$dir/count"
  node "$main" domain add example.test --data "$dir/data" > /dev/null
  i=1; while [ $i -le 1000 ]; do printf 'user%04d@example.test pw\n' $i; i=$((i + 1)); done > "$dir/users"
  node "$main" user import "$dir/users" --data "$dir/data" > /dev/null
  out=$(node "$root/build/bench/smtp-deliver.js" 127.0.0.1 $((port + 525)) --messages 20000 --size 4096 --concurrency 50 \
    --per-session 400 --count-cmd "sh $dir/count" --pid "$pid")
  rate=$(printf '%s\n' "$out" | sed -n 's/.*end-to-end \([0-9,.]*\) msg\/s.*/\1/p' | head -1)
  cpu=$(printf '%s\n' "$out" | sed -n 's/^server CPU \([0-9.]*\) ms\/msg delivered.*/\1/p' | head -1)
  bare=$(printf '%s\n' "$out" | sed -n 's/.*without polling: between \([0-9.]*\) and.*/\1/p' | head -1)
  echo "$label end-to-end ${rate:-?} msg/s; server CPU ${cpu:-?} ms/msg (${bare:-?} without the count polls)"
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
}

noop_config=$(mktemp -d /tmp/ternmail-ab-config.XXXXXX)
cat > "$noop_config/noop.mjs" <<'JS'
export default { name: 'noop', hooks: { rcptTo() {}, data() {}, beforeDelivery() {} } };
JS
echo '{"plugins": [{"module": "./noop.mjs"}]}' > "$noop_config/ternmail.json"
for _ in $(seq 1 "$passes"); do
  run A "$base_tree/build/src/cli/main.js"
  run B "$root/build/src/cli/main.js"
  if [ -n "${NOOP:-}" ]; then run C "$root/build/src/cli/main.js" --config "$noop_config/ternmail.json"; fi
done
rm -rf "$noop_config"
