// POP3 over the real store: mail accepted by SMTP is retrieved byte-exact with
// Python's poplib, deletions are durable at QUIT, a second session gets IN-USE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, python } from '../support/clients.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'pop.test', ['dora', 'ed', 'fay', 'gil']);
});

afterAll(async () => server.destroy());

async function sendRaw(to: string[], raw: Buffer): Promise<void> {
  const before = (await stats(server)).messages;
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('sender@remote.test', sys.argv[2].split(','), sys.stdin.buffer.read())
s.quit()
`, [String(server.ports.smtp), to.join(',')], raw.toString('latin1'));
  expect(code, stderr).toBe(0);
  await waitForMessages(server, before + to.length);
}

describe('POP3 on the store', () => {
  it('returns exactly the accepted bytes plus the Received header, dot-stuffing included', async () => {
    const raw = Buffer.from('From: s@remote.test\r\nSubject: dots\r\n\r\n.starts with dot\r\n..two dots\r\nend\r\n', 'latin1');
    await sendRaw(['dora@pop.test'], raw);
    const { stdout, code, stderr } = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user('dora@pop.test'); p.pass_('pw')
count, size = p.stat()
resp, lines, octets = p.retr(1)
body = b'\\r\\n'.join(lines) + b'\\r\\n'
print(count, size, octets, len(body))
sys.stdout.buffer.write(body)
p.quit()
`, [String(server.ports.pop3)]);
    expect(code, stderr).toBe(0);
    const [head, ...rest] = stdout.split('\n');
    const [count, size, , bodyLength] = head.split(' ').map(Number);
    const body = rest.join('\n');
    expect(count).toBe(1);
    expect(bodyLength).toBe(size);
    expect(body.startsWith('Received: from ')).toBe(true);
    expect(body.endsWith(raw.toString('latin1'))).toBe(true);
  });

  it('lists, tops and uidls; RSET undoes DELE; deletions happen at QUIT and unique ids stay stable', async () => {
    await sendRaw(['ed@pop.test'], Buffer.from('Subject: one\r\n\r\nline1\r\nline2\r\nline3\r\n'));
    await sendRaw(['ed@pop.test'], Buffer.from('Subject: two\r\n\r\nsecond\r\n'));
    const script = `
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user('ed@pop.test'); p.pass_('pw')
print('stat', p.stat())
print('uidl', [u.decode() for u in p.uidl()[1]])
print('top', p.top(1, 1)[1][-2:])
if sys.argv[2] == 'delete':
    p.dele(1)
    p.rset()
    p.dele(2)
print('quit', p.quit())
`;
    const first = await python(script, [String(server.ports.pop3), 'delete']);
    expect(first.stdout).toContain("stat (2,");
    expect(first.stdout).toMatch(/top \[b'', b'line1'\]/);
    expect(first.stdout).toMatch(/quit b'\+OK/);
    const firstUids = /uidl \[(.*)\]/.exec(first.stdout)![1].split(', ').map((u) => u.split(' ')[1]);
    const second = await python(script, [String(server.ports.pop3), 'keep']);
    expect(second.stdout).toContain("stat (1,");
    const secondUids = /uidl \[(.*)\]/.exec(second.stdout)![1].split(', ').map((u) => u.split(' ')[1]);
    expect(secondUids).toEqual([firstUids[0]]);
    const subjects = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user('ed@pop.test'); p.pass_('pw')
print([l for l in p.retr(1)[1] if l.startswith(b'Subject')])
p.quit()
`, [String(server.ports.pop3)]);
    expect(subjects.stdout).toContain("b'Subject: one'");
  });

  it('refuses a second concurrent session on the same maildrop with -ERR [IN-USE]', async () => {
    const first = await LineClient.connect(server.ports.pop3);
    await first.expect(/^\+OK.*\r\n/);
    first.send('USER fay@pop.test\r\nPASS pw\r\n');
    await first.expect(/\+OK.*\r\n\+OK.*\r\n/);
    const second = await LineClient.connect(server.ports.pop3);
    await second.expect(/^\+OK.*\r\n/);
    second.send('USER fay@pop.test\r\nPASS pw\r\n');
    await second.expect(/-ERR \[IN-USE\].*\r\n/);
    first.send('QUIT\r\n');
    await first.expect(/\+OK.*\r\n/);
    const third = await LineClient.connect(server.ports.pop3);
    await third.expect(/^\+OK.*\r\n/);
    third.send('USER fay@pop.test\r\nPASS pw\r\n');
    await third.expect(/\+OK.*\r\n\+OK.*\r\n/);
    third.send('QUIT\r\n');
    await third.expect(/\+OK.*\r\n/);
    second.close();
  });

  it('a later session sees every change made in between: a delivery, an IMAP expunge, an IMAP flag change', async () => {
    // The mailbox keeps the listing between sessions; each of these changes must replace it.
    const listing = async (): Promise<string> => {
      const { stdout, code, stderr } = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user('gil@pop.test'); p.pass_('pw')
print(p.stat()[0], [u.decode().split(' ')[1] for u in p.uidl()[1]], [p.retr(i + 1)[1][-1].decode() for i in range(p.stat()[0])])
p.quit()
`, [String(server.ports.pop3)]);
      expect(code, stderr).toBe(0);
      return stdout.trim();
    };
    const imap = (commands: string) => python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('gil@pop.test', 'pw'); c.select('INBOX')
${commands}
c.logout()
`, [String(server.ports.imap)]);
    await sendRaw(['gil@pop.test'], Buffer.from('Subject: a\r\n\r\nfirst\r\n'));
    const one = await listing();
    expect(one).toMatch(/^1 \['[^']+'\] \['first'\]$/);
    expect(await listing()).toBe(one);
    await sendRaw(['gil@pop.test'], Buffer.from('Subject: b\r\n\r\nsecond\r\n'));
    expect(await listing()).toMatch(/^2 \['[^']+', '[^']+'\] \['first', 'second'\]$/);
    const flagged = await imap("c.store('1', '+FLAGS', '\\\\Flagged')");
    expect(flagged.code, flagged.stderr).toBe(0);
    expect(await listing()).toMatch(/^2 .*\['first', 'second'\]$/);
    const expunged = await imap("c.store('1', '+FLAGS', '\\\\Deleted'); c.expunge()");
    expect(expunged.code, expunged.stderr).toBe(0);
    const after = await listing();
    expect(after).toMatch(/^1 \['[^']+'\] \['second'\]$/);
    expect(after).not.toContain(/'([^']+)'/.exec(one)![1]);
  });

  it('rejects a bad password with -ERR [AUTH]', async () => {
    const client = await LineClient.connect(server.ports.pop3);
    await client.expect(/^\+OK.*\r\n/);
    client.send('USER fay@pop.test\r\nPASS wrong\r\n');
    await client.expect(/\+OK.*\r\n-ERR \[AUTH\].*\r\n/);
    client.close();
  });
});
