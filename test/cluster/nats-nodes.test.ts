// Nodes of a cluster of machines, as real processes joined through a real
// nats-server: each node on its own loopback address with the standard port layout.
// Membership and `cluster status` on any node; the directory written through any
// node and read from every node's cache; mailboxes placed by the first node needing
// them; mail accepted by any node for any mailbox, read and IDLEd on any node.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LineClient, python } from '../support/clients.js';
import { cleanUpAfterEach, NODE_PORTS, startNats, TestNode, type NatsServer } from '../support/nats.js';
import { cli } from '../support/process.js';
import { tempDir } from '../support/server.js';

const NATS_HOST = '127.0.0.2';
const NATS_PORT = 45222;
const HOSTS = ['127.0.0.3', '127.0.0.4', '127.0.0.5'];

const nodes: TestNode[] = [];
const servers: NatsServer[] = [];
cleanUpAfterEach(afterEach, nodes, servers);

async function cluster(roles: string[] = ['mta,store,access', 'mta,store,access', 'mta,store,access']): Promise<TestNode[]> {
  const nats = await startNats(NATS_HOST, NATS_PORT);
  servers.push(nats);
  const started = roles.map((r, i) => new TestNode(i + 1, HOSTS[i], [nats.url], ['--roles', r]));
  nodes.push(...started);
  await Promise.all(started.map((n) => n.start()));
  return started;
}

/** Sends one message per recipient through `host`'s SMTP, each with its Subject. */
async function send(host: string, mails: Array<[string, string]>): Promise<void> {
  const { code, stderr } = await python(`
import smtplib, sys, json
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]))
for rcpt, subject in json.loads(sys.argv[3]):
    s.sendmail('sender@remote.test', [rcpt], ('Subject: %s\\r\\n\\r\\nbody of %s\\r\\n' % (subject, subject)).encode())
s.quit()
`, [host, String(NODE_PORTS.smtp), JSON.stringify(mails)]);
  expect(code, stderr).toBe(0);
}

/** The Subjects in a user's mailbox, read with POP3 and IMAP through `host`. */
async function subjects(host: string, user: string): Promise<{ pop3: string[]; imap: string[] }> {
  const { code, stdout, stderr } = await python(`
import poplib, imaplib, sys, json, re
host, user = sys.argv[1], sys.argv[2]
p = poplib.POP3(host, int(sys.argv[3])); p.user(user); p.pass_('pw')
pop = [l[9:].decode() for i in range(p.stat()[0]) for l in p.top(i + 1, 0)[1] if l.startswith(b'Subject: ')]
p.quit()
m = imaplib.IMAP4(host, int(sys.argv[4])); m.login(user, 'pw'); m.select('INBOX')
typ, data = m.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])') if int(m.select('INBOX')[1][0]) > 0 else ('OK', [])
imap = [re.search(rb'Subject: (.*?)\\r\\n', d[1]).group(1).decode() for d in data if isinstance(d, tuple)]
m.logout()
print(json.dumps({'pop3': pop, 'imap': imap}))
`, [host, user, String(NODE_PORTS.pop3), String(NODE_PORTS.imap)]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

async function waitForSubjects(host: string, user: string, expected: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await subjects(host, user);
    if (seen.pop3.length >= expected.length) {
      expect(seen.pop3.sort()).toEqual([...expected].sort());
      expect(seen.imap.sort()).toEqual([...expected].sort());
      return;
    }
    if (Date.now() > deadline) throw new Error(`${user} on ${host}: ${JSON.stringify(seen)}, expected ${JSON.stringify(expected)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('ternmail start --cluster nats://… --node-id N', () => {
  it('refuses a cluster node without --node-id, with a number its workers would take (over 99), or with one role list per worker', async () => {
    const start = (extra: string[]) => cli(['start', '--cluster', `nats://${NATS_HOST}:${NATS_PORT}`, '--data', tempDir(), ...extra]);
    const noId = await start([]);
    expect([noId.code, noId.stderr]).toEqual([2, expect.stringMatching(/--node-id N/)]);
    const bigId = await start(['--node-id', '100']);
    expect([bigId.code, bigId.stderr]).toEqual([2, expect.stringMatching(/1 to 99/)]);
    const roles = await start(['--node-id', '1', '--roles', 'mta;store']);
    expect([roles.code, roles.stderr]).toEqual([2, expect.stringMatching(/one role list/)]);
  });

  it('lists every node on any node: state, roles, load and lease age; a node stopped cleanly shows stopped, one killed shows lapsed', async () => {
    const [one, two, three] = await cluster(['mta,store,access', 'mta,store,access', 'mta,access']);
    for (const node of [one, two, three]) {
      const rows = await node.waitForNodes((r) => r.length === 3 && r.every((n) => n.status === 'up'));
      expect(rows.map((r) => [r.node, r.host, r.roles.join(',')])).toEqual([[1, HOSTS[0], 'mta,store,access'], [2, HOSTS[1], 'mta,store,access'], [3, HOSTS[2], 'mta,access']]);
      for (const row of rows) {
        expect(row.leaseAgeMs).toBeGreaterThanOrEqual(0);
        expect(row.load).toEqual(expect.objectContaining({ mailboxes: expect.any(Number), sessions: expect.any(Number), queued: expect.any(Number) }));
      }
    }
    const table = await one.cli(['cluster', 'status']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^NODE +HOST +ROLES +STATE +LEASE AGE/);
    expect(table.stdout).toMatch(new RegExp(`^3 +${HOSTS[2].replace(/\./g, '\\.')} +mta,access +up +\\d+\\.\\ds`, 'm'));

    await two.kill('SIGTERM');
    await three.kill('SIGKILL');
    const rows = await one.waitForNodes((r) => r.find((n) => n.node === 2)?.status === 'stopped' && r.find((n) => n.node === 3)?.status === 'lapsed');
    expect(rows.find((n) => n.node === 3)!.leaseAgeMs).toBeGreaterThan(3000);
    const deadline = Date.now() + 5000;
    while (!/"node":3.*"msg":"node lease lapsed"/.test(one.output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(one.output).toMatch(/"node":3.*"msg":"node lease lapsed"/);
  }, 60_000);

  it('takes directory writes on any node into every node\'s cache, places mailboxes on the live store nodes, and carries mail between nodes', async () => {
    const [one, two, three] = await cluster(['mta,store,access', 'mta,store,access', 'mta,access']);
    expect((await one.cli(['domain', 'add', 'nodes.test'])).code).toBe(0);
    const users = ['u1', 'u2', 'u3', 'u4'].map((u) => `${u}@nodes.test`);
    for (const [i, user] of users.entries()) {
      const res = await [one, two, three][i % 3].cli(['user', 'add', user, '--password', 'pw']);
      expect(res.code, res.stderr).toBe(0);
    }
    expect((await two.cli(['alias', 'add', 'team@nodes.test', users.join(',')])).code).toBe(0);
    for (const node of [one, two, three]) {
      const list = await node.cli(['user', 'list']);
      expect(list.stdout.trim().split('\n').sort()).toEqual(users);
    }
    // A second add of the same user through another node is refused, not applied twice.
    const again = await three.cli(['user', 'add', users[0], '--password', 'other']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/user exists/);

    // Each message accepted by the mta-only node 3, for mailboxes not placed yet.
    await send(HOSTS[2], users.map((u) => [u, `first for ${u}`]));
    await send(HOSTS[0], [['team@nodes.test', 'to the team']]);
    for (const [i, user] of users.entries()) await waitForSubjects(HOSTS[i % 3], user, [`first for ${user}`, 'to the team']);

    // Placed when their first mail arrived: the mta-only node sent each body to its mailbox's node, delivering nothing itself.
    const rows = await three.waitForNodes((r) => r.length === 3 && r[0].load.delivered + r[1].load.delivered === 8);
    expect(rows.map((r) => [r.node, r.load.mailboxes, r.load.delivered])).toEqual([[1, 2, 4], [2, 2, 4], [3, 0, 0]]);

    // /metrics on any node sums every live node: the 8 deliveries happened on nodes 1 and 2.
    const { url, token } = JSON.parse(readFileSync(path.join(three.data, 'admin.json'), 'utf8'));
    const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    const delivered = text.split('\n').filter((l) => l.startsWith('ternmail_local_deliveries_total{') && l.includes('result="done"'));
    expect(delivered.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0)).toBe(8);
    expect(text).toMatch(/^process_resident_memory_bytes\{node="node-1"\}/m);
    expect(text).toMatch(/^process_resident_memory_bytes\{node="node-3"\}/m);
  }, 90_000);

  it('adds a store node and evens out mailboxes with cluster rebalance; drains a node restarted without the store role, mail intact', async () => {
    const nats = await startNats(NATS_HOST, NATS_PORT);
    servers.push(nats);
    const one = new TestNode(1, HOSTS[0], [nats.url]);
    nodes.push(one);
    await one.start();
    await one.cli(['domain', 'add', 'move.test']);
    const users = ['m1', 'm2', 'm3', 'm4'].map((u) => `${u}@move.test`);
    for (const user of users) await one.cli(['user', 'add', user, '--password', 'pw']);
    await send(HOSTS[0], users.map((u) => [u, `kept ${u}`]));
    for (const user of users) await waitForSubjects(HOSTS[0], user, [`kept ${user}`]);

    const two = new TestNode(2, HOSTS[1], [nats.url]);
    nodes.push(two);
    await two.start();
    await one.waitForNodes((r) => r.filter((n) => n.status === 'up').length === 2);
    const rebalance = async (node: TestNode, expected: number[]) => {
      const res = await node.cli(['cluster', 'rebalance']);
      expect(res.code, res.stderr + res.stdout).toBe(0);
      const rows = await node.waitForNodes((r) => r.length === 2 && r[0].load.mailboxes === expected[0] && r[1].load.mailboxes === expected[1]);
      expect(rows.map((r) => r.load.mailboxes)).toEqual(expected);
    };
    await rebalance(two, [2, 2]);
    for (const user of users) await waitForSubjects(HOSTS[1], user, [`kept ${user}`]);

    // Drain node 1: restarted without the store role, its mailboxes move to node 2.
    await one.kill('SIGTERM');
    const drained = new TestNode(1, HOSTS[0], [nats.url], ['--roles', 'mta,access'], {}, one.data);
    nodes.push(drained);
    await drained.start();
    await drained.waitForNodes((r) => r.filter((n) => n.status === 'up').length === 2 && r[0].roles.join(',') === 'mta,access');
    await rebalance(drained, [0, 4]);
    for (const user of users) await waitForSubjects(HOSTS[0], user, [`kept ${user}`]);
    await send(HOSTS[0], users.map((u) => [u, `after ${u}`]));
    for (const user of users) await waitForSubjects(HOSTS[1], user, [`kept ${user}`, `after ${user}`]);
  }, 90_000);

  it('tells an IMAP session IDLE on one node of mail delivered into its mailbox on another', async () => {
    const [one, two] = await cluster(['mta,store,access', 'mta,store,access']);
    await one.cli(['domain', 'add', 'idle.test']);
    for (const user of ['i1@idle.test', 'i2@idle.test']) await two.cli(['user', 'add', user, '--password', 'pw']);
    await send(HOSTS[0], [['i1@idle.test', 'one'], ['i2@idle.test', 'one']]);
    await waitForSubjects(HOSTS[0], 'i1@idle.test', ['one']);
    await waitForSubjects(HOSTS[0], 'i2@idle.test', ['one']);
    const owners = (await one.nodes()).map((n) => n.load.mailboxes);
    expect(owners).toEqual([1, 1]);

    // Both users IDLE on node 1: one of their mailboxes is on node 2, reached remotely.
    const clients = await Promise.all(['i1@idle.test', 'i2@idle.test'].map(async (user) => {
      const client = await LineClient.connect(NODE_PORTS.imap, HOSTS[0]);
      await client.expect(/^\* OK .*\r\n/m);
      client.send(`a LOGIN ${user} pw\r\nb SELECT INBOX\r\n`);
      await client.expect(/^b OK .*\r\n/m);
      client.send('c IDLE\r\n');
      await client.expect(/^\+ .*\r\n/m);
      return client;
    }));
    await send(HOSTS[1], [['i1@idle.test', 'two'], ['i2@idle.test', 'two']]);
    for (const client of clients) {
      await client.expect(/^\* 2 EXISTS\r\n/m, 10_000);
      client.send('DONE\r\nd LOGOUT\r\n');
      await client.expect(/^d OK .*\r\n/m);
    }
  }, 60_000);
});
