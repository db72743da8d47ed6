#!/usr/bin/env python3
"""Same-window A/B of what MAIL FROM and RCPT TO cost a server: one smtplib connection per
round sends N transactions of MAIL + 100 RCPT (users user0001..user1000) + RSET, against A
and then B, ROUNDS times alternating. Prints each round's server CPU per command (the
server's main thread only, from /proc: LevelDB compaction and GC helper threads do not
swing it) and the client's wall time per command, then the medians and B/A.

  bench/rcpt-cost-ab.py A_PORT A_PID B_PORT B_PID [--rounds 10] [--transactions 300] [--host 127.0.0.1]
"""
import argparse, smtplib, statistics, time

ap = argparse.ArgumentParser()
ap.add_argument("a_port", type=int); ap.add_argument("a_pid", type=int)
ap.add_argument("b_port", type=int); ap.add_argument("b_pid", type=int)
ap.add_argument("--rounds", type=int, default=10); ap.add_argument("--transactions", type=int, default=300)
ap.add_argument("--host", default="127.0.0.1")
a = ap.parse_args()

def main_thread_cpu(pid):
    fields = open("/proc/%d/task/%d/stat" % (pid, pid)).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(__import__("os").sysconf("SC_CLK_TCK"))

def run(port, pid):
    s = smtplib.SMTP(a.host, port, local_hostname="client.example.net")
    s.ehlo()
    c0 = main_thread_cpu(pid); t0 = time.monotonic()
    for i in range(a.transactions):
        s.mail("sender@example.net")
        for u in range(100):
            s.rcpt("user%04d@example.test" % ((i * 100 + u) % 1000 + 1))
        s.rset()
    wall = time.monotonic() - t0; cpu = main_thread_cpu(pid) - c0
    s.quit()
    commands = a.transactions * 102
    return cpu / commands * 1e6, wall / commands * 1e6

ra, rb = [], []
for r in range(a.rounds):
    ra.append(run(a.a_port, a.a_pid)); rb.append(run(a.b_port, a.b_pid))
    print("round %d: A %.1f us CPU/command (%.1f us wall), B %.1f (%.1f)" % (r, ra[-1][0], ra[-1][1], rb[-1][0], rb[-1][1]), flush=True)
med = lambda xs, i: statistics.median(x[i] for x in xs)
print("medians: A %.1f us CPU/command, %.1f us wall; B %.1f, %.1f; B/A CPU %.2f, wall %.2f"
      % (med(ra, 0), med(ra, 1), med(rb, 0), med(rb, 1), med(rb, 0) / med(ra, 0), med(rb, 1) / med(ra, 1)))
