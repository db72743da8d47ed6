// Faults of ternmail nodes in a cluster of machines, with real processes and a real
// nats-server: a node killed with -9 (its users get temporary failures, mail for them
// waits in the other node's queue and is delivered within 10 s of its return, the
// other node's sessions go on), and a node frozen with SIGSTOP for 30 s (its lease
// lapses and is reported; resumed, it catches up the directory and serves again).
// Every message acknowledged with 250 is in its mailbox exactly once afterwards.
import { afterEach, describe, expect, it } from 'vitest';
import { LineClient, python } from '../support/clients.js';
import { expectExactlyOnce } from '../support/cluster.js';
import { cleanUpAfterEach, NODE_PORTS, startNats, TestNode, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/server.js';

const NATS_HOST = '127.0.0.12';
const NATS_PORT = 45222;
const HOSTS = ['127.0.0.13', '127.0.0.14'];
const USERS = ['f1', 'f2', 'f3', 'f4'].map((u) => `${u}@faults.test`);

const nodes: TestNode[] = [];
const servers: NatsServer[] = [];
cleanUpAfterEach(afterEach, nodes, servers);

async function twoNodes(): Promise<[TestNode, TestNode]> {
  const nats = await startNats(NATS_HOST, NATS_PORT);
  servers.push(nats);
  // Leases lapse 10 s after the last refresh, as by default: well after the checks made right after a kill.
  const pair = [1, 2].map((id) => new TestNode(id, HOSTS[id - 1], [nats.url], ['--lease-ttl', '10000'])) as [TestNode, TestNode];
  nodes.push(...pair);
  await Promise.all(pair.map((n) => n.start()));
  await pair[0].waitForNodes((rows) => rows.filter((r) => r.status === 'up').length === 2);
  expect((await pair[0].cli(['domain', 'add', 'faults.test'])).code).toBe(0);
  for (const user of USERS) expect((await pair[1].cli(['user', 'add', user, '--password', 'pw'])).code).toBe(0);
  await pair[0].waitForNodes(() => true);
  return pair;
}

/** Sends each subject to its recipient through `host`; returns the subjects answered 250. */
async function send(host: string, mails: Array<[string, string]>): Promise<string[]> {
  const { code, stdout, stderr } = await python(`
import smtplib, sys, json
acked = []
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=60)
for rcpt, subject in json.loads(sys.argv[3]):
    try:
        s.sendmail('sender@remote.test', [rcpt], ('Subject: %s\\r\\n\\r\\nbody of %s\\r\\n' % (subject, subject)).encode())
        acked.append(subject)
    except smtplib.SMTPException as e:
        pass
s.quit()
print(json.dumps(acked))
`, [host, String(NODE_PORTS.smtp), JSON.stringify(mails)]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

/** Per user, through `host`: the IMAP LOGIN+SELECT answer, the POP3 PASS answer, and the Subjects stored. */
async function probe(host: string, users: string[]): Promise<Record<string, { imap: string; pop3: string; subjects: string[] }>> {
  const { code, stdout, stderr } = await python(`
import imaplib, poplib, sys, json
host, out = sys.argv[1], {}
for user in sys.argv[4].split(','):
    m = imaplib.IMAP4(host, int(sys.argv[3]))
    try:
        m.login(user, 'pw')
        typ, data = m.select('INBOX'); imap = 'OK' if typ == 'OK' else 'SELECT ' + data[0].decode()
    except imaplib.IMAP4.error as e:
        imap = 'LOGIN ' + str(e)
    try: m.logout()
    except Exception: pass
    p = poplib.POP3(host, int(sys.argv[2])); p.user(user); subjects = []
    try:
        p.pass_('pw'); pop = 'OK'
        subjects = [l[9:].decode() for i in range(p.stat()[0]) for l in p.top(i + 1, 0)[1] if l.startswith(b'Subject: ')]
    except poplib.error_proto as e:
        pop = e.args[0].decode()
    try: p.quit()
    except Exception: pass
    out[user] = {'imap': imap, 'pop3': pop, 'subjects': subjects}
print(json.dumps(out))
`, [host, String(NODE_PORTS.pop3), String(NODE_PORTS.imap), users.join(',')]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}


describe('faults of a node of a cluster of machines', () => {
  it('kill -9 of a node: its users get temporary failures, the other node\'s sessions go on, mail waits and is delivered within 10 s of its return, exactly once', async () => {
    const [one, two] = await twoNodes();
    const acked = new Set(await send(HOSTS[0], USERS.map((u) => [u, `before ${u}`])));
    expect(acked.size).toBe(4);
    const before = await waitFor(async () => {
      const seen = await probe(HOSTS[0], USERS);
      return Object.values(seen).every((s) => s.subjects.length === 1) ? seen : undefined;
    }, 15_000, 'first mail stored');
    expect(Object.values(before).map((s) => s.imap)).toEqual(['OK', 'OK', 'OK', 'OK']);
    const rows = await one.nodes();
    expect(rows.map((r) => r.load.mailboxes)).toEqual([2, 2]);

    // A session on node 1 for each user, open across the kill.
    const sessions = await Promise.all(USERS.map(async (user) => {
      const client = await LineClient.connect(NODE_PORTS.imap, HOSTS[0]);
      await client.expect(/^\* OK .*\r\n/m);
      client.send(`a LOGIN ${user} pw\r\nb SELECT INBOX\r\n`);
      await client.expect(/^b OK .*\r\n/m);
      return { user, client };
    }));

    await two.kill('SIGKILL');
    // Right away, the open sessions of its users (relayed by node 1 to node 2's listener) are closed.
    const statusAnswers = new Map<string, string>();
    for (const { user, client } of sessions) {
      client.send('k STATUS INBOX (MESSAGES)\r\n');
      const answer = await client.expect(/^k .*\r\n/m).catch(() => 'closed');
      statusAnswers.set(user, answer === 'closed' ? answer : answer.match(/^k (OK|NO \[UNAVAILABLE\])/m)?.[1] ?? 'other');
    }
    // Logins too, at once: the mailbox's node does not answer (before its lease lapses).
    const during = await probe(HOSTS[0], USERS);
    expect((await one.nodes()).find((n) => n.node === 2)!.status).toBe('up');
    const down = USERS.filter((u) => during[u].imap !== 'OK');
    const up = USERS.filter((u) => during[u].imap === 'OK');
    expect(down.length).toBe(2);
    for (const user of down) {
      expect(during[user].imap).toMatch(/^LOGIN .*\[UNAVAILABLE\]/);
      expect(during[user].pop3).toMatch(/^-ERR \[SYS\/TEMP\]/);
    }
    for (const user of up) expect(during[user]).toEqual({ imap: 'OK', pop3: 'OK', subjects: [`before ${user}`] });
    expect(USERS.map((u) => statusAnswers.get(u))).toEqual(USERS.map((u) => (down.includes(u) ? 'closed' : 'OK')));
    for (const { user, client } of sessions.filter((s) => up.includes(s.user))) {
      client.send('c FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n');
      expect(await client.expect(/^c OK .*\r\n/m)).toContain(`Subject: before ${user}`);
    }

    for (const subject of await send(HOSTS[0], USERS.map((u) => [u, `during ${u}`]))) acked.add(subject);
    expect(acked.size).toBe(8);

    await two.start();
    const returned = Date.now();
    const after = await waitFor(async () => {
      const seen = await probe(HOSTS[1], USERS);
      return USERS.every((u) => seen[u].subjects.length >= 2) ? seen : undefined;
    }, 10_000, 'mail delivered after the return');
    expect(Date.now() - returned).toBeLessThan(10_000);
    expectExactlyOnce(USERS.flatMap((u) => after[u].subjects), acked);
    for (const user of USERS) expect(after[user].imap).toBe('OK');
    for (const { client } of sessions) client.socket.destroy();
  }, 60_000);

  it('SIGSTOP for 30 s: the lease lapses and is reported; after SIGCONT the node catches up the directory and serves, nothing acknowledged lost', async () => {
    const [one, two] = await twoNodes();
    const acked = new Set(await send(HOSTS[0], USERS.map((u) => [u, `before ${u}`])));
    await waitFor(async () => {
      const seen = await probe(HOSTS[1], USERS);
      return Object.values(seen).every((s) => s.subjects.length === 1) ? seen : undefined;
    }, 15_000, 'first mail stored');

    two.signal('SIGSTOP');
    const frozenAt = Date.now();
    const lapsed = await one.waitForNodes((rows) => rows.find((r) => r.node === 2)?.status === 'lapsed', 20_000);
    expect(lapsed.find((r) => r.node === 2)!.leaseAgeMs).toBeGreaterThan(10_000);
    expect((await one.cli(['cluster', 'status'])).stdout).toMatch(/^2 +127\.0\.0\.14 +\S+ +lapsed /m);
    // Meanwhile: mail for every user through node 1, and a directory write.
    for (const subject of await send(HOSTS[0], USERS.map((u) => [u, `frozen ${u}`]))) acked.add(subject);
    expect(acked.size).toBe(8);
    expect((await one.cli(['user', 'add', 'late@faults.test', '--password', 'pw'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - frozenAt))));

    two.signal('SIGCONT');
    await one.waitForNodes((rows) => rows.find((r) => r.node === 2)?.status === 'up', 15_000);
    await waitFor(async () => ((await two.cli(['user', 'list'])).stdout.includes('late@faults.test') ? true : undefined), 10_000, 'node 2 caught up the directory');
    const after = await waitFor(async () => {
      const seen = await probe(HOSTS[1], USERS);
      return USERS.every((u) => seen[u].subjects.length >= 2) ? seen : undefined;
    }, 15_000, 'mail delivered after SIGCONT');
    expectExactlyOnce(USERS.flatMap((u) => after[u].subjects), acked);
    expect(one.output).toMatch(/"node":2.*"msg":"node lease lapsed"/);
  }, 90_000);
});
