// IMAP ACL with real clients and three users: the owner shares a folder through Python's
// imaplib (SETACL, GETACL, MYRIGHTS, NAMESPACE), two readers with different rights use
// it through imapflow the way a mail client does (NAMESPACE, LIST, open, read, flag, append).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { provision, startTestServer, waitFor, type TestServer } from '../support/server.js';
import { connectFlow, message } from './imap-support.js';

let server: TestServer;
const alice = 'alice@aclr.test';
const bob = 'bob@aclr.test';
const carol = 'carol@aclr.test';
const team = `shared/${alice}/Team`;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'aclr.test', ['alice', 'bob', 'carol']);
});

afterAll(async () => server.destroy());

describe('shared folders with imaplib and imapflow', () => {
  it('the owner shares with imaplib; a reader and a contributor use it with imapflow', async () => {
    const owner = await python(`
import imaplib, sys
port, alice, bob, carol = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
a = imaplib.IMAP4('127.0.0.1', port); a.login(alice, 'pw')
typ, data = a.namespace(); assert typ == 'OK' and b'(("shared/" "/"))' in data[0], data
assert a.create('Team')[0] == 'OK'
assert a.append('Team', None, None, b'Subject: agenda\\r\\n\\r\\nmonday\\r\\n')[0] == 'OK'
assert a.setacl('Team', bob, 'lr')[0] == 'OK'
assert a.setacl('Team', carol, 'lrswit')[0] == 'OK'
typ, data = a.getacl('Team'); assert typ == 'OK', data
print(data[0].decode())
a.logout()
`, [String(server.ports.imap), alice, bob, carol]);
    expect(owner.code, owner.stderr).toBe(0);
    expect(owner.stdout.trim()).toBe(`"Team" "${alice}" "lrswipkxteacd" "${bob}" "lr" "${carol}" "lrswitd"`);

    const reader = await connectFlow(server, bob);
    await waitFor(async () => (await reader.list()).some((m) => m.path === team), 5000, 'Team in bob\'s LIST');
    const opened = await reader.mailboxOpen(team, { readOnly: false });
    expect(opened.readOnly).toBe(true);
    expect(opened.exists).toBe(1);
    const first = await reader.fetchOne('1', { source: true, flags: true });
    expect(first && first.source?.toString()).toContain('monday');

    const contributor = await connectFlow(server, carol);
    const box = await contributor.mailboxOpen(team);
    expect(box.readOnly).toBe(false);
    await contributor.messageFlagsAdd('1', ['\\Seen', '$Agenda']);
    const appended = await contributor.append(team, message('minutes', 'notes\r\n'), ['\\Seen']);
    expect(appended && appended.uid).toBe(2);

    const status = await reader.status(team, { messages: true, unseen: true });
    expect(status).toMatchObject({ messages: 2, unseen: 0 });
    const flags = await reader.fetchOne('1', { flags: true });
    // The reader's view learns carol's flag change (shared flags) without its own write.
    await reader.noop();
    const after = await reader.fetchOne('1', { flags: true });
    expect([...(after && after.flags ? after.flags : [])]).toEqual(expect.arrayContaining(['\\Seen', '$Agenda']));
    expect(flags).toBeTruthy();
    // bob has no w: his flag change is not stored.
    await reader.messageFlagsAdd('1', ['$Mine']).catch(() => false);
    const owned = await connectFlow(server, alice);
    await owned.mailboxOpen('Team');
    const seenByOwner = await owned.fetchOne('1', { flags: true });
    expect([...(seenByOwner && seenByOwner.flags ? seenByOwner.flags : [])]).not.toContain('$Mine');
    for (const client of [reader, contributor, owned]) await client.logout();
  });
});
