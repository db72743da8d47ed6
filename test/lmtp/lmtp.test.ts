// The LMTP listener (RFC 2033), as an ISP migrating from Postfix + Dovecot uses it: a
// real Postfix relays mail for the domain to ternmail over LMTP; a recipient ternmail
// does not know is refused per recipient and Postfix bounces it. Also driven by swaks
// for the per-recipient replies after DATA, and refused with 550 for non-local mail.
// After DATA each recipient has its own outcome (one over quota gets 552 5.2.2, the
// others 250 once queued: Postfix bounces only that one), and DATA has a deadline.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, python, run } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, freePorts, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { startPostfix, type PrivatePostfix } from '../support/postfix.js';

// Every port is a free one below the kernel's ephemeral range (fixed ones in that range
// were taken by outgoing connections on a busy machine): Postfix gets its own in its
// config before it starts.
const running = killAfterEach(afterEach);

/** alice and bob, and full@example.test with a quota of 600 bytes. */
async function startWithLmtp(extra: string[] = [], lmtpPort?: number): Promise<{ server: ServerProcess; data: string; lmtp: number }> {
  const data = tempDir();
  const lmtp = lmtpPort ?? (await freePorts(1))[0]!;
  const server = await startProcess(data, ['--lmtp-port', String(lmtp), ...extra]);
  running.push(server);
  for (const args of [['domain', 'add', 'example.test'], ['user', 'add', 'alice@example.test', '--password', 'pw'], ['user', 'add', 'bob@example.test', '--password', 'pw'],
    ['user', 'add', 'full@example.test', '--password', 'pw', '--quota', '600']]) {
    const result = await cli([...args, '--data', data]);
    expect(result.code, result.stderr).toBe(0);
  }
  return { server, data, lmtp };
}

async function popCount(server: ServerProcess, user: string): Promise<number> {
  const { stdout } = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user(sys.argv[2]); p.pass_('pw')
print(p.stat()[0]); p.quit()
`, [String(server.ports.pop3), user]);
  return Number(stdout.trim());
}

describe('LMTP listener', () => {
  it('is off by default', async () => {
    const server = await startProcess(tempDir());
    running.push(server);
    expect(server.output()).not.toContain('lmtp listener started');
  });

  it('answers LHLO, refuses a non-local recipient with 550, and gives one reply per recipient after DATA', async () => {
    const { server, lmtp } = await startWithLmtp();
    const result = await run('swaks', ['--protocol', 'LMTP', '--server', '127.0.0.1', '--port', String(lmtp),
      '--from', 'sender@relay.test', '--to', 'alice@example.test,nobody@example.test,bob@example.test,someone@elsewhere.test',
      '--header', 'Subject: lmtp', '--body', 'over lmtp']);
    const transcript = result.stdout;
    expect(transcript).toContain('LHLO');
    expect(transcript).toMatch(/<\*\* 550 5\.1\.1 <nobody@example\.test>/);
    expect(transcript).toMatch(/<\*\* 550 5\.1\.1 <someone@elsewhere\.test>: .*not a local address/);
    const afterData = transcript.slice(transcript.indexOf(' 354 '));
    expect(afterData).toMatch(/250 2\.1\.5 <alice@example\.test> 2\.0\.0 Ok: queued as/);
    expect(afterData).toMatch(/250 2\.1\.5 <bob@example\.test> 2\.0\.0 Ok: queued as/);
    await waitFor(async () => (await popCount(server, 'alice@example.test')) === 1 && (await popCount(server, 'bob@example.test')) === 1, 10_000, 'both deliveries');
    const { stdout } = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('alice@example.test'); p.pass_('pw')
print(b'\\n'.join(p.retr(1)[1]).decode()); p.quit()
`, [String(server.ports.pop3)]);
    expect(stdout).toMatch(/^\tby localhost \(ternmail\) with LMTP id /m);
  });
});

/** A message of about `size` bytes, dot-terminated. */
function bodyOf(subject: string, size: number): string {
  return `Subject: ${subject}\r\n\r\n${'x'.repeat(70).concat('\r\n').repeat(Math.ceil(size / 72))}.\r\n`;
}

describe('LMTP per-recipient outcomes and DATA deadline', () => {
  it('refuses only the recipient the message takes over quota (552 5.2.2) and queues the others (250)', async () => {
    const { server, data, lmtp } = await startWithLmtp();
    const c = await LineClient.connect(lmtp);
    await c.expect(/^220 .*\r\n/);
    c.send('LHLO relay.test\r\n');
    await c.expect(/250 [^\r]*\r\n(?![\s\S])/);
    c.send('MAIL FROM:<sender@relay.test>\r\n');
    await c.expect(/^250 .*\r\n/m);
    for (const rcpt of ['alice@example.test', 'full@example.test', 'bob@example.test']) {
      c.send(`RCPT TO:<${rcpt}>\r\n`);
      // full@ is empty: at RCPT, before the size is known, it is accepted.
      await c.expect(/^250 .*\r\n/m);
    }
    c.send('DATA\r\n');
    await c.expect(/^354 .*\r\n/m);
    c.send(bodyOf('too big for full', 2000));
    const replies = (await c.expect(/(?:^\d{3} [^\r\n]*\r\n){3}/m)).trim().split('\r\n');
    expect(replies).toHaveLength(3);
    expect(replies[0]).toMatch(/^250 2\.1\.5 <alice@example\.test> 2\.0\.0 Ok: queued as /);
    expect(replies[1]).toMatch(/^552 5\.2\.2 <full@example\.test>: Mailbox full/);
    expect(replies[2]).toMatch(/^250 2\.1\.5 <bob@example\.test> 2\.0\.0 Ok: queued as /);
    // A small one still fits: each recipient is judged on its own.
    c.send('MAIL FROM:<sender@relay.test>\r\nRCPT TO:<full@example.test>\r\nDATA\r\n');
    await c.expect(/^354 .*\r\n/m);
    c.send(bodyOf('small', 100));
    expect(await c.expect(/^2\d\d 2\.1\.5 <full@example\.test>.*\r\n/m)).toMatch(/250 2\.1\.5/);
    c.send('QUIT\r\n');
    c.close();
    await waitFor(async () => (await popCount(server, 'alice@example.test')) === 1 && (await popCount(server, 'bob@example.test')) === 1
      && (await popCount(server, 'full@example.test')) === 1, 10_000, 'the three deliveries');
    const stats = JSON.parse((await cli(['stats', '--data', data])).stdout);
    expect(stats).toMatchObject({ messages: 3, queued: 0 });
  });

  it('closes a DATA that outlasts smtp.dataTimeout with 421 4.4.2 and keeps nothing of it', async () => {
    const { server, data, lmtp } = await startWithLmtp(['--smtp-data-timeout', '2']);
    const c = await LineClient.connect(lmtp);
    await c.expect(/^220 .*\r\n/);
    c.send('LHLO relay.test\r\nMAIL FROM:<sender@relay.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n');
    await c.expect(/^354 .*\r\n/m);
    c.send('Subject: drip\r\n\r\n');
    // One line a second: the idle timer never fires, the DATA deadline does.
    const drip = setInterval(() => c.send('more\r\n'), 1000);
    try {
      expect(await c.expect(/^421 4\.4\.2 .*\r\n/m, 20_000)).toContain('Timeout during DATA');
      await c.waitClosed();
    } finally {
      clearInterval(drip);
    }
    expect(server.output()).toMatch(/lmtp DATA deadline passed/);
    expect(JSON.parse((await cli(['stats', '--data', data])).stdout)).toMatchObject({ messages: 0, queued: 0 });
  });
});

describe('LMTP behind a real Postfix', () => {
  let postfix: PrivatePostfix;
  let lmtpPort: number;
  let postfixPort: number;
  beforeAll(async () => {
    [lmtpPort, postfixPort] = (await freePorts(2)) as [number, number];
    postfix = startPostfix({ smtpPort: postfixPort, domain: 'example.test', mailboxes: ['alice@example.test', 'ghost@example.test', 'full@example.test'], lmtp: `127.0.0.1:${lmtpPort}` });
  });
  afterAll(() => postfix?.stop());

  it('delivers what Postfix relays into the store, and Postfix bounces the recipients ternmail refuses (unknown at RCPT, over quota after DATA)', async () => {
    const { server } = await startWithLmtp([], lmtpPort);
    const { stdout, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); s.ehlo('client.test')
print(s.sendmail('sender@relay.test', ['alice@example.test', 'ghost@example.test', 'full@example.test'], b'Subject: via postfix\\r\\n\\r\\n' + b'relayed over LMTP\\r\\n' * 60))
s.quit()
`, [String(postfixPort)]);
    expect(stdout.trim(), stderr).toBe('{}');
    await waitFor(async () => (await popCount(server, 'alice@example.test')) === 1, 20_000, 'the message in alice\'s mailbox');
    await waitFor(async () => /to=<ghost@example.test>.*status=bounced.*550 5\.1\.1/.test(postfix.maillog()), 20_000, `postfix bouncing ghost: ${postfix.maillog()}`);
    // Over quota only once the size is known: refused after DATA, for that recipient alone.
    await waitFor(async () => /to=<full@example.test>.*status=bounced.*552 5\.2\.2/.test(postfix.maillog()), 20_000, `postfix bouncing full: ${postfix.maillog()}`);
    expect(await popCount(server, 'full@example.test')).toBe(0);
    expect(postfix.maillog()).toMatch(new RegExp(`to=<alice@example\\.test>, relay=127\\.0\\.0\\.1\\[127\\.0\\.0\\.1\\]:${lmtpPort}.*status=sent \\(250 2\\.1\\.5 <alice@example\\.test>`));
  });
});
