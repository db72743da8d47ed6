// IMAP ACL in a cluster (`ternmail start --workers 2`): the owner's mailbox on one
// worker, the reader's on the other, so every request of the reader's session to the
// shared folder takes the registry's remote path (folder events through the proxy,
// bodies from the owner's node). Driven by Python's imaplib as a real client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const alice = 'alice@aclc.test';
const bob = 'bob@aclc.test';

async function send(to: string, subject: string): Promise<void> {
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('sender@remote.test', [sys.argv[2]], ('Subject: %s\\r\\n\\r\\nbody\\r\\n' % sys.argv[3]).encode())
s.quit()
`, [String(cluster.ports!.smtp), to, subject]);
  expect(code, stderr).toBe(0);
}

beforeAll(async () => {
  await cluster.start();
  await cluster.addUsers('aclc.test', [alice, bob]);
  // One delivery each places the two mailboxes, one per worker (the router picks the emptier one).
  await send(alice, 'placing alice');
  await cluster.waitDelivered(1);
  await send(bob, 'placing bob');
  await cluster.waitDelivered(2);
  await cluster.waitForWorkers((rows) => rows.length === 2 && rows.every((r) => r.mailboxes === 1));
}, 60_000);

afterAll(async () => cluster.destroy());

describe('shared folders across workers', () => {
  it('a reader on the other worker lists, selects, idles, reads, flags and loses access when revoked', async () => {
    const { code, stdout, stderr } = await python(`
import imaplib, smtplib, sys, time
imap_port, smtp_port, alice, bob = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
a = imaplib.IMAP4('127.0.0.1', imap_port); a.login(alice, 'pw')
b = imaplib.IMAP4('127.0.0.1', imap_port); b.login(bob, 'pw')
assert 'ACL' in b.capabilities and 'RIGHTS=TEXK' in b.capabilities, b.capabilities
typ, data = a.setacl('INBOX', bob, 'lrsw'); assert typ == 'OK', data
typ, data = a.myrights('INBOX'); assert typ == 'OK' and b'lrswipkxteacd' in data[0], data
shared = 'shared/%s/INBOX' % alice
deadline = time.time() + 10
while True:
    typ, data = b.list('""', 'shared/*')
    if any(shared.encode() in line for line in data if line): break
    assert time.time() < deadline, data
    time.sleep(0.1)
typ, data = b.myrights(shared); assert typ == 'OK' and b'"lrsw"' in data[0], data
typ, data = b.select(shared); assert typ == 'OK' and data[0] == b'1', data
# IDLE: mail delivered to alice reaches bob's session on the other worker.
tag = b._new_tag()
b.send(tag + b' IDLE\\r\\n')
assert b.readline().startswith(b'+'), 'no continuation'
s = smtplib.SMTP('127.0.0.1', smtp_port)
s.sendmail('sender@remote.test', [alice], b'Subject: for the team\\r\\n\\r\\nhello team\\r\\n')
s.quit()
line = b.readline()
while b'EXISTS' not in line: line = b.readline()
assert line.strip() == b'* 2 EXISTS', line
b.send(b'DONE\\r\\n')
while not b.readline().startswith(tag + b' OK'): pass
typ, data = b.fetch('2', '(BODY[])')
assert typ == 'OK' and b'hello team' in data[0][1], data
# Shared \\Seen: alice sees bob's read; bob's flag is stored in alice's mailbox.
typ, data = a.status('INBOX', '(UNSEEN)'); assert b'UNSEEN 1' in data[0], data
typ, data = b.store('1', '+FLAGS', '($Team)'); assert typ == 'OK', data
a.select('INBOX')
typ, data = a.fetch('1', '(FLAGS)'); assert b'$Team' in data[0], data
# Revoked: the next FETCH of bob's open session is refused, and the folder is gone for him.
typ, data = a.deleteacl('INBOX', bob); assert typ == 'OK', data
typ, data = b.fetch('1', '(BODY.PEEK[])'); assert typ == 'NO' and b'NOPERM' in (b.untagged_responses.get('NOPERM', [b''])[0] or b'NOPERM'), (typ, data)
b.close() if b.state == 'SELECTED' else None
typ, data = b.select(shared); assert typ == 'NO', data
a.logout(); b.logout()
print('ok')
`, [String(cluster.ports!.imap), String(cluster.ports!.smtp), alice, bob]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout.trim()).toBe('ok');
  }, 60_000);
});
