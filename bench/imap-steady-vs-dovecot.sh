#!/bin/sh
# IMAP steady load (issue 16), the figure of record: Dovecot then a fresh ternmail in the same
# window, both with bench/imap-stress.sh --mode both (churn fills the mailboxes, then kept).
# Run it inside the reference lock, which it does not take itself:
#   flock /tmp/reference.lock bench/imap-steady-vs-dovecot.sh [SECS] [MBOX]
# Env: BENCH_PORT_BASE (ternmail's ports, default 48000: IMAP on BASE+143), ANCHORS (default
# ../shared/anchors). Prints the load average at each step: compare only runs at similar load.
set -u
secs=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
anchors=${ANCHORS:-$root/../shared/anchors}
base=${BENCH_PORT_BASE:-48000}
mbox=${2:-$(mktemp /tmp/imap-steady.XXXXXX.mbox)}
[ -s "$mbox" ] || python3 "$anchors/make-mbox.py" "$mbox" > /dev/null
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "dovecot $(date -u +%H:%M:%S) load $(load)"
"$anchors/setup-postfix-dovecot.sh" --wipe-mail > /dev/null 2>&1 || { echo "setup-postfix-dovecot.sh failed" >&2; exit 1; }
"$root/bench/imap-stress.sh" 127.0.0.1 10143 --mode both --secs "$secs" --mbox "$mbox"
"$anchors/stop-postfix-dovecot.sh" > /dev/null 2>&1
dir=$(mktemp -d /tmp/imap-steady-ternmail.XXXXXX)
echo "ternmail $(date -u +%H:%M:%S) load $(load)"
BENCH_PORT_BASE=$base sh "$root/bench/ternmail-fixture.sh" start "$dir" 50 > /dev/null
for _ in $(seq 1 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $((base + 143))), 1)" 2>/dev/null && break; sleep 0.3; done
"$root/bench/imap-stress.sh" 127.0.0.1 $((base + 143)) --mode both --secs "$secs" --pid "$(cat "$dir.pid")" --mbox "$mbox"
sh "$root/bench/ternmail-fixture.sh" stop "$dir" > /dev/null 2>&1
echo "end $(date -u +%H:%M:%S) load $(load)"
