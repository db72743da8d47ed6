// The loss of a NATS server under a cluster of machines: three clustered nats-servers
// (the KV buckets replicated three times), two ternmail nodes each given all three.
// kill -9 of the server leading the directory's KV stream: logins and deliveries go on
// from the nodes' caches, directory writes resume once a new leader is elected, and
// every message acknowledged with 250 is in its mailbox exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { python } from '../support/clients.js';
import { expectExactlyOnce } from '../support/cluster.js';
import { cleanUpAfterEach, NODE_PORTS, startNatsCluster, TestNode, type NatsServer } from '../support/nats.js';
import { DIRECTORY_BUCKET } from '../../src/directory/kv-directory.js';

const NATS_HOSTS = ['127.0.0.6', '127.0.0.7', '127.0.0.8'];
const HOSTS = ['127.0.0.9', '127.0.0.10'];
const USERS = ['k1', 'k2', 'k3', 'k4'].map((u) => `${u}@leader.test`);

const nodes: TestNode[] = [];
const servers: NatsServer[] = [];
cleanUpAfterEach(afterEach, nodes, servers);

/** Sends each subject to its recipient through `host`, then reads every user's Subjects over POP3 there. */
async function sendAndRead(host: string, mails: Array<[string, string]>): Promise<{ acked: string[]; logins: Record<string, string>; subjects: string[] }> {
  const { code, stdout, stderr } = await python(`
import smtplib, poplib, imaplib, sys, json
host, acked, logins, subjects = sys.argv[1], [], {}, []
s = smtplib.SMTP(host, int(sys.argv[2]), timeout=60)
for rcpt, subject in json.loads(sys.argv[5]):
    try:
        s.sendmail('sender@remote.test', [rcpt], ('Subject: %s\\r\\n\\r\\nbody\\r\\n' % subject).encode()); acked.append(subject)
    except smtplib.SMTPException:
        pass
s.quit()
for user in sys.argv[6].split(','):
    m = imaplib.IMAP4(host, int(sys.argv[4]))
    try:
        m.login(user, 'pw'); logins[user] = m.select('INBOX')[0]
    except imaplib.IMAP4.error as e:
        logins[user] = str(e)
    m.logout()
    p = poplib.POP3(host, int(sys.argv[3])); p.user(user); p.pass_('pw')
    subjects += [l[9:].decode() for i in range(p.stat()[0]) for l in p.top(i + 1, 0)[1] if l.startswith(b'Subject: ')]
    p.quit()
print(json.dumps({'acked': acked, 'logins': logins, 'subjects': subjects}))
`, [host, String(NODE_PORTS.smtp), String(NODE_PORTS.pop3), String(NODE_PORTS.imap), JSON.stringify(mails), USERS.join(',')]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

async function directoryLeader(urls: string[]): Promise<string> {
  const nc = await connect({ servers: urls });
  try {
    const kv = await new Kvm(nc).open(DIRECTORY_BUCKET);
    return (await kv.status()).streamInfo.cluster!.leader!;
  } finally {
    await nc.close();
  }
}

describe('kill -9 of the NATS server leading the directory\'s KV stream (3 NATS servers)', () => {
  it('keeps logins and deliveries going from the caches, resumes directory writes after the election, loses nothing acknowledged', async () => {
    const cluster = await startNatsCluster(NATS_HOSTS, 45222, 45622);
    servers.push(...cluster);
    const urls = cluster.map((s) => s.url);
    // Leases outlive a leader election (a few seconds), as with the default 10 s.
    const pair = HOSTS.map((host, i) => new TestNode(i + 1, host, urls, ['--lease-interval', '1000', '--lease-ttl', '10000']));
    nodes.push(...pair);
    await Promise.all(pair.map((n) => n.start()));
    const [one, two] = pair;
    await one.waitForNodes((rows) => rows.filter((r) => r.status === 'up').length === 2);
    expect((await one.cli(['domain', 'add', 'leader.test'])).code).toBe(0);
    for (const user of USERS) expect((await two.cli(['user', 'add', user, '--password', 'pw'])).code).toBe(0);
    await one.waitForNodes(() => true);
    const acked = new Set<string>();
    for (const s of (await sendAndRead(HOSTS[0], USERS.map((u) => [u, `before ${u}`]))).acked) acked.add(s);
    expect(acked.size).toBe(4);
    await one.waitForNodes((rows) => rows.reduce((n, r) => n + r.load.mailboxes, 0) === 4);

    const leader = await directoryLeader(urls);
    const victim = cluster.find((s) => s.name === leader)!;
    await victim.kill('SIGKILL');

    // Through both nodes, right after the kill: mail accepted and logins served from the caches.
    for (const [i, host] of HOSTS.entries()) {
      const round = await sendAndRead(host, USERS.map((u) => [u, `during ${i} ${u}`]));
      for (const s of round.acked) acked.add(s);
      expect(round.acked.length).toBe(4);
      expect(Object.values(round.logins)).toEqual(['OK', 'OK', 'OK', 'OK']);
    }
    // A directory write goes through once a new leader is elected.
    const deadline = Date.now() + 30_000;
    let added = await one.cli(['user', 'add', 'new@leader.test', '--password', 'pw']);
    while (added.code !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      added = await one.cli(['user', 'add', 'new@leader.test', '--password', 'pw']);
      if (/user exists/.test(added.stderr)) break;
    }
    const listDeadline = Date.now() + 30_000;
    while (!(await two.cli(['user', 'list'])).stdout.includes('new@leader.test')) {
      if (Date.now() > listDeadline) throw new Error(`the new user did not reach node 2: ${added.stderr} ${two.output.split("\n").filter((l) => /watch|NATS|warn|"level":[45]/.test(l)).join("\n")}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await directoryLeader(urls.filter((u) => u !== victim.url))).not.toBe(leader);

    const finalDeadline = Date.now() + 20_000;
    let last = await sendAndRead(HOSTS[1], []);
    while (last.subjects.length < acked.size && Date.now() < finalDeadline) {
      await new Promise((r) => setTimeout(r, 300));
      last = await sendAndRead(HOSTS[1], []);
    }
    expectExactlyOnce(last.subjects, acked);
  }, 90_000);
});
