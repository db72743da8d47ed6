# Shared by bench/compare-reference.sh and bench/quota-scaling.sh (sourced, not run).
# A fresh ternmail from the built tree with domain example.test and users
# user0001..user1000 / pw (as the reference stack has them), on ports PORT_BASE+525 (SMTP),
# +587 (submission), +110 (POP3), +143 (IMAP), +80 (admin), bound to $HOST.
#   tm_start DIR PORT_BASE [extra `ternmail start` args...]   sets TM_PID, TM_DIR, TM_COUNT (a
#                                                             command printing the stored-message count)
#   tm_stop                                                   SIGINT, waits (KILL after 30 s), checks
#                                                             that no process of its tree is left, removes DIR
# Needs: node, curl, a build (npx tsc -p tsconfig.json).

HOST=${HOST:-127.0.0.1}
harness_root=$(cd "$(dirname "$0")/.." && pwd)
tm_main="$harness_root/build/src/cli/main.js"

# Every descendant of PID (PID included), from one `ps` snapshot.
tree_pids() {
  ps -eo pid=,ppid= | awk -v root="$1" '
    { parent[$1] = $2; pids[NR] = $1 }
    END {
      keep[root] = 1; changed = 1
      while (changed) { changed = 0
        for (i in pids) { p = pids[i]; if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 } } }
      for (p in keep) print p
    }'
}

# Which of these pids are still alive (and not zombies)?
alive_pids() {
  for p in "$@"; do
    st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) || continue
    [ -n "$st" ] && [ "$st" != Z ] && echo "$p"
  done
  return 0
}

wait_port() { # HOST PORT [TRIES of 0.1 s]
  for _ in $(seq 1 "${3:-300}"); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1:$2" >&2; return 1
}

tm_start() {
  TM_DIR=$1; local base=$2; shift 2
  [ -f "$tm_main" ] || { echo "no build: run npx tsc -p tsconfig.json in $harness_root" >&2; return 1; }
  rm -rf "$TM_DIR"; mkdir -p "$TM_DIR"
  # The malloc setting of the shipped systemd unit and `npm start` (docs/operations.md, process memory).
  MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-1048576} node "$tm_main" start --data "$TM_DIR" --bind "$HOST" --smtp-port $((base + 525)) --submission-port $((base + 587)) \
    --pop3-port $((base + 110)) --imap-port $((base + 143)) --admin-port $((base + 80)) \
    --log-level "${LOG_LEVEL:-warn}" "$@" > "$TM_DIR.log" 2>&1 &
  TM_PID=$!
  for _ in $(seq 1 300); do [ -f "$TM_DIR/admin.json" ] && break; sleep 0.1; done
  [ -f "$TM_DIR/admin.json" ] || { echo "ternmail did not start: $(tail -3 "$TM_DIR.log")" >&2; return 1; }
  local url token
  url=$(sed 's/.*"url":"\([^"]*\)".*/\1/' "$TM_DIR/admin.json")
  token=$(sed 's/.*"token":"\([^"]*\)".*/\1/' "$TM_DIR/admin.json")
  # The stored-message count as a bare integer (`ternmail stats` is the same JSON; curl is cheaper
  # than starting the CLI twice a second).
  printf '%s\n' "curl -s -H 'authorization: Bearer $token' $url/v1/stats | sed -n 's/.*\"messages\":\\([0-9]*\\).*/\\1/p'" > "$TM_DIR.count"
  TM_COUNT="sh $TM_DIR.count"
  # With --workers N the admin API is up before the workers: wait until all of them run.
  local workers
  workers=$(printf '%s\n' "$*" | sed -n 's/.*--workers[ =]\([0-9][0-9]*\).*/\1/p')
  if [ -n "$workers" ] && [ "$workers" -gt 1 ]; then
    local stats
    stats=$(sed 's/ | sed.*//' "$TM_DIR.count")
    for _ in $(seq 1 300); do sh -c "$stats" | grep -q "\"workersRunning\":$workers[,}]" && break; sleep 0.1; done
  fi
  node "$tm_main" domain add example.test --data "$TM_DIR" > /dev/null
  local i=1; : > "$TM_DIR.users"
  while [ $i -le "${TM_USERS:-1000}" ]; do printf 'user%04d@example.test pw\n' $i; i=$((i + 1)); done > "$TM_DIR.users"
  node "$tm_main" user import "$TM_DIR.users" --data "$TM_DIR" > "$TM_DIR.import" 2>&1 \
    || { echo "user import failed: $(cat "$TM_DIR.import")" >&2; return 1; }
  # A cluster's workers learn users from the primary's change feed (within a second).
  if [ -n "$workers" ] && [ "$workers" -gt 1 ]; then sleep 1.5; fi
  wait_port "$HOST" $((base + 525)) && wait_port "$HOST" $((base + 143)) && wait_port "$HOST" $((base + 110))
}

# Stops the server started by tm_start; returns 1 (and says so) if any process of its tree is left.
tm_stop() {
  [ -n "${TM_PID:-}" ] || return 0
  local tree left
  tree=$(tree_pids "$TM_PID")
  kill -INT "$TM_PID" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$TM_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$TM_PID" 2>/dev/null; then echo "ternmail did not stop in 30 s: killed" >&2; kill -KILL "$TM_PID" 2>/dev/null || true; fi
  wait "$TM_PID" 2>/dev/null || true
  for _ in $(seq 1 50); do left=$(alive_pids $tree); [ -z "$left" ] && break; sleep 0.1; done
  if [ -n "$left" ]; then
    echo "ternmail processes left after stop: $left (killed)" >&2
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null || true
  fi
  rm -rf "$TM_DIR" "$TM_DIR.count" "$TM_DIR.users" "$TM_DIR.import"
  TM_PID=
  [ -z "$left" ]
}

# Warns when a source file is newer than the build being measured (the commit printed would lie).
build_check() {
  local newer
  newer=$(find "$harness_root/src" -name '*.ts' -newer "$tm_main" 2>/dev/null | head -1)
  if [ -n "$newer" ]; then echo "WARNING: ${newer#"$harness_root"/} is newer than the build: run npx tsc -p tsconfig.json first"; fi
  return 0
}
