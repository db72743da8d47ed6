// The hook points, driven by a plugin written as docs/plugins.md shows (fixtures/
// policy.mjs) against a real server: SMTP over a raw socket, IMAP with Python's
// imaplib, POP3 with poplib.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, waitFor, waitForMessages, type TestServer } from '../support/server.js';
import { greetedClient, transaction } from '../support/smtp-transcript.js';
import { python } from '../support/clients.js';
import { imapLogin, pop3Login, smtpAuth } from '../support/logins.js';
import { fixture, journal, startPluginServer } from './plugin-server.js';

let server: TestServer;
const seen = journal();

beforeAll(async () => {
  server = await startPluginServer([{ module: fixture('policy.mjs'), options: { journal: seen.file } }]);
  await provision(server, 'example.test', ['alice', 'carol', 'blocked', 'discard', 'redirect', 'barred', 'later']);
});
afterAll(() => server.destroy());

async function send(to: string, subject: string, messageId = `<${subject.replace(/\W/g, '')}@client.test>`): Promise<string> {
  const client = await greetedClient(server.ports.smtp);
  try {
    const replies = await transaction(client, 'sender@remote.test', to, `From: sender@remote.test\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n\r\nbody of ${subject}\r\n`);
    return replies.end || replies.rcptTo;
  } finally {
    client.close();
  }
}

/** Runs imaplib as alice (or `user`): the script gets a logged-in `c` and prints its results. */
async function imap(script: string, user = 'alice@example.test'): Promise<string> {
  const result = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login(sys.argv[2], 'pw')
${script}
c.logout()
`, [String(server.ports.imap), user]);
  expect(result.stderr).toBe('');
  return result.stdout;
}

describe('plugin hooks', () => {
  it('rcptTo: a reject verdict refuses the recipient with the plugin\'s code and text; other recipients pass', async () => {
    expect(await send('blocked@example.test', 'refused')).toBe('550 5.7.1 Recipient blocked by policy');
    expect(await send('alice@example.test', 'accepted')).toMatch(/^250 2\.0\.0 Ok: queued as /);
  });

  it('data: a header the plugin adds is in the stored message (IMAP FETCH)', async () => {
    await send('alice@example.test', 'stamped');
    await waitFor(async () => seen.lines().some((l) => l.hook === 'delivered' && (l.messageId as string)?.includes('stamped')), 10_000, 'delivery');
    const out = await imap(`
c.select('INBOX')
typ, data = c.search(None, 'SUBJECT', 'stamped')
typ, data = c.fetch(data[0].split()[-1], '(BODY.PEEK[HEADER])')
print(data[0][1].decode())
`);
    expect(out).toMatch(/^X-Policy: checked 1\r?$/m);
    // The plugin's field is on top, above our own Received: line.
    expect(out.indexOf('X-Policy:')).toBeLessThan(out.indexOf('Received:'));
  });

  it('beforeDelivery: a folder verdict files the message into that folder (created) with the flags given', async () => {
    await send('alice@example.test', 'weekly newsletter');
    await waitFor(async () => seen.lines().some((l) => l.hook === 'delivered' && l.folder === 'Newsletters'), 10_000, 'filed delivery');
    const out = await imap(`
typ, data = c.select('Newsletters')
print(typ, data[0].decode())
typ, data = c.fetch('1', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
print(data[0][0].decode())
print(data[0][1].decode())
`);
    expect(out).toMatch(/^OK 1$/m);
    expect(out).toMatch(/FLAGS \([^)]*\\Seen[^)]*\)/);
    expect(out).toMatch(/FLAGS \([^)]*bulk[^)]*\)/);
    expect(out).toContain('Subject: weekly newsletter');
  });

  it('beforeDelivery: discard stores nothing and redirect delivers to the new address instead', async () => {
    await send('discard@example.test', 'dropped');
    await send('redirect@example.test', 'forwarded');
    await waitFor(async () => seen.lines().some((l) => l.hook === 'delivered' && l.recipient === 'carol@example.test'), 10_000, 'redirected delivery');
    const carol = await imap(`
c.select('INBOX')
typ, data = c.search(None, 'SUBJECT', 'forwarded')
print(len(data[0].split()))
`, 'carol@example.test');
    expect(carol.trim()).toBe('1');
    for (const user of ['discard@example.test', 'redirect@example.test']) {
      const out = await imap(`
typ, data = c.select('INBOX')
print(data[0].decode())
`, user);
      expect(out.trim()).toBe('0');
    }
    expect(seen.lines().some((l) => l.hook === 'delivered' && (l.recipient === 'discard@example.test' || l.recipient === 'redirect@example.test'))).toBe(false);
  });

  it('delivered: observers see recipient, folder, uid, size and Message-ID', async () => {
    await send('alice@example.test', 'observed', '<observed-1@client.test>');
    const line = await waitFor(async () => seen.lines().find((l) => l.hook === 'delivered' && l.messageId === '<observed-1@client.test>'), 10_000, 'observed delivery');
    expect(line).toMatchObject({ recipient: 'alice@example.test', folder: 'INBOX', from: 'sender@remote.test' });
    expect(line.uid).toBeGreaterThan(0);
    expect(line.size).toBeGreaterThan(100);
  });

  it('mailboxEvent: append, flags, expunge and folder create/rename/delete are told after the change', async () => {
    await imap(`
c.create('Projects')
c.append('Projects', None, None, b'Subject: appended\\r\\n\\r\\nhello\\r\\n')
c.select('Projects')
c.store('1', '+FLAGS', '\\\\Deleted')
c.expunge()
c.close()
c.rename('Projects', 'Archive2026')
c.delete('Archive2026')
`);
    const events = await waitFor(async () => {
      const list = seen.lines().filter((l) => l.hook === 'mailboxEvent');
      return list.some((l) => l.kind === 'folder-delete') ? list : undefined;
    }, 10_000, 'mailbox events');
    const kinds = events.map((e) => `${e.kind}:${e.folder}`);
    expect(kinds).toEqual(expect.arrayContaining([
      'folder-create:Projects', 'append:Projects', 'flags:Projects', 'expunge:Projects', 'folder-rename:Projects', 'folder-delete:Archive2026',
    ]));
    expect(events.find((e) => e.kind === 'folder-rename')?.to).toBe('Archive2026');
    expect(kinds.indexOf('append:Projects')).toBeLessThan(kinds.indexOf('expunge:Projects'));
  });

  it('auth: runs after a successful login over IMAP, POP3 and SMTP AUTH, and a reject verdict refuses the login', async () => {
    expect(await imapLogin(server.ports.imap, 'alice@example.test', 'pw')).toMatch(/^a1 OK/);
    expect(await pop3Login(server.ports.pop3, 'carol@example.test', 'pw')).toMatch(/^\+OK/);
    expect(await smtpAuth(server.ports.submission, 'alice@example.test', 'pw')).toMatch(/^235/);
    const protocols = seen.lines().filter((l) => l.hook === 'auth').map((l) => `${l.protocol}:${l.user}`);
    expect(protocols).toEqual(expect.arrayContaining(['imap:alice@example.test', 'pop3:carol@example.test', 'smtp:alice@example.test']));
    expect(await imapLogin(server.ports.imap, 'barred@example.test', 'pw')).toMatch(/^a1 NO/);
    expect(await pop3Login(server.ports.pop3, 'barred@example.test', 'pw')).toMatch(/^-ERR/);
    expect(await smtpAuth(server.ports.submission, 'barred@example.test', 'pw')).toMatch(/^535/);
  });

  it('auth: a tempfail verdict refuses the login for now, not as bad credentials or a locked account', async () => {
    expect(await imapLogin(server.ports.imap, 'later@example.test', 'pw')).toMatch(/^a1 NO \[UNAVAILABLE\] Login temporarily refused/);
    expect(await pop3Login(server.ports.pop3, 'later@example.test', 'pw')).toMatch(/^-ERR \[SYS\/TEMP\]/);
    expect(await smtpAuth(server.ports.submission, 'later@example.test', 'pw')).toMatch(/^454/);
  });

  it('the admin API lists the plugin with its hooks and counts calls', async () => {
    const [row] = await server.admin<Array<{ name: string; state: string; hooks: Array<{ hook: string; calls: number; errors: number }> }>>('GET', '/v1/plugins');
    expect(row.name).toBe('policy');
    expect(row.state).toBe('running');
    expect(row.hooks.map((h) => h.hook)).toEqual(['auth', 'rcptTo', 'data', 'beforeDelivery', 'delivered', 'mailboxEvent']);
    expect(row.hooks.find((h) => h.hook === 'rcptTo')!.calls).toBeGreaterThan(3);
    expect(row.hooks.every((h) => h.errors === 0)).toBe(true);
  });
});

void waitForMessages;
