// SMTP inbound and submission, end to end: real server, real LevelDB, real clients
// (nodemailer, Python's smtplib, swaks) over loopback sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { LineClient, python, run } from '../support/clients.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ maxMessageSize: 200_000, maxRecipients: 5 });
  await provision(server, 'example.test', ['alice', 'bob', 'carol']);
  await server.admin('POST', '/v1/aliases', { address: 'team@example.test', targets: ['alice@example.test', 'bob@example.test'] });
});

afterAll(async () => server.destroy());

async function popRetrieveAll(user: string, password = 'pw'): Promise<string[]> {
  const { stdout, code, stderr } = await python(`
import poplib, sys, json
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_(sys.argv[3])
n = p.stat()[0]
out = [b'\\r\\n'.join(p.retr(i + 1)[1]).decode('latin1') for i in range(n)]
p.quit()
print(json.dumps(out))
`, [String(server.ports.pop3), user, password]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout) as string[];
}

describe('inbound SMTP (MX port)', () => {
  it('accepts mail for a local user, answers 250 2.0.0 with the queue id, and delivers it', async () => {
    const before = (await stats(server)).messages;
    const client = await LineClient.connect(server.ports.smtp);
    await client.expect(/^220 .*\r\n/);
    client.send('EHLO client.test\r\n');
    const ehlo = await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
    expect(ehlo).toMatch(/PIPELINING/);
    expect(ehlo).toMatch(/8BITMIME/);
    expect(ehlo).toMatch(/SMTPUTF8/);
    expect(ehlo).toMatch(/SIZE 200000/);
    client.send('MAIL FROM:<sender@remote.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n');
    await client.expect(/354 .*\r\n/);
    client.send('Subject: first\r\n\r\nHello Carol\r\n.\r\n');
    const reply = await client.expect(/250 .*\r\n/);
    expect(reply).toMatch(/250 2\.0\.0 Ok: queued as [0-9A-Z]+/);
    client.send('QUIT\r\n');
    await client.expect(/221 /);
    await waitForMessages(server, before + 1);
    const [message] = await popRetrieveAll('carol@example.test');
    expect(message).toMatch(/^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\r\n\tby localhost \(ternmail\) with ESMTP id [0-9A-Z]+;/);
    expect(message).toMatch(/Subject: first\r\n\r\nHello Carol$/);
  });

  it('refuses an unknown local recipient with 550 5.1.1 at RCPT', async () => {
    const { stdout } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('x.test'); s.mail('a@remote.test')
print(s.rcpt('nobody@example.test'))
`, [String(server.ports.smtp)]);
    expect(stdout).toMatch(/\(550, b'5\.1\.1 <nobody@example\.test>/);
  });

  it('never relays for an unauthenticated client: 554 5.7.1 for a non-local recipient', async () => {
    const { stdout } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('x.test'); s.mail('a@remote.test')
print(s.rcpt('someone@elsewhere.test'))
`, [String(server.ports.smtp)]);
    expect(stdout).toMatch(/\(554, b'5\.7\.1 <someone@elsewhere\.test>: Relay access denied'\)/);
    expect((await server.admin<unknown[]>('GET', '/v1/queue')).length).toBe(0);
  });

  it('refuses a message over SIZE, declared or not, and stores nothing', async () => {
    const before = await stats(server);
    const { stdout } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('x.test')
print(s.mail('a@remote.test', ['SIZE=300000']))
s.rset()
s.mail('a@remote.test'); s.rcpt('alice@example.test')
print('data', s.data(b'Subject: big\\r\\n\\r\\n' + b'x' * 250000)[0])
`, [String(server.ports.smtp)]);
    expect(stdout).toMatch(/\(552, /);
    expect(stdout).toMatch(/data 552/);
    const after = await stats(server);
    expect(after.blobs).toBe(before.blobs);
    expect(after.messages).toBe(before.messages);
  });

  it('stores a message to many recipients once (single-instance) and delivers it to each', async () => {
    const before = await stats(server);
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.smtp, secure: false, ignoreTLS: true });
    await transport.sendMail({
      envelope: { from: 'news@remote.test', to: ['team@example.test', 'carol@example.test'] },
      raw: 'From: news@remote.test\r\nSubject: fan-out\r\n\r\n' + 'body line\r\n'.repeat(500),
    });
    await waitForMessages(server, before.messages + 3);
    const after = await stats(server);
    expect(after.blobs).toBe(before.blobs + 1);
    expect(after.blobBytes - before.blobBytes).toBeGreaterThan(5000);
    expect(after.blobBytes - before.blobBytes).toBeLessThan(6000);
    transport.close();
  });

  it('answers pipelined commands in order', async () => {
    const client = await LineClient.connect(server.ports.smtp);
    await client.expect(/^220 .*\r\n/);
    client.send('EHLO pipe.test\r\n');
    await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
    client.send('MAIL FROM:<p@remote.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<ghost@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n');
    const replies = await client.expect(/354 .*\r\n/);
    expect(replies.split('\r\n').filter(Boolean).map((l) => l.slice(0, 3))).toEqual(['250', '250', '550', '250', '354']);
    client.send('Subject: pipelined\r\n\r\nx\r\n.\r\nQUIT\r\n');
    await client.expect(/250 2\.0\.0 .*\r\n221 /);
  });

  it('accepts 8-bit and SMTPUTF8 mail and keeps the bytes exactly', async () => {
    const before = (await stats(server)).messages;
    const body = Buffer.from('Subject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=\r\nFrom: jörg@remote.test\r\n\r\nGrüße aus Köln\r\n.leading dot\r\n', 'utf8');
    const client = await LineClient.connect(server.ports.smtp);
    await client.expect(/^220 .*\r\n/);
    client.send('EHLO utf8.test\r\n');
    await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
    client.send(Buffer.from('MAIL FROM:<jörg@remote.test> SMTPUTF8 BODY=8BITMIME\r\n', 'utf8'));
    await client.expect(/250 .*\r\n/);
    client.send('RCPT TO:<bob@example.test>\r\nDATA\r\n');
    await client.expect(/354 .*\r\n/);
    const dotStuffed = Buffer.from(body.toString('latin1').replace(/\r\n\./g, '\r\n..'), 'latin1');
    client.send(Buffer.concat([dotStuffed, Buffer.from('.\r\n')]));
    await client.expect(/250 2\.0\.0 .*\r\n/);
    client.close();
    await waitForMessages(server, before + 1);
    const messages = await popRetrieveAll('bob@example.test');
    const last = Buffer.from(messages[messages.length - 1], 'latin1');
    expect(last.subarray(last.length - (body.length - 2)).equals(body.subarray(0, body.length - 2))).toBe(true);
  });

  it('works with swaks', async () => {
    const before = (await stats(server)).messages;
    const result = await run('swaks', ['--server', '127.0.0.1', '--port', String(server.ports.smtp), '--from', 'swaks@remote.test', '--to', 'alice@example.test', '--header', 'Subject: via swaks', '--body', 'hello from swaks']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/<- {2}250 2\.0\.0 Ok: queued as/);
    await waitForMessages(server, before + 1);
  });

  it('limits recipients per message', async () => {
    const { stdout } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('x.test'); s.mail('a@remote.test')
for r in ['alice', 'bob', 'carol', 'team', 'ALICE', 'BOB']:
    print(s.rcpt(r + '@example.test')[0])
`, [String(server.ports.smtp)]);
    expect(stdout.trim().split('\n').map(Number)).toEqual([250, 250, 250, 250, 250, 452]);
  });
});

describe('submission port', () => {
  it('requires AUTH before MAIL', async () => {
    const { stdout } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.ehlo('x.test')
print(s.mail('alice@example.test'))
`, [String(server.ports.submission)]);
    expect(stdout).toMatch(/\(530, /);
  });

  it('authenticates with PLAIN and LOGIN, refuses bad credentials with 535', async () => {
    const { stdout } = await python(`
import smtplib, sys
port = int(sys.argv[1])
for mech in ['PLAIN', 'LOGIN']:
    s = smtplib.SMTP('127.0.0.1', port); s.ehlo('x.test')
    s.user, s.password = 'alice@example.test', 'pw'
    print(mech, s.auth(mech, getattr(s, 'auth_' + mech.lower()))[0])
    s.quit()
s = smtplib.SMTP('127.0.0.1', port); s.ehlo('x.test')
try:
    s.login('alice@example.test', 'wrong')
except smtplib.SMTPAuthenticationError as e:
    print('bad', e.smtp_code)
`, [String(server.ports.submission)]);
    expect(stdout).toContain('PLAIN 235');
    expect(stdout).toContain('LOGIN 235');
    expect(stdout).toContain('bad 535');
  });

  it('lets an authenticated user send to a local user, but only from an address of their own (553 5.7.1 otherwise)', async () => {
    const before = (await stats(server)).messages;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: server.ports.submission, secure: false, ignoreTLS: true,
      auth: { user: 'alice@example.test', pass: 'pw' },
    });
    await transport.sendMail({ from: 'alice@example.test', to: 'bob@example.test', subject: 'from alice', text: 'hi bob' });
    await waitForMessages(server, before + 1);
    await expect(transport.sendMail({ from: 'bob@example.test', to: 'carol@example.test', subject: 'forged', text: 'x' }))
      .rejects.toThrow(/553 5\.7\.1/);
    transport.close();
  });

  it('accepts non-local recipients from an authenticated user (queued for outbound delivery)', async () => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: server.ports.submission, secure: false, ignoreTLS: true,
      auth: { user: 'carol@example.test', pass: 'pw' },
    });
    const info = await transport.sendMail({ from: 'carol@example.test', to: 'friend@elsewhere.test', subject: 'out', text: 'x' });
    expect(info.accepted).toEqual(['friend@elsewhere.test']);
    const queue = await server.admin<Array<{ recipients: Array<{ address: string }> }>>('GET', '/v1/queue');
    expect(queue.some((e) => e.recipients.some((r) => r.address === 'friend@elsewhere.test'))).toBe(true);
    transport.close();
  });
});
