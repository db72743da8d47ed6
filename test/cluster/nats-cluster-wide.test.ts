// The session proxy of a cluster of machines, with real nodes and a real nats-server:
// node 1 runs only the listeners (mta,access), node 2 holds every mailbox, so every
// IMAP and POP3 session opened on node 1 is relayed byte for byte to node 2's own
// listener after node 1 checked the password: commands, pipelining, IDLE and POP3
// deletions work as on the owner, the capabilities seen at login stay true, the owner
// accepts the cluster ticket only from a node of the cluster, and an owner gone
// mid-session closes the relayed connection. And what else holds cluster-wide: failures
// spread over three nodes lock the account on all of them, and a directory operation
// on several keys (a rename) is whole after its node is killed half-way.
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { Packr } from 'msgpackr';
import { LineClient, python } from '../support/clients.js';
import { cleanUpAfterEach, NODE_PORTS, startNats, TestNode, type NatsServer } from '../support/nats.js';
import { selfSignedCertificate } from '../support/certificates.js';

const NATS_HOST = '127.0.0.15';
const NATS_PORT = 45222;
const HOSTS = ['127.0.0.16', '127.0.0.17'];
/** A client address that is no node of the cluster. */
const STRANGER = '127.0.0.11';
const SECRET = 'proxy-test-secret';
const IMAPS_PORT = 45993;

const nodes: TestNode[] = [];
const servers: NatsServer[] = [];
cleanUpAfterEach(afterEach, nodes, servers);

/** Node 1 with the listeners only, node 2 holding every mailbox; both with IMAPS. */
async function accessAndStore(): Promise<[TestNode, TestNode]> {
  const { key, cert } = selfSignedCertificate();
  const extra = ['--tls-key', key, '--tls-cert', cert, '--imaps-port', String(IMAPS_PORT)];
  const nats = await startNats(NATS_HOST, NATS_PORT);
  servers.push(nats);
  const pair = [
    new TestNode(1, HOSTS[0], [nats.url], ['--roles', 'mta,access', '--cluster-secret', SECRET, ...extra]),
    new TestNode(2, HOSTS[1], [nats.url], ['--roles', 'mta,store,access', '--cluster-secret', SECRET, ...extra]),
  ] as [TestNode, TestNode];
  nodes.push(...pair);
  await Promise.all(pair.map((n) => n.start()));
  await pair[0].waitForNodes((rows) => rows.filter((r) => r.status === 'up').length === 2);
  await pair[1].waitForNodes((rows) => rows.filter((r) => r.status === 'up').length === 2);
  expect((await pair[0].cli(['domain', 'add', 'proxy.test'])).code).toBe(0);
  for (const user of ['p1@proxy.test', 'p2@proxy.test']) expect((await pair[0].cli(['user', 'add', user, '--password', 'pw'])).code).toBe(0);
  return pair;
}

async function send(host: string, rcpt: string, subject: string): Promise<void> {
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]))
s.sendmail('sender@remote.test', [sys.argv[3]], ('Subject: %s\\r\\n\\r\\nbody of %s\\r\\n' % (sys.argv[4], sys.argv[4])).encode())
s.quit()
`, [host, String(NODE_PORTS.smtp), rcpt, subject]);
  expect(code, stderr).toBe(0);
}

/** Waits until the user's INBOX holds `count` messages, read on the node holding it. */
async function delivered(user: string, count: number): Promise<void> {
  const { code, stderr } = await python(`
import imaplib, sys, time
for _ in range(150):
    m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2])); m.login(sys.argv[3], 'pw')
    n = int(m.status('INBOX', '(MESSAGES)')[1][0].split()[-1].strip(b')')); m.logout()
    if n >= int(sys.argv[4]): sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
`, [HOSTS[1], String(NODE_PORTS.imap), user, String(count)]);
  expect(code, stderr).toBe(0);
}

async function loggedIn(host: string, user: string): Promise<{ client: LineClient; capabilities: string }> {
  const client = await LineClient.connect(NODE_PORTS.imap, host);
  await client.expect(/^\* OK .*\r\n/m);
  client.send(`a LOGIN ${user} pw\r\n`);
  const answer = await client.expect(/^a OK .*\r\n/m);
  return { client, capabilities: /\[CAPABILITY ([^\]]*)\]/.exec(answer)![1]! };
}

describe('the session proxy of a cluster of machines', () => {
  it('relays IMAP (plain, and IMAPS with COMPRESS) and POP3 sessions opened on a node without the mailbox to the node holding it, IDLE included; takes the ticket only from a node', async () => {
    const [one, two] = await accessAndStore();
    await send(HOSTS[0], 'p1@proxy.test', 'first');
    await send(HOSTS[0], 'p1@proxy.test', 'second');
    await delivered('p1@proxy.test', 2);

    // IMAP on node 1: LOGIN answered there, then pipelined commands served by node 2's session.
    const { client, capabilities } = await loggedIn(HOSTS[0], 'p1@proxy.test');
    client.send('b CAPABILITY\r\nc SELECT INBOX\r\nd FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n');
    const seen = await client.expect(/^d OK .*\r\n/m);
    // The capabilities the client saw at login are those of the session that now serves it.
    expect(/^\* CAPABILITY (.*)\r\n/m.exec(seen)![1]).toBe(capabilities);
    expect(seen).toMatch(/^\* 2 EXISTS\r\n/m);
    expect(seen).toContain('Subject: first');
    expect(seen).toContain('Subject: second');
    client.send('e LOGOUT\r\n');
    await client.expect(/^e OK .*\r\n/m);
    await client.waitClosed();

    // Node 1 relayed it; node 2 ran the session, logged in from node 1's address with the cluster ticket.
    expect(one.output).toMatch(/"protocol":"imap".*imap session relayed to its node/);
    const ownerLogins = two.output.split('\n').filter((l) => l.includes('"event":"imap.login"'));
    expect(ownerLogins.some((l) => l.includes(`"client":"${HOSTS[0]}"`) && l.includes('"user":"p1@proxy.test"'))).toBe(true);

    // POP3 on node 1: the +OK of the login comes from node 2's maildrop; DELE sticks there.
    const pop = await python(`
import poplib, sys
p = poplib.POP3(sys.argv[1], int(sys.argv[2])); p.user('p1@proxy.test'); print(p.pass_('pw').decode())
print(p.stat()[0]); p.dele(1); p.quit()
p = poplib.POP3(sys.argv[1], int(sys.argv[2])); p.user('p1@proxy.test'); p.pass_('pw')
print(p.stat()[0]); print([l.decode() for l in p.top(1, 0)[1] if l.startswith(b'Subject')][0]); p.quit()
`, [HOSTS[0], String(NODE_PORTS.pop3)]);
    expect(pop.code, pop.stderr).toBe(0);
    expect(pop.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^\+OK maildrop has 2 messages \(\d+ octets\)$/), '2', '1', 'Subject: second']);
    expect(one.output).toMatch(/"protocol":"pop3".*pop3 session relayed to its node/);

    // The owner's own answer about the maildrop reaches the client: locked by a session on node 2.
    const holder = await LineClient.connect(NODE_PORTS.pop3, HOSTS[1]);
    await holder.expect(/^\+OK .*\r\n/m);
    holder.send('USER p1@proxy.test\r\nPASS pw\r\n');
    await holder.expect(/^\+OK maildrop .*\r\n/m);
    const second = await LineClient.connect(NODE_PORTS.pop3, HOSTS[0]);
    await second.expect(/^\+OK .*\r\n/m);
    second.send('USER p1@proxy.test\r\nPASS pw\r\n');
    expect(await second.expect(/^-ERR .*\r\n/m)).toMatch(/^-ERR \[IN-USE\]/m);
    second.close();
    holder.send('QUIT\r\n');
    await holder.waitClosed();

    // LOGIN with commands pipelined behind it in one packet: each runs once, on node 2.
    const piped = await LineClient.connect(NODE_PORTS.imap, HOSTS[0]);
    await piped.expect(/^\* OK .*\r\n/m);
    piped.send('a LOGIN p1@proxy.test pw\r\nb SELECT INBOX\r\nc LOGOUT\r\n');
    const answers = await piped.expect(/^c OK .*\r\n/m);
    await piped.waitClosed();
    expect([answers.match(/^a OK /gm)?.length, answers.match(/^b OK /gm)?.length, answers.match(/^c OK /gm)?.length]).toEqual([1, 1, 1]);
    expect(answers).toMatch(/^\* 1 EXISTS\r\n/m);

    // A wrong password never reaches node 2.
    const wrong = await LineClient.connect(NODE_PORTS.imap, HOSTS[0]);
    await wrong.expect(/^\* OK .*\r\n/m);
    wrong.send('a LOGIN p2@proxy.test nope\r\n');
    expect(await wrong.expect(/^a .*\r\n/m)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/m);
    wrong.close();

    // Over TLS (IMAPS) to node 1, then COMPRESS DEFLATE, which node 2's session takes on.
    await send(HOSTS[0], 'p1@proxy.test', 'squeezed');
    const tls = await python(`
import socket, ssl, sys, zlib
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection((sys.argv[1], int(sys.argv[2]))))
f = s.makefile('rb')
def line(): return f.readline().decode()
line()
s.sendall(b'a1 LOGIN p1@proxy.test pw\\r\\n')
while not line().startswith('a1 '): pass
s.sendall(b'a2 COMPRESS DEFLATE\\r\\n')
print(line().strip())
out = zlib.compressobj(wbits=-15); inp = zlib.decompressobj(wbits=-15); buf = b''
def send(text): s.sendall(out.compress(text) + out.flush(zlib.Z_SYNC_FLUSH))
def until(tag):
    global buf
    while (b'\\r\\n' + tag + b' ') not in (b'\\r\\n' + buf): buf += inp.decompress(s.recv(65536))
    i = (b'\\r\\n' + buf).index(b'\\r\\n' + tag + b' '); end = buf.index(b'\\r\\n', i) + 2
    text, buf = buf[:end], buf[end:]
    return text.decode()
send(b'a3 SELECT INBOX\\r\\n'); print(until(b'a3').split('\\r\\n')[-2])
import time
for i in range(100):
    send(b'f%d FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\\r\\n' % i); seen = 'Subject: squeezed' in until(b'f%d' % i)
    if seen: break
    time.sleep(0.1)
print(seen)
send(b'a5 LOGOUT\\r\\n'); print(until(b'a5').split('\\r\\n')[-2])
`, [HOSTS[0], String(IMAPS_PORT)]);
    expect(tls.code, tls.stderr).toBe(0);
    expect(tls.stdout.trim().split('\n')).toEqual(['a2 OK DEFLATE active', expect.stringMatching(/^a3 OK \[READ-WRITE\]/), 'True', expect.stringMatching(/^a5 OK/)]);
    expect(one.output.match(/"protocol":"imap".*imap session relayed to its node/g)!.length).toBeGreaterThanOrEqual(2);

    // IDLE through the relay.
    await send(HOSTS[1], 'p2@proxy.test', 'one');
    const { client: idler } = await loggedIn(HOSTS[0], 'p2@proxy.test');
    idler.send('b SELECT INBOX\r\n');
    await idler.expect(/^b OK .*\r\n/m);
    idler.send('c IDLE\r\n');
    await idler.expect(/^\+ .*\r\n/m);
    await send(HOSTS[0], 'p2@proxy.test', 'two');
    await idler.expect(/^\* 2 EXISTS\r\n/m, 10_000);
    idler.send('DONE\r\n');
    await idler.expect(/^c OK .*\r\n/m);

    // A valid ticket, from an address that is not a node: refused like a wrong password.
    const seconds = Math.floor(Date.now() / 1000);
    const mac = createHmac('sha256', SECRET).update(`p2@proxy.test\0${seconds}`).digest('hex');
    const stranger = await LineClient.connect(NODE_PORTS.imap, HOSTS[1], STRANGER);
    await stranger.expect(/^\* OK .*\r\n/m);
    stranger.send(`a LOGIN p2@proxy.test ternmail-cluster:${seconds}:${mac}\r\n`);
    expect(await stranger.expect(/^a .*\r\n/m)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/m);
    stranger.close();
    expect(two.output.split('\n').filter((l) => l.includes('"event":"imap.login"') && l.includes(`"client":"${STRANGER}"`))).toEqual([]);
    idler.send('d LOGOUT\r\n');
    await idler.expect(/^d OK .*\r\n/m);
  }, 60_000);

  it('relays a login with no NATS request but the ping that checks the owner answers: no pin of the mailbox, no login broadcast', async () => {
    const [, two] = await accessAndStore();
    await send(HOSTS[0], 'p2@proxy.test', 'placed');
    await delivered('p2@proxy.test', 1);
    // What crosses NATS meanwhile: requests to node 2 by kind, and login outcomes.
    const nc = await connect({ servers: `${NATS_HOST}:${NATS_PORT}` });
    const kinds: string[] = [];
    let broadcasts = 0;
    const unpack = new Packr({ useRecords: false, mapsAsObjects: true });
    nc.subscribe('ternmail.node.2', { callback: (_err, msg) => kinds.push((unpack.unpack(msg.data) as { body: { kind: string } }).body.kind) });
    nc.subscribe('ternmail.auth', { callback: () => (broadcasts += 1) });
    await nc.flush();
    for (let i = 0; i < 6; i++) {
      const { client } = await loggedIn(HOSTS[0], 'p2@proxy.test');
      client.send('b SELECT INBOX\r\nc LOGOUT\r\n');
      await client.expect(/^c OK .*\r\n/m);
      await client.waitClosed();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await nc.drain();
    expect(two.output.split('\n').filter((l) => l.includes('"event":"imap.login"')).length).toBeGreaterThanOrEqual(7);
    expect(kinds.filter((k) => k === 'pin')).toEqual([]);
    // One ping per login (a node killed a moment ago must give NO [UNAVAILABLE] at once), nothing else.
    expect(kinds.filter((k) => k !== 'ping')).toEqual([]);
    expect(broadcasts).toBe(0);
  });

  it('closes relayed sessions when the relaying node stops, and when the owner node is killed; logins then get temporary failures', async () => {
    const [one, two] = await accessAndStore();
    await send(HOSTS[0], 'p1@proxy.test', 'kept');
    await delivered('p1@proxy.test', 1);
    // Node 1 stopping (SIGTERM) closes the connections it relays at once, IMAP and POP3.
    const relayedImap = (await loggedIn(HOSTS[0], 'p1@proxy.test')).client;
    const relayedPop3 = await LineClient.connect(NODE_PORTS.pop3, HOSTS[0]);
    await relayedPop3.expect(/^\+OK .*\r\n/m);
    relayedPop3.send('USER p1@proxy.test\r\nPASS pw\r\n');
    await relayedPop3.expect(/^\+OK maildrop .*\r\n/m);
    await one.kill('SIGTERM');
    expect(one.child!.exitCode).toBe(0);
    await relayedImap.waitClosed();
    await relayedPop3.waitClosed();
    await one.start();
    await one.waitForNodes((rows) => rows.filter((r) => r.status === 'up').length === 2);

    const { client } = await loggedIn(HOSTS[0], 'p1@proxy.test');
    client.send('b SELECT INBOX\r\n');
    await client.expect(/^b OK .*\r\n/m);
    await two.kill('SIGKILL');
    await client.waitClosed(10_000);

    const { code, stdout, stderr } = await python(`
import imaplib, poplib, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
try:
    m.login('p1@proxy.test', 'pw'); m.select('INBOX'); print('OK')
except imaplib.IMAP4.error as e:
    print(str(e))
p = poplib.POP3(sys.argv[1], int(sys.argv[3])); p.user('p1@proxy.test')
try:
    p.pass_('pw'); print('OK')
except poplib.error_proto as e:
    print(e.args[0].decode())
`, [HOSTS[0], String(NODE_PORTS.imap), String(NODE_PORTS.pop3)]);
    expect(code, stderr).toBe(0);
    const [imap, pop3] = stdout.trim().split('\n');
    expect(imap).toMatch(/UNAVAILABLE/);
    expect(pop3).toMatch(/^-ERR \[SYS\/TEMP\]/);
    expect(one.running).toBe(true);
  }, 60_000);
});

describe('failed-login limits across a cluster of machines', () => {
  it('locks an account after failures spread over three nodes, on every node; auth unblock on any node lifts it everywhere', async () => {
    const nats = await startNats(NATS_HOST, NATS_PORT);
    servers.push(nats);
    // No progressive delay before the lock (it would only slow the test down).
    const trio = [...HOSTS, STRANGER].map((host, i) => new TestNode(i + 1, host, [nats.url], ['--max-auth-failures-per-account', '10', '--auth-delay-after', '50']));
    nodes.push(...trio);
    await Promise.all(trio.map((n) => n.start()));
    expect((await trio[0]!.cli(['domain', 'add', 'lock.test'])).code).toBe(0);
    expect((await trio[0]!.cli(['user', 'add', 'l@lock.test', '--password', 'right'])).code).toBe(0);
    for (const node of trio) await until(async () => (await node.cli(['user', 'list'])).stdout.includes('l@lock.test'));

    const login = async (host: string, password: string): Promise<string> => {
      const client = await LineClient.connect(NODE_PORTS.imap, host);
      await client.expect(/^\* OK .*\r\n/m);
      client.send(`a LOGIN l@lock.test ${password}\r\n`);
      const answer = (await client.expect(/^a .*\r\n/m)).trim();
      client.close();
      return answer;
    };
    // 4 + 3 + 3 wrong passwords: no node alone saw 10.
    for (let i = 0; i < 10; i += 1) expect(await login(trio[i % 3]!.host, `wrong${i}`)).toMatch(/^a NO \[AUTHENTICATIONFAILED\]/);
    for (const node of trio) {
      await until(async () => (await login(node.host, 'right')).includes('Too many failed logins'));
      expect((await node.cli(['auth', 'blocked'])).stdout).toContain('l@lock.test');
    }

    expect((await trio[1]!.cli(['auth', 'unblock', 'l@lock.test'])).code).toBe(0);
    for (const node of trio) await until(async () => /^a OK /.test(await login(node.host, 'right')));
  }, 60_000);
});

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('directory operations on several keys', () => {
  it('completes a rename whose node was killed -9 right after its first key, from another node', async () => {
    const nats = await startNats(NATS_HOST, NATS_PORT);
    servers.push(nats);
    const writer = new TestNode(1, HOSTS[0], [nats.url], [], { TERNMAIL_FAULT_AT: 'directory-committed' });
    const other = new TestNode(2, HOSTS[1], [nats.url]);
    nodes.push(writer, other);
    await Promise.all([writer.start(), other.start()]);
    // Single-key writes take no intent: the hook is not reached.
    expect((await writer.cli(['domain', 'add', 'rename.test'])).code).toBe(0);
    expect((await writer.cli(['user', 'add', 'old@rename.test', '--password', 'pw'])).code).toBe(0);
    await until(async () => (await other.cli(['user', 'list'])).stdout.includes('old@rename.test'));

    const renamed = await writer.cli(['user', 'rename', 'old@rename.test', 'new@rename.test']);
    expect(renamed.code).not.toBe(0);
    await until(async () => !writer.running);
    expect(writer.child!.signalCode).toBe('SIGKILL');
    // The old user was deleted (the commit point); the new one is created by the other node's replay.
    await until(async () => (await other.cli(['user', 'list'])).stdout.trim() === 'new@rename.test', 20_000);
    expect(other.output).toMatch(/directory operation completed after its writer stopped half-way/);
    const login = await LineClient.connect(NODE_PORTS.imap, HOSTS[1]);
    await login.expect(/^\* OK .*\r\n/m);
    login.send('a LOGIN new@rename.test pw\r\n');
    expect(await login.expect(/^a .*\r\n/m)).toMatch(/^a OK /m);
    login.close();
  }, 60_000);
});
