// A node of a cluster of machines may itself run `--workers N`: each worker joins the
// cluster as a node of its own (worker k of node N is node N*100+k) with its own store,
// the machine's listeners shared by its workers. Two machine nodes of two workers
// each, real processes and a real nats-server: mail through either machine lands in
// every mailbox exactly once; IMAP and POP3 through the machine (and worker) that does
// not hold a mailbox reach it (relayed to its worker's own port); a worker killed
// with -9 is started again by its node, and mail accepted meanwhile is delivered.
// Started as root with --user, such a node binds ports 25 and 110, then it and every
// worker (a restarted one too) run as the user; once every worker is gone it cannot
// bind port 25 again and exits 75.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, idsOf, notOwnedBy, uidOf } from '../support/process-ids.js';
import { python } from '../support/clients.js';
import { waitFor } from '../support/server.js';
import { cleanUpAfterEach, NODE_PORTS, startNats, TestNode, type NatsServer } from '../support/nats.js';

const NATS_HOST = '127.0.0.11';
const NATS_PORT = 45224;
const HOSTS = ['127.0.0.12', '127.0.0.13'];
const USERS = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8'].map((u) => `${u}@workers.test`);

const nodes: TestNode[] = [];
const servers: NatsServer[] = [];
cleanUpAfterEach(afterEach, nodes, servers);

interface Row { node: number; status: string; pid: number; imapPort: number; pop3Port: number; load: { mailboxes: number } }

async function rowsOf(node: TestNode): Promise<Row[]> {
  return (await node.nodes()) as unknown as Row[];
}

async function twoMachines(): Promise<[TestNode, TestNode]> {
  const nats = await startNats(NATS_HOST, NATS_PORT);
  servers.push(nats);
  const pair = [1, 2].map((id) => new TestNode(id, HOSTS[id - 1], [nats.url], ['--workers', '2', '--lease-ttl', '10000'])) as [TestNode, TestNode];
  nodes.push(...pair);
  await Promise.all(pair.map((n) => n.start()));
  const rows = await pair[0].waitForNodes((r) => r.filter((n) => n.status === 'up').length === 4);
  expect(rows.map((r) => r.node).sort((a, b) => a - b)).toEqual([101, 102, 201, 202]);
  expect((await pair[0].cli(['domain', 'add', 'workers.test'])).code).toBe(0);
  for (const user of USERS) expect((await pair[1].cli(['user', 'add', user, '--password', 'pw'])).code).toBe(0);
  return pair;
}

/** Sends each subject to its recipient through `host`; returns the subjects answered 250. */
async function send(host: string, mails: Array<[string, string]>): Promise<string[]> {
  const { code, stdout, stderr } = await python(`
import smtplib, sys, json
acked = []
for rcpt, subject in json.loads(sys.argv[3]):
    s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=60)
    try:
        s.sendmail('sender@remote.test', [rcpt], ('Subject: %s\\r\\n\\r\\nbody of %s\\r\\n' % (subject, subject)).encode())
        acked.append(subject)
    except smtplib.SMTPException:
        pass
    s.quit()
print(json.dumps(acked))
`, [host, String(NODE_PORTS.smtp), JSON.stringify(mails)]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

/** Per user, through `host`: the Subjects in INBOX over IMAP (SELECT + FETCH) and the message count over POP3. */
async function read(host: string, users: string[]): Promise<Record<string, { imap: string[] | string; pop3: number | string }>> {
  const { code, stdout, stderr } = await python(`
import imaplib, poplib, sys, json
host, out = sys.argv[1], {}
for user in sys.argv[4].split(','):
    try:
        m = imaplib.IMAP4(host, int(sys.argv[3])); m.login(user, 'pw'); m.select('INBOX')
        typ, data = m.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
        imap = sorted(p[1].decode().strip()[9:] for p in data if isinstance(p, tuple)) if typ == 'OK' and data != [None] else []
        m.logout()
    except Exception as e:
        imap = 'error ' + str(e)
    try:
        p = poplib.POP3(host, int(sys.argv[2])); p.user(user); p.pass_('pw'); pop = p.stat()[0]; p.quit()
    except Exception as e:
        pop = 'error ' + str(e)
    out[user] = {'imap': imap, 'pop3': pop}
print(json.dumps(out))
`, [host, String(NODE_PORTS.pop3), String(NODE_PORTS.imap), users.join(',')]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}


describe('a node of a cluster of machines with --workers', () => {
  it('joins each worker as a node: mail through either machine lands once, IMAP and POP3 reach every mailbox from both; a worker killed -9 comes back and its mail is delivered', async () => {
    const [one, two] = await twoMachines();
    // Half the mail through each machine: its workers take the connections in turn.
    const first = await send(HOSTS[0], USERS.slice(0, 4).map((u) => [u, `first ${u}`]));
    const second = await send(HOSTS[1], USERS.slice(4).map((u) => [u, `first ${u}`]));
    expect([...first, ...second].length).toBe(USERS.length);
    const expected = Object.fromEntries(USERS.map((u) => [u, { imap: [`first ${u}`], pop3: 1 }]));
    await waitFor(async () => {
      const seen = await read(HOSTS[0], USERS);
      return JSON.stringify(seen) === JSON.stringify(expected) ? seen : undefined;
    }, 20_000, 'mail stored');
    // The same through the other machine: every session that lands away from its mailbox is relayed.
    expect(await read(HOSTS[1], USERS)).toEqual(expected);
    // The mailboxes are spread over the workers of both machines.
    const rows = await rowsOf(one);
    expect(rows.filter((r) => r.load.mailboxes > 0).length).toBeGreaterThanOrEqual(3);
    expect(rows.reduce((sum, r) => sum + r.load.mailboxes, 0)).toBe(USERS.length);
    expect(one.output).toMatch(/imap session relayed to its node/);
    // Relayed sessions go to each worker's own ports, not to the machine's shared listeners.
    for (const row of rows) {
      expect(row.imapPort).not.toBe(NODE_PORTS.imap);
      expect(row.pop3Port).not.toBe(NODE_PORTS.pop3);
    }

    // kill -9 of worker 1 of machine 2: its node starts it again.
    const victim = rows.find((r) => r.node === 201)!;
    process.kill(victim.pid, 'SIGKILL');
    const acked = await send(HOSTS[0], USERS.map((u) => [u, `second ${u}`]));
    await waitFor(async () => {
      const back = (await rowsOf(one)).find((r) => r.node === 201);
      return back && back.status === 'up' && back.pid !== victim.pid ? back : undefined;
    }, 30_000, 'worker 201 back');
    expect(two.output).toMatch(/node worker exited; restarting/);
    // Every message acknowledged is in its mailbox exactly once, read through the other machine.
    await waitFor(async () => {
      const seen = await read(HOSTS[1], USERS);
      const complete = USERS.every((u) => {
        const subjects = seen[u]!.imap;
        return Array.isArray(subjects) && acked.filter((s) => s.endsWith(` ${u}`)).every((s) => subjects.includes(s));
      });
      return complete ? seen : undefined;
    }, 30_000, 'mail after the kill stored').then((seen) => {
      for (const user of USERS) {
        const subjects = seen[user]!.imap as string[];
        expect(new Set(subjects).size, `${user}: ${subjects.join(', ')}`).toBe(subjects.length);
        expect(seen[user]!.pop3).toBe(subjects.length);
      }
    });
  });

  it.skipIf(process.getuid?.() !== 0)('with --user as root: binds ports 25 and 110, then the node and its workers (a restarted one too) run as nobody and serve mail; exits 75 once every worker is gone', async () => {
    const nats = await startNats(NATS_HOST, NATS_PORT);
    servers.push(nats);
    const host = '127.0.0.14';
    const node = new TestNode(3, host, [nats.url], ['--workers', '2', '--smtp-port', '25', '--pop3-port', '110', '--user', 'nobody']);
    nodes.push(node);
    await node.start();
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const nogroup = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
    const asNobody = { uid: [nobody, nobody, nobody, nobody], gid: [nogroup, nogroup, nogroup, nogroup] };
    const main = node.child!.pid!;
    await waitFor(async () => uidOf(main) === nobody, 10_000, 'the node to run as nobody');
    const workerPids = (await rowsOf(node)).map((r) => r.pid);
    expect(childrenOf(main).sort()).toEqual([...workerPids].sort());
    for (const pid of [main, ...workerPids]) expect(idsOf(pid), `process ${pid}`).toEqual(asNobody);

    expect((await node.cli(['domain', 'add', 'workers.test'])).code).toBe(0);
    for (const user of USERS.slice(0, 2)) expect((await node.cli(['user', 'add', user, '--password', 'pw'])).code).toBe(0);
    const mail = async (subject: string) => {
      const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], 25)
for to in sys.argv[2].split(','):
    s.sendmail('someone@remote.test', [to], ('Subject: %s\\r\\n\\r\\nhi\\r\\n' % sys.argv[3]).encode())
s.quit()
`, [host, USERS.slice(0, 2).join(','), subject]);
      expect(code, stderr).toBe(0);
    };
    const counts = async () => {
      const { code, stdout, stderr } = await python(`
import poplib, sys, json
out = []
for user in sys.argv[2].split(','):
    p = poplib.POP3(sys.argv[1], 110); p.user(user); p.pass_('pw'); out.append(p.stat()[0]); p.quit()
print(json.dumps(out))
`, [host, USERS.slice(0, 2).join(',')]);
      expect(code, stderr).toBe(0);
      return JSON.parse(stdout) as number[];
    };
    await mail('low ports');
    await waitFor(async () => JSON.stringify(await counts()) === '[1,1]', 20_000, 'mail stored');

    // A worker killed is started again as nobody.
    process.kill(workerPids[0]!, 'SIGKILL');
    const back = await waitFor(async () => {
      const rows = await rowsOf(node).catch(() => []);
      return rows.length === 2 && rows.every((r) => r.status === 'up') && rows.some((r) => !workerPids.includes(r.pid)) ? rows : undefined;
    }, 30_000, 'the worker back');
    for (const row of back) expect(idsOf(row.pid), `worker ${row.node}`).toEqual(asNobody);
    await mail('after a restart');
    await waitFor(async () => JSON.stringify(await counts()) === '[2,2]', 20_000, 'mail after the restart stored');
    expect(notOwnedBy(node.data, nobody)).toEqual([]);

    // Every worker gone at once: port 25 would have to be bound again, which nobody cannot.
    const exited = new Promise<number | null>((resolve) => node.child!.once('exit', (code) => resolve(code)));
    for (const row of await rowsOf(node)) process.kill(row.pid, 'SIGKILL');
    expect(await exited).toBe(75);
    expect(node.output).toMatch(/"level":60[^\n]*cannot bind them again as --user/);
  });
});
