// `cluster.workersAccept` in `ternmail start --workers 2`: every worker holds the listening
// sockets and accepts its connections itself, so the primary handles none of them; mail
// and logins go on as with the primary's hand-out (a session logged in on the worker not
// holding the mailbox still moves to the one that does). The default keeps the
// listening sockets in the primary alone.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { TestCluster } from '../support/cluster.js';

const DOMAIN = 'wa.test';
const USERS = ['ann', 'bob', 'cid', 'dot', 'eve', 'fay'].map((u) => `${u}@${DOMAIN}`);

/** Inodes of the sockets listening on 127.0.0.1:`port` (from /proc/net/tcp). */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.add(f[9]!);
  }
  return inodes;
}

/** Whether process `pid` holds one of `inodes` among its descriptors. */
function holdsSocket(pid: number, inodes: Set<string>): boolean {
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const match = /^socket:\[(\d+)\]$/.exec(target);
    if (match && inodes.has(match[1]!)) return true;
  }
  return false;
}

async function workerPids(cluster: TestCluster): Promise<number[]> {
  return (await cluster.workers()).map((w) => w.pid!).filter((pid) => pid > 0);
}

describe('workers accepting their own connections (cluster.workersAccept)', () => {
  const cluster = new TestCluster();

  beforeAll(async () => {
    await cluster.start({ workers: 2, env: { TERNMAIL_WORKERS_ACCEPT: 'true' } });
    await cluster.addUsers(DOMAIN, USERS);
  }, 60_000);

  afterAll(async () => cluster.destroy());

  it('gives every worker the IMAP and SMTP listening sockets', async () => {
    const pids = await workerPids(cluster);
    expect(pids).toHaveLength(2);
    for (const port of [cluster.ports!.imap, cluster.ports!.smtp]) {
      const inodes = listeningInodes(port);
      expect(inodes.size).toBeGreaterThan(0);
      for (const pid of pids) expect(holdsSocket(pid, inodes), `worker ${pid} on port ${port}`).toBe(true);
    }
  });

  it('accepts mail on any worker and serves each user\'s mailbox over IMAP, once per message', async () => {
    const { code, stdout, stderr } = await python(`
import imaplib, smtplib, sys, time
smtp_port, imap_port, users = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
for round in range(2):
    for user in users:
        s = smtplib.SMTP('127.0.0.1', smtp_port)
        s.sendmail('x@remote.test', [user], ('Subject: %s %d\\r\\n\\r\\nbody\\r\\n' % (user, round)).encode())
        s.quit()
deadline = time.time() + 20
for user in users:
    while True:
        c = imaplib.IMAP4('127.0.0.1', imap_port)
        c.login(user, 'pw')
        typ, data = c.select('INBOX')
        count = int(data[0])
        if count >= 2 or time.time() > deadline:
            typ, data = c.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
            subjects = sorted(part[1].decode().strip() for part in data if isinstance(part, tuple))
            print(user, count, '|'.join(subjects))
            c.logout()
            break
        c.logout()
        time.sleep(0.2)
`, [String(cluster.ports!.smtp), String(cluster.ports!.imap), ...USERS]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(USERS.map((u) => `${u} 2 Subject: ${u} 0|Subject: ${u} 1`));
  }, 60_000);
});

describe('the primary accepting for the workers (default)', () => {
  const cluster = new TestCluster();

  beforeAll(async () => cluster.start({ workers: 2 }), 60_000);
  afterAll(async () => cluster.destroy());

  it('keeps the listening sockets in the primary alone', async () => {
    const inodes = listeningInodes(cluster.ports!.imap);
    expect(inodes.size).toBeGreaterThan(0);
    expect(holdsSocket(cluster.primary!.pid!, inodes)).toBe(true);
    for (const pid of await workerPids(cluster)) expect(holdsSocket(pid, inodes)).toBe(false);
  });
});
