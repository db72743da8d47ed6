// IMAP in a cluster (`ternmail start --workers 2`): connections land on either worker
// while each mailbox lives on one; FETCH reads bodies from the owning node, APPEND
// hands the bytes over, and flag changes made through one worker reach a session on
// the other through the forwarded folder events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const users = ['u1', 'u2', 'u3', 'u4'].map((u) => `${u}@icl.test`);

beforeAll(async () => {
  await cluster.start();
  await cluster.addUsers('icl.test', users);
}, 40_000);

afterAll(async () => cluster.destroy());

describe('IMAP across cluster workers', () => {
  it('appends, fetches and sees the other worker\'s flag changes for every mailbox', async () => {
    const { code, stdout, stderr } = await python(`
import imaplib, sys, time
port = int(sys.argv[1])
for user in sys.argv[2].split(','):
    body = ('Subject: for %s\\r\\n\\r\\n' % user + 'line\\r\\n' * 200).encode()
    sessions = []
    for i in range(6):
        c = imaplib.IMAP4('127.0.0.1', port)
        c.login(user, 'pw')
        sessions.append(c)
    typ, data = sessions[0].append('INBOX', '()', None, body)
    assert typ == 'OK', data
    for c in sessions:
        typ, data = c.select('INBOX')
        assert typ == 'OK' and data[0] == b'1', data
        typ, data = c.fetch('1', '(BODY.PEEK[])')
        assert data[0][1] == body, (user, len(data[0][1]))
    sessions[0].store('1', '+FLAGS', '(\\\\Flagged)')
    time.sleep(0.3)
    for c in sessions[1:]:
        typ, data = c.noop()
        seen = [r for r in c.untagged_responses.get('FETCH', [])]
        c.untagged_responses.pop('FETCH', None)
        assert any(b'\\\\Flagged' in r for r in seen), (user, seen)
    for c in sessions:
        c.logout()
    print('ok', user)
`, [String(cluster.ports!.imap), users.join(',')]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(users.length);
  }, 60_000);
});
