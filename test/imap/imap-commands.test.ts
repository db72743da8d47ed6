// Every advertised command end to end with imapflow and Python's imaplib: folders
// (LIST variants, CREATE/RENAME/DELETE, SUBSCRIBE, STATUS), APPEND/COPY/MOVE with
// UIDPLUS codes, STORE/EXPUNGE, SEARCH/ESEARCH, CONDSTORE/QRESYNC, QUOTA, ID, NAMESPACE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { connectFlow, deliver, message, RawImap } from './imap-support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'cmd.test', ['fay', 'gus', 'hal', 'ivy']);
  await server.admin('PUT', '/v1/users/ivy@cmd.test/quota', { quota: 10 * 1024 * 1024 }).catch(() => undefined);
});

afterAll(async () => server.destroy());

describe('folder commands', () => {
  it('lists special-use folders, creates, renames, subscribes and deletes with imapflow', async () => {
    const client = await connectFlow(server, 'fay@cmd.test');
    const initial = await client.list();
    const byPath = new Map(initial.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort()).toEqual(['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
    expect(byPath.get('Sent')?.specialUse).toBe('\\Sent');
    await client.mailboxCreate('Projects/Alpha');
    await client.mailboxCreate(['Projects', 'Beta']);
    const afterCreate = await client.list();
    const projects = afterCreate.find((f) => f.path === 'Projects');
    expect(projects?.flags.has('\\HasChildren')).toBe(true);
    await client.mailboxRename('Projects/Beta', 'Projects/Gamma');
    await client.mailboxUnsubscribe('Projects/Alpha');
    const subscribed = await client.listTree();
    expect(JSON.stringify(subscribed)).toContain('Gamma');
    await client.mailboxDelete('Projects/Gamma');
    const final = (await client.list()).map((f) => f.path);
    expect(final).toContain('Projects/Alpha');
    expect(final).not.toContain('Projects/Gamma');
    const status = await client.status('INBOX', { messages: true, uidNext: true, uidValidity: true, unseen: true, highestModseq: true });
    expect(status.messages).toBe(0);
    expect(typeof status.uidValidity).toBe('bigint');
    await client.logout();
  });

  it('answers LIST-EXTENDED, LIST-STATUS, LSUB and the empty pattern on the wire', async () => {
    const raw = await RawImap.open(server, 'fay@cmd.test');
    expect(await raw.run('LIST "" ""')).toContain('* LIST (\\Noselect) "/" ""');
    const special = await raw.run('LIST (SPECIAL-USE) "" "*"');
    expect(special).toContain('* LIST (\\HasNoChildren \\Trash) "/" "Trash"');
    expect(special).not.toContain('INBOX');
    const statusList = await raw.run('LIST "" "INBOX" RETURN (CHILDREN STATUS (MESSAGES UIDNEXT SIZE))');
    expect(statusList).toMatch(/\* LIST \(\\HasNoChildren\) "\/" "INBOX"\r\n\* STATUS "INBOX" \(MESSAGES 0 UIDNEXT 1 SIZE 0\)/);
    await raw.run('SUBSCRIBE Projects/Alpha');
    const subscribed = await raw.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" "Projects"');
    expect(subscribed).toContain('* LIST (\\HasChildren) "/" "Projects" ("CHILDINFO" ("SUBSCRIBED"))');
    expect(await raw.run('LSUB "" "*"')).toContain('* LSUB () "/" "Drafts"');
    expect(await raw.run('LIST "" "%"')).toContain('"/" "Projects"');
    expect(await raw.run('CREATE INBOX')).toMatch(/NO \[ALREADYEXISTS\]/);
    expect(await raw.run('DELETE INBOX')).toMatch(/ NO /);
    expect(await raw.run('STATUS Nowhere (MESSAGES)')).toMatch(/NO \[NONEXISTENT\]/);
    expect(await raw.run('CREATE "a//b"')).toMatch(/NO \[CANNOT\]/);
    raw.close();
  });
});

describe('message commands', () => {
  it('appends with flags and date, copies and moves with UIDPLUS codes, stores and expunges', async () => {
    const raw = await RawImap.open(server, 'gus@cmd.test');
    const body = message('appended', 'appended body\r\n');
    raw.line.send(`a1 APPEND INBOX (\\Seen $Work) "05-Mar-2024 10:11:12 +0100" {${Buffer.byteLength(body)}}\r\n`);
    await raw.line.expect(/\+ .*\r\n/);
    raw.line.send(`${body}\r\n`);
    const appended = await raw.line.expect(/a1 (OK|NO|BAD).*\r\n/);
    expect(appended).toMatch(/a1 OK \[APPENDUID \d+ 1\]/);
    expect(await raw.run(`APPEND Nowhere {3+}\r\nabc`)).toMatch(/NO \[TRYCREATE\]/);
    const select = await raw.run('SELECT INBOX');
    expect(select).toContain('* 1 EXISTS');
    expect(select).toContain('$Work');
    const fetched = await raw.run('FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)');
    expect(fetched).toContain('INTERNALDATE "05-Mar-2024 09:11:12 +0000"');
    expect(fetched).toContain(`RFC822.SIZE ${Buffer.byteLength(body)}`);
    expect(await raw.run('COPY 1 Archive')).toMatch(/OK \[COPYUID \d+ 1 1\]/);
    expect(await raw.run('COPY 1 INBOX')).toMatch(/\* 2 EXISTS[\s\S]*OK \[COPYUID \d+ 1 2\]/);
    const moved = await raw.run('UID MOVE 2 Trash');
    expect(moved).toMatch(/\* OK \[COPYUID \d+ 2 1\] Moved\r\n\* 2 EXPUNGE\r\n\S+ OK/);
    expect(await raw.run('COPY 1 Nowhere')).toMatch(/NO \[TRYCREATE\]/);
    expect(await raw.run('STORE 1 -FLAGS (\\Seen)')).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\$Work \\Recent\)\)/);
    expect(await raw.run('STORE 1 +FLAGS.SILENT ($Fresh)')).toMatch(/\* FLAGS \(\\Answered \\Flagged \\Deleted \\Seen \\Draft \$Work \$Fresh\)\r\n\* OK \[PERMANENTFLAGS \(.*\$Work \$Fresh \\\*\)\]/);
    expect(await raw.run('STORE 1 FLAGS.SILENT (\\Deleted)')).not.toContain('FETCH');
    expect(await raw.run('FETCH 1 BODY[TEXT]')).toMatch(/FLAGS \(\\Deleted \\Recent \\Seen\)|FLAGS \(\\Deleted \\Seen \\Recent\)/);
    expect(await raw.run('EXPUNGE')).toContain('* 1 EXPUNGE');
    expect(await raw.run('STATUS Archive (MESSAGES UNSEEN)')).toContain('* STATUS "Archive" (MESSAGES 1 UNSEEN 0)');
    expect(await raw.run('EXAMINE Archive')).toMatch(/OK \[READ-ONLY\]/);
    expect(await raw.run('STORE 1 +FLAGS (\\Flagged)')).toMatch(/ NO /);
    expect(await raw.run('FETCH 1 BODY[]')).not.toContain('\\Seen \\Seen');
    expect(await raw.run('UNSELECT')).toMatch(/OK/);
    expect(await raw.run('FETCH 1 FLAGS')).toMatch(/ BAD /);
    // CLOSE expunges \Deleted messages without EXPUNGE responses; CHECK is a no-op.
    await raw.run('SELECT Archive');
    expect(await raw.run('CHECK')).toMatch(/OK CHECK completed/);
    await raw.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    const closed = await raw.run('CLOSE');
    expect(closed).not.toContain('EXPUNGE');
    expect(await raw.run('STATUS Archive (MESSAGES)')).toContain('(MESSAGES 0)');
    // Over quota: the append is refused and nothing is stored.
    await server.admin('PUT', '/v1/users/gus@cmd.test/quota', { quota: 64 });
    expect(await raw.run('APPEND INBOX {200+}\r\n' + 'x'.repeat(200))).toMatch(/NO \[OVERQUOTA\]/);
    expect(await raw.run('COPY 1 Archive')).toMatch(/ BAD /);
    await raw.run('SELECT Trash');
    expect(await raw.run('COPY 1 Archive')).toMatch(/NO \[OVERQUOTA\]/);
    await server.admin('PUT', '/v1/users/gus@cmd.test/quota', { quota: 0 });
    raw.close();
  });

  it('searches with imapflow and answers ESEARCH and SEARCHRES on the wire', async () => {
    await deliver(server, ['hal@cmd.test'], message('alpha report', 'the quick brown fox\r\n'));
    await deliver(server, ['hal@cmd.test'], message('beta notes', 'lazy dog\r\n'));
    await deliver(server, ['hal@cmd.test'], message('gamma alpha', 'nothing\r\n'));
    const client = await connectFlow(server, 'hal@cmd.test');
    await client.mailboxOpen('INBOX');
    expect(await client.search({ subject: 'alpha' })).toEqual([1, 3]);
    expect(await client.search({ body: 'lazy' }, { uid: true })).toEqual([2]);
    await client.messageFlagsAdd('2', ['\\Flagged']);
    expect(await client.search({ flagged: true })).toEqual([2]);
    expect(await client.search({ or: [{ flagged: true }, { subject: 'gamma' }] })).toEqual([2, 3]);
    await client.logout();
    const raw = await RawImap.open(server, 'hal@cmd.test');
    await raw.run('SELECT INBOX');
    expect(await raw.run('SEARCH RETURN (MIN MAX COUNT) SUBJECT alpha')).toMatch(/\* ESEARCH \(TAG "t3"\) MIN 1 MAX 3 COUNT 2/);
    expect(await raw.run('UID SEARCH RETURN () ALL')).toMatch(/\* ESEARCH \(TAG "t4"\) UID ALL 1:3/);
    expect(await raw.run('SEARCH RETURN (SAVE) FLAGGED')).not.toContain('ESEARCH');
    expect(await raw.run('FETCH $ (UID)')).toContain('* 2 FETCH (UID 2)');
    expect(await raw.run('SEARCH CHARSET KOI8-R SUBJECT x')).toMatch(/NO \[BADCHARSET \(UTF-8 US-ASCII\)\]/);
    expect(await raw.run('SEARCH MODSEQ 1')).toMatch(/\* SEARCH 1 2 3 \(MODSEQ \d+\)/);
    raw.close();
  });

  it('answers CONDSTORE, QRESYNC and QUOTA', async () => {
    await deliver(server, ['ivy@cmd.test'], message('q1'));
    await deliver(server, ['ivy@cmd.test'], message('q2'));
    await deliver(server, ['ivy@cmd.test'], message('q3'));
    const raw = await RawImap.open(server, 'ivy@cmd.test');
    expect(await raw.run('ENABLE QRESYNC')).toContain('* ENABLED QRESYNC');
    const select = await raw.run('SELECT INBOX (CONDSTORE)');
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(select)![1]);
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(select)![1]);
    const stored = await raw.run(`STORE 1 +FLAGS (\\Flagged)`);
    expect(stored).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)/);
    expect(await raw.run(`STORE 2 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)`)).toMatch(/OK \[MODIFIED 2\]/);
    expect(await raw.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`)).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)\r\n\S+ OK/);
    await raw.run('STORE 3 +FLAGS.SILENT (\\Deleted)');
    expect(await raw.run('EXPUNGE')).toMatch(/\* VANISHED 3\r\n\S+ OK \[HIGHESTMODSEQ \d+\]/);
    expect(await raw.run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest} VANISHED)`)).toContain('* VANISHED (EARLIER) 3');
    await raw.run('UNSELECT');
    const resync = await raw.run(`SELECT INBOX (QRESYNC (${uidValidity} ${highest} 1:3))`);
    expect(resync).toContain('* VANISHED (EARLIER) 3');
    expect(resync).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)/);
    expect(await raw.run('GETQUOTAROOT INBOX')).toMatch(/\* QUOTAROOT "INBOX" ""\r\n\* QUOTA "" \((STORAGE \d+ 10240)?\)/);
    expect(await raw.run('GETQUOTA ""')).toMatch(/\* QUOTA "" /);
    expect(await raw.run('SETQUOTA "" (STORAGE 1)')).toMatch(/ NO /);
    expect(await raw.run('NAMESPACE')).toContain('* NAMESPACE (("" "/")) NIL (("shared/" "/"))');
    expect(await raw.run('ID ("name" "test")')).toContain('* ID ("name" "ternmail"');
    raw.close();
  });

  it('works with Python imaplib: login, list, append, select, fetch, store, search, copy, expunge, logout', async () => {
    const { stdout, code, stderr } = await python(`
import imaplib, sys, time
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
print('caps', ' '.join(sorted(c.capabilities)))
c.login('gus@cmd.test', 'pw')
typ, boxes = c.list()
print('list', typ, len(boxes))
typ, data = c.append('INBOX', '(\\\\Flagged)', imaplib.Time2Internaldate(time.time()), b'Subject: py\\r\\n\\r\\nfrom python\\r\\n')
print('append', typ, data[0].decode())
typ, data = c.select('INBOX')
print('select', typ, data[0].decode())
typ, data = c.search(None, 'SUBJECT', 'py')
print('search', typ, data[0].decode())
n = data[0].split()[-1].decode()
typ, data = c.fetch(n, '(FLAGS BODY.PEEK[TEXT])')
print('fetch', typ, data[0][1])
typ, data = c.store(n, '+FLAGS', '(\\\\Answered)')
print('store', typ, data[0].decode())
typ, data = c.copy(n, 'Archive')
print('copy', typ)
c.store(n, '+FLAGS', '(\\\\Deleted)')
typ, data = c.expunge()
print('expunge', typ, data)
typ, data = c.status('Archive', '(MESSAGES)')
print('status', data[0].decode())
c.close()
print('logout', c.logout()[0])
`, [String(server.ports.imap)]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/caps [^\n]*AUTH=PLAIN/);
    expect(stdout).toMatch(/append OK \[APPENDUID \d+ \d+\]/);
    expect(stdout).toContain("fetch OK b'from python\\r\\n'");
    expect(stdout).toMatch(/store OK \d+ \(UID \d+ FLAGS \(\\Flagged \\Answered( \\Recent)?\)\)/);
    expect(stdout).toMatch(/expunge OK \[b'\d+'\]/);
    expect(stdout).toContain('logout BYE');
  });
});
