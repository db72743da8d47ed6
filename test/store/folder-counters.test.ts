// A delivery writes its message record and the account's counters, not its folder's
// record: on disk the folder record still says what it said before, and loading the
// mailbox (here: a restarted server) counts the messages at or above its uidNext in.
// IMAP STATUS after the restart shows every delivered message, UIDNEXT, UNSEEN and
// HIGHESTMODSEQ as if the record had been rewritten each time, and the next delivery
// takes the next UID. Real server, real LevelDB, Python's smtplib and imaplib.
import { afterAll, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';
import { Database } from '../../src/store/database.js';
import { MailboxStore, decodeFolder, folderKey, type AccountRecord } from '../../src/store/mailbox-store.js';
import path from 'node:path';

let server: TestServer | null = null;
afterAll(async () => server?.destroy());

const send = (port: number, subject: string) => python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('sender@example.net', ['ann@example.test'], 'Subject: %s\\r\\n\\r\\nbody of %s\\r\\n' % (sys.argv[2], sys.argv[2]))
s.quit()
`, [String(port), subject]);

const status = (port: number) => python(`
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('ann@example.test', 'pw')
print(m.status('INBOX', '(MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ)')[1][0].decode())
m.select('INBOX', readonly=True)
print(m.uid('SEARCH', 'ALL')[1][0].decode())
m.logout()
`, [String(port)]);

it('counts deliveries into a folder whose record they did not rewrite, after a restart', async () => {
  server = await startTestServer({}, { keepData: true });
  const dataDir = server.dataDir;
  await provision(server, 'example.test', ['ann']);
  for (const subject of ['one', 'two', 'three']) {
    const sent = await send(server.ports.smtp, subject);
    expect(sent.code, sent.stderr).toBe(0);
  }
  await waitForMessages(server, 3);
  await server.stop();
  server = null;

  // On disk: the INBOX record as the mailbox's creation wrote it; the account is current.
  const db = new Database(path.join(dataDir, 'store'));
  await db.open();
  try {
    const store = new MailboxStore(db);
    const accounts: AccountRecord[] = [];
    for await (const account of store.accounts()) accounts.push(account);
    expect(accounts).toHaveLength(1);
    const mailboxId = accounts[0].mailboxId;
    expect(accounts[0]).toMatchObject({ messages: 3, bytes: expect.any(Number) });
    expect(accounts[0].bytes).toBeGreaterThan(3 * 30);
    const inboxOnDisk = decodeFolder((await db.get('folder', folderKey(mailboxId, 1)))!);
    expect(inboxOnDisk).toMatchObject({ name: 'INBOX', uidNext: 1, messages: 0 });
    const loaded = await store.loadAccount(mailboxId);
    expect(loaded!.folders.find((f) => f.name === 'INBOX')).toMatchObject({ uidNext: 4, messages: 3, unseen: 3, highestModseq: 4 });
    expect(loaded!.account).toMatchObject({ messages: 3, bytes: accounts[0].bytes });
  } finally {
    await db.close();
  }

  server = await startTestServer({ data: dataDir });
  let seen = await status(server.ports.imap);
  expect(seen.code, seen.stderr).toBe(0);
  expect(seen.stdout).toContain('MESSAGES 3');
  expect(seen.stdout).toContain('UIDNEXT 4');
  expect(seen.stdout).toContain('UNSEEN 3');
  expect(seen.stdout).toContain('HIGHESTMODSEQ 4');
  expect(seen.stdout.trim().split('\n')[1]).toBe('1 2 3');

  const fourth = await send(server.ports.smtp, 'four');
  expect(fourth.code, fourth.stderr).toBe(0);
  await waitForMessages(server, 4);
  seen = await status(server.ports.imap);
  expect(seen.stdout).toContain('MESSAGES 4');
  expect(seen.stdout).toContain('UIDNEXT 5');
  expect(seen.stdout.trim().split('\n')[1]).toBe('1 2 3 4');
  expect((await stats(server)).messages).toBe(4);

  // A change elsewhere (a folder created) writes the account record: after another
  // restart nothing is counted twice.
  const created = await python(`
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('ann@example.test', 'pw')
print(m.create('Work'))
m.logout()
`, [String(server.ports.imap)]);
  expect(created.stdout).toContain('OK');
  expect((await send(server.ports.smtp, 'five')).code).toBe(0);
  await waitForMessages(server, 5);
  await server.stop();
  server = await startTestServer({ data: dataDir });
  expect((await stats(server)).messages).toBe(5);
  seen = await status(server.ports.imap);
  expect(seen.stdout).toContain('MESSAGES 5');
  expect(seen.stdout).toContain('UIDNEXT 6');
});
