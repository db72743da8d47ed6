#!/usr/bin/env python3
"""W2's transaction in parts, as the anchor loader (w2-fanout.py) sends it: Python smtplib,
one connection, no pipelining, 100 transactions of one ~100 KiB message to 100 distinct
recipients of user0001..user1000 (the anchor's own messages and recipient samples). Prints
the medians of each part as the client sees it (MAIL, one RCPT, DATA to 354, the final
dot to 250, the whole transaction), the sums over the run, then how long the count command
takes and when the last delivery is stored after the last 250 (polled without a pause).

  bench/w2-parts.py HOST PORT [--count-cmd CMD] [--repeats 100] [--anchors DIR]
"""
import argparse, os, random, smtplib, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("host"); ap.add_argument("port", type=int)
ap.add_argument("--count-cmd"); ap.add_argument("--repeats", type=int, default=100)
ap.add_argument("--seed", type=int, default=2)
ap.add_argument("--anchors", default=os.environ.get("ANCHORS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "anchors")))
a = ap.parse_args()
sys.path.insert(0, a.anchors)
from importlib import import_module
w2 = import_module("w2-fanout")

rnd = random.Random(a.seed)
msgs = []
for r in range(a.repeats):
    body = w2.make_msg(rnd, 100 * 1024, r)
    msgs.append((["user%04d@example.test" % u for u in rnd.sample(range(1, 1001), 100)], body))

def count():
    return int(subprocess.check_output(a.count_cmd, shell=True).split()[0])

base = count() if a.count_cmd else 0
s = smtplib.SMTP(a.host, a.port, local_hostname="client.example.net")
s.ehlo()
parts = {"mail": [], "rcpt": [], "data": [], "dot": [], "tx": []}
t0 = time.monotonic()
for rcpts, body in msgs:
    t = time.monotonic()
    s.mail("fanout@example.net"); parts["mail"].append(time.monotonic() - t)
    for r in rcpts:
        u = time.monotonic(); s.rcpt(r); parts["rcpt"].append(time.monotonic() - u)
    u = time.monotonic(); code, _ = s.docmd("DATA"); parts["data"].append(time.monotonic() - u)
    assert code == 354, code
    q = smtplib._quote_periods(body)
    if q[-2:] != b"\r\n": q += b"\r\n"
    s.send(q + b".\r\n")
    u = time.monotonic(); code, reply = s.getreply(); parts["dot"].append(time.monotonic() - u)
    assert code == 250, (code, reply)
    parts["tx"].append(time.monotonic() - t)
accepted = time.monotonic() - t0
s.quit()
ms = lambda xs: statistics.median(xs) * 1000
print("accepted %d transactions in %.3f s; medians: MAIL %.3f ms, RCPT %.3f ms, DATA->354 %.3f ms, dot->250 %.2f ms, transaction %.2f ms"
      % (a.repeats, accepted, ms(parts["mail"]), ms(parts["rcpt"]), ms(parts["data"]), ms(parts["dot"]), ms(parts["tx"])))
print("sums: MAIL %.3f s, RCPT %.3f s, dot->250 %.3f s" % (sum(parts["mail"]), sum(parts["rcpt"]), sum(parts["dot"])))
if a.count_cmd:
    u = time.monotonic(); n = count(); took = time.monotonic() - u
    while n < base + a.repeats * 100:
        n = count()
    print("count command took %.1f ms; last delivery stored %.3f s after the last 250 (%.1f deliveries/s end to end, polled without a pause)"
          % (took * 1000, time.monotonic() - t0 - accepted, a.repeats * 100 / (time.monotonic() - t0)))
