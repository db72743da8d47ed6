// The LMTP listener (RFC 2033), as an ISP migrating from Postfix + Dovecot uses it: a
// real Postfix relays mail for the domain to ternmail over LMTP; a recipient ternmail
// does not know is refused per recipient and Postfix bounces it. Also driven by swaks
// for the per-recipient replies after DATA, and refused with 550 for non-local mail.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { python, run } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { startPostfix, type PrivatePostfix } from '../support/postfix.js';

// Fixed ports in this suite's block (47000-47999): Postfix needs them in its config before it starts.
const LMTP_PORT = 47024;
const POSTFIX_SMTP_PORT = 47026;
const running = killAfterEach(afterEach);

async function startWithLmtp(): Promise<{ server: ServerProcess; data: string }> {
  const data = tempDir();
  const server = await startProcess(data, ['--lmtp-port', String(LMTP_PORT)]);
  running.push(server);
  for (const args of [['domain', 'add', 'example.test'], ['user', 'add', 'alice@example.test', '--password', 'pw'], ['user', 'add', 'bob@example.test', '--password', 'pw']]) {
    const result = await cli([...args, '--data', data]);
    expect(result.code, result.stderr).toBe(0);
  }
  return { server, data };
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
    const { server } = await startWithLmtp();
    const result = await run('swaks', ['--protocol', 'LMTP', '--server', '127.0.0.1', '--port', String(LMTP_PORT),
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

describe('LMTP behind a real Postfix', () => {
  let postfix: PrivatePostfix;
  beforeAll(() => {
    postfix = startPostfix({ smtpPort: POSTFIX_SMTP_PORT, domain: 'example.test', mailboxes: ['alice@example.test', 'ghost@example.test'], lmtp: `127.0.0.1:${LMTP_PORT}` });
  });
  afterAll(() => postfix?.stop());

  it('delivers what Postfix relays into the store, and Postfix bounces the recipient ternmail refuses', async () => {
    const { server } = await startWithLmtp();
    const { stdout, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); s.ehlo('client.test')
print(s.sendmail('sender@relay.test', ['alice@example.test', 'ghost@example.test'], b'Subject: via postfix\\r\\n\\r\\nrelayed over LMTP\\r\\n'))
s.quit()
`, [String(POSTFIX_SMTP_PORT)]);
    expect(stdout.trim(), stderr).toBe('{}');
    await waitFor(async () => (await popCount(server, 'alice@example.test')) === 1, 20_000, 'the message in alice\'s mailbox');
    await waitFor(async () => /to=<ghost@example.test>.*status=bounced.*550 5\.1\.1/.test(postfix.maillog()), 20_000, `postfix bouncing ghost: ${postfix.maillog()}`);
    expect(postfix.maillog()).toMatch(/to=<alice@example.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:47024.*status=sent \(250 2\.1\.5 <alice@example.test>/);
  });
});
