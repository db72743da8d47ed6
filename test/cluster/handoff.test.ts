// Connection handoff in `ternmail start --workers 2`: an IMAP or POP3 connection that
// logs in on the worker not holding the user's mailbox moves to the one that does and
// goes on there, already logged in, with the bytes the client pipelined. TLS sessions
// stay where they are; a handoff to a worker just killed leaves the session where it was,
// and the sessions on the other worker go on undisturbed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, python } from '../support/clients.js';
import { TestCluster } from '../support/cluster.js';
import { selfSignedCertificate } from '../support/certificates.js';

const certificate = selfSignedCertificate();
const cluster = new TestCluster();
const DOMAIN = 'ho.test';
/** The node holding each user's mailbox, learned from where its first delivery landed. */
const owner = new Map<string, number>();
let delivered = 0;

async function deliver(user: string, subject: string): Promise<void> {
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('x@remote.test', [sys.argv[2]], ('Subject: %s\\r\\n\\r\\nbody of %s\\r\\n' % (sys.argv[3], sys.argv[3])).encode())
s.quit()
`, [String(cluster.ports!.smtp), user, subject]);
  expect(code, stderr).toBe(0);
  delivered += 1;
  await cluster.waitDelivered(delivered);
}

/** Delivers a first message to each user in turn and notes the worker its mailbox went to. */
async function place(user: string): Promise<void> {
  const before = (await cluster.workers()).map((w) => w.mailboxes);
  await deliver(user, `welcome ${user}`);
  const rows = await cluster.waitForWorkers((r) => r.reduce((n, w) => n + w.mailboxes, 0) === owner.size + 1);
  const grown = rows.find((w, i) => w.mailboxes > before[i]!)!;
  owner.set(user, grown.node);
}

/** Client ports of the connections handed off to `to` so far (from the origin's log line). */
function handedOff(protocol: 'imap' | 'pop3', to: number): Set<number> {
  const ports = new Set<number>();
  for (const line of cluster.output.split('\n')) {
    if (!line.includes(`"msg":"${protocol} session handed off"`)) continue;
    const entry = JSON.parse(line) as { to: number; clientPort: number };
    if (entry.to === to) ports.add(entry.clientPort);
  }
  return ports;
}

async function imapLogin(user: string): Promise<LineClient> {
  const client = await LineClient.connect(cluster.ports!.imap);
  await client.expect(/^\* OK .*\r\n/m);
  client.send(`a LOGIN ${user} pw\r\n`);
  await client.expect(/^a OK .*\r\n/m);
  return client;
}

async function sessionsPerWorker(expected: (rows: Map<number, number>) => boolean): Promise<Map<number, number>> {
  const rows = await cluster.waitForWorkers((r) => expected(new Map(r.map((w) => [w.node, w.sessions]))));
  return new Map(rows.map((w) => [w.node, w.sessions]));
}

beforeAll(async () => {
  await cluster.start({ env: { TERNMAIL_TLS_KEY: certificate.key, TERNMAIL_TLS_CERT: certificate.cert } });
  await cluster.addUsers(DOMAIN, ['imap1', 'imap2', 'pop1'].map((u) => `${u}@${DOMAIN}`));
  for (const user of ['imap1', 'imap2', 'pop1']) await place(`${user}@${DOMAIN}`);
  expect(new Set([owner.get(`imap1@${DOMAIN}`), owner.get(`imap2@${DOMAIN}`)])).toEqual(new Set([1, 2]));
}, 90_000);

afterAll(async () => cluster.destroy());

describe('IMAP handoff to the worker holding the mailbox', () => {
  it('serves 20 sessions of one user on its mailbox\'s worker: SELECT, FETCH, STORE, IDLE, LOGOUT', async () => {
    const user = `imap1@${DOMAIN}`;
    const node = owner.get(user)!;
    const other = 3 - node;
    const clients = await Promise.all(Array.from({ length: 20 }, () => imapLogin(user)));
    const sessions = await sessionsPerWorker((s) => s.get(node) === 20 && s.get(other) === 0);
    expect([sessions.get(node), sessions.get(other)]).toEqual([20, 0]);
    const moved = handedOff('imap', node);
    const movedHere = clients.filter((c) => moved.has(c.socket.localPort!));
    expect(movedHere.length).toBeGreaterThan(0);

    for (const [i, client] of clients.entries()) {
      client.send('b SELECT INBOX\r\n');
      expect(await client.expect(/^b OK .*\r\n/m)).toMatch(/^\* 1 EXISTS\r\n/m);
      client.send('c FETCH 1 BODY[]\r\n');
      expect(await client.expect(/^c OK .*\r\n/m)).toMatch(/Subject: welcome imap1@ho\.test\r\n\r\nbody of welcome imap1@ho\.test\r\n/);
      client.send(`d STORE 1 +FLAGS (k${i})\r\n`);
      expect(await client.expect(/^d OK .*\r\n/m)).toMatch(new RegExp(`^\\* 1 FETCH \\(.*FLAGS \\(.*k${i}.*\\)`, 'm'));
    }
    for (const client of clients) {
      client.send('e IDLE\r\n');
      await client.expect(/^\+ .*\r\n/m);
    }
    await deliver(user, 'while idling');
    for (const client of clients) {
      await client.expect(/^\* 2 EXISTS\r\n/m, 10_000);
      client.send('DONE\r\n');
      await client.expect(/^e OK .*\r\n/m);
      client.send('f LOGOUT\r\n');
      expect(await client.expect(/^f OK .*\r\n/m)).toMatch(/^\* BYE /m);
      await client.waitClosed();
    }
  }, 60_000);

  it('keeps commands pipelined with LOGIN in one packet', async () => {
    const user = `imap2@${DOMAIN}`;
    const node = owner.get(user)!;
    const movedBefore = handedOff('imap', node);
    const ports: number[] = [];
    for (let i = 0; i < 6; i++) {
      const client = await LineClient.connect(cluster.ports!.imap);
      ports.push(client.socket.localPort!);
      await client.expect(/^\* OK .*\r\n/m);
      client.send(`a LOGIN ${user} pw\r\nb SELECT INBOX\r\nc FETCH 1 BODY[]\r\n`);
      const replies = await client.expect(/^c OK .*\r\n/m);
      expect(replies).toMatch(/^a OK .*\r\n/m);
      expect(replies).toMatch(/^\* 1 EXISTS\r\n[\s\S]*^b OK \[READ-WRITE\]/m);
      expect(replies).toMatch(/^\* 1 FETCH \(BODY\[\] \{\d+\}\r\nReceived: [\s\S]*\r\nSubject: welcome imap2@ho\.test\r\n/m);
      expect(replies.indexOf('a OK')).toBeLessThan(replies.indexOf('b OK'));
      client.close();
    }
    const moved = handedOff('imap', node);
    expect(ports.filter((p) => moved.has(p) && !movedBefore.has(p)).length).toBeGreaterThan(0);
  }, 30_000);

  it('leaves STARTTLS sessions on the worker they reached', async () => {
    const user = `imap1@${DOMAIN}`;
    const before = handedOff('imap', owner.get(user)!).size;
    const { code, stdout, stderr } = await python(`
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
for i in range(6):
    c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
    c.starttls(ssl_context=ctx)
    c.login(sys.argv[2], 'pw')
    typ, data = c.select('INBOX')
    assert typ == 'OK', data
    typ, data = c.fetch('1', '(BODY.PEEK[])')
    assert b'body of welcome' in data[0][1], data
    c.logout()
    print('ok')
`, [String(cluster.ports!.imap), user]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split('\n')).toEqual(Array(6).fill('ok'));
    expect(handedOff('imap', owner.get(user)!).size).toBe(before);
  }, 30_000);
});

describe('POP3 handoff', () => {
  it('hands USER/PASS sessions to the maildrop\'s worker, pipelined or not; STAT, RETR, DELE and QUIT work and deletions last', async () => {
    const user = `pop1@${DOMAIN}`;
    const node = owner.get(user)!;
    for (let i = 1; i <= 6; i++) await deliver(user, `pop message ${i}`);
    // Connections alternate between the workers: both kinds reach the non-owner.
    const pipelining = [true, true, false, false, true, false];
    const ports = { pipelined: [] as number[], plain: [] as number[] };
    for (const [i, pipelined] of pipelining.entries()) {
      const left = 7 - i;
      const client = await LineClient.connect(cluster.ports!.pop3);
      (pipelined ? ports.pipelined : ports.plain).push(client.socket.localPort!);
      await client.expect(/^\+OK .*\r\n/m);
      if (pipelined) client.send(`USER ${user}\r\nPASS pw\r\nSTAT\r\n`);
      else client.send(`USER ${user}\r\n`);
      await client.expect(/^\+OK .*\r\n/m);
      if (!pipelined) client.send('PASS pw\r\n');
      expect(await client.expect(/^[+-].*\r\n/m)).toMatch(new RegExp(`^\\+OK maildrop has ${left} messages`));
      if (!pipelined) client.send('STAT\r\n');
      expect(await client.expect(/^[+-].*\r\n/m)).toMatch(new RegExp(`^\\+OK ${left} \\d+`));
      client.send('RETR 1\r\n');
      expect(await client.expect(/^\.\r\n/m)).toMatch(/^\+OK \d+ octets\r\nReceived: [\s\S]*\r\nSubject: (welcome|pop message \d)/);
      client.send('DELE 1\r\nQUIT\r\n');
      await client.expect(/^\+OK message 1 deleted\r\n/m);
      expect(await client.expect(/^[+-].*\r\n/m)).toMatch(/^\+OK .*\(1 messages deleted\)/);
      await client.waitClosed();
    }
    const moved = handedOff('pop3', node);
    expect(ports.pipelined.filter((p) => moved.has(p)).length).toBeGreaterThan(0);
    expect(ports.plain.filter((p) => moved.has(p)).length).toBeGreaterThan(0);
    const { stdout, code, stderr } = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user(sys.argv[2]); p.pass_('pw')
print(p.stat()[0]); p.quit()
`, [String(cluster.ports!.pop3), user]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toBe('1');
  }, 60_000);
});

describe('handoff to a worker that was just killed', () => {
  it('keeps the session on the worker it reached; nothing else crashes', async () => {
    const user = `imap2@${DOMAIN}`;
    const node = owner.get(user)!;
    const before = await cluster.workers();
    const victim = before.find((w) => w.node === node)!;
    const survivor = before.find((w) => w.node !== node)!;
    // Sessions of a user whose mailbox is on the other worker (all of them moved there at login).
    const bystanders = await Promise.all(Array.from({ length: 3 }, () => imapLogin(`imap1@${DOMAIN}`)));
    for (const client of bystanders) {
      client.send('b SELECT INBOX\r\n');
      await client.expect(/^b OK .*\r\n/m);
    }
    process.kill(victim.pid!, 'SIGKILL');
    // The primary notices within milliseconds; the worker is back only after a restart delay and its start.
    await new Promise((r) => setTimeout(r, 100));
    const clients = await Promise.all(Array.from({ length: 6 }, () => imapLogin(user)));
    for (const client of clients) {
      client.send('n NOOP\r\n');
      await client.expect(/^n OK .*\r\n/m);
    }
    expect(cluster.output).toMatch(/"msg":"imap handoff refused; serving the session here"/);
    const rows = await cluster.waitForWorkers((r) => r.find((w) => w.node === node)!.state === 'running' && r.find((w) => w.node === node)!.pid !== victim.pid);
    expect(rows.find((w) => w.node === survivor.node)!.pid).toBe(survivor.pid);
    expect(cluster.primary!.exitCode).toBeNull();
    for (const client of clients) {
      client.send('s SELECT INBOX\r\n');
      await client.expect(/^s OK .*\r\n/m, 10_000);
      client.send('z LOGOUT\r\n');
      await client.expect(/^z OK .*\r\n/m);
    }
    // The other worker's sessions never noticed.
    for (const client of bystanders) {
      client.send('f FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]\r\n');
      await client.expect(/Subject: welcome imap1@ho\.test[\s\S]*^f OK .*\r\n/m);
      client.send('z LOGOUT\r\n');
      await client.expect(/^z OK .*\r\n/m);
    }
    const again = await imapLogin(user);
    again.send('s SELECT INBOX\r\n');
    await again.expect(/^s OK .*\r\n/m);
    again.close();
  }, 60_000);
});
