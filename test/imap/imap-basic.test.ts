// IMAP end to end with imapflow: LOGIN, SELECT, FETCH (envelope, structure, body),
// LOGOUT; an SMTP-delivered message is byte-identical over IMAP and POP3.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { connectFlow, deliver, message } from './imap-support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'imap.test', ['ann', 'bob', 'cid']);
});

afterAll(async () => server.destroy());

describe('IMAP basics with imapflow', () => {
  it('logs in, selects INBOX, fetches envelope, flags and the body, logs out', async () => {
    await deliver(server, ['ann@imap.test'], message('first one', 'body text\r\n'));
    const client = await connectFlow(server, 'ann@imap.test');
    const box = await client.mailboxOpen('INBOX');
    expect(box.exists).toBe(1);
    const msg = await client.fetchOne('1', { envelope: true, flags: true, bodyStructure: true, source: true, uid: true });
    expect(msg).toBeTruthy();
    if (!msg) return;
    expect(msg.envelope?.subject).toBe('first one');
    expect(msg.bodyStructure?.type).toBe('text/plain');
    expect(msg.source?.toString()).toContain('body text');
    expect(msg.flags?.has('\\Seen')).toBe(false);
    await client.logout();
  });

  it('rejects a wrong password with NO [AUTHENTICATIONFAILED]', async () => {
    const { stdout } = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
try:
    c.login('ann@imap.test', 'wrong')
except imaplib.IMAP4.error as e:
    print('ERR', e)
`, [String(server.ports.imap)]);
    expect(stdout).toContain('AUTHENTICATIONFAILED');
  });

  it('returns the SMTP-delivered message byte-identical to POP3 RETR', async () => {
    await deliver(server, ['bob@imap.test'], message('same bytes', 'line 1\r\n.dot line\r\n'));
    const { stdout, code, stderr } = await python(`
import imaplib, poplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('bob@imap.test', 'pw')
c.select('INBOX')
typ, data = c.fetch('1', '(BODY[])')
imap = data[0][1]
c.logout()
p = poplib.POP3('127.0.0.1', int(sys.argv[2]))
p.user('bob@imap.test'); p.pass_('pw')
resp, lines, octets = p.retr(1)
pop = b'\\r\\n'.join(lines) + b'\\r\\n'
p.quit()
print(imap == pop, len(imap), len(pop))
`, [String(server.ports.imap), String(server.ports.pop3)]);
    expect(code, stderr).toBe(0);
    expect(stdout.trim()).toMatch(/^True \d+ \d+$/);
  });
});
