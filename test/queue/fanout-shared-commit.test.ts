// W2 fan-out, end to end on a real server: a message for many local users is stored in
// each mailbox exactly once, and the mailboxes of one message commit together (far fewer
// synced commits than deliveries), also when several such messages with overlapping
// recipients arrive at the same time (no mailbox waits for another for ever).
import { afterAll, beforeAll, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { python } from '../support/clients.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;
const users = Array.from({ length: 20 }, (_, i) => `u${String(i).padStart(2, '0')}`);
const address = (u: string) => `${u}@example.test`;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'example.test', users);
});
afterAll(async () => server.destroy());

type Stats = { messages: number; syncedCommits: number };

it('stores a fan-out once per mailbox, its mailboxes committing in one shared batch', async () => {
  const send = (to: string[], subject: string) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.smtp, secure: false, ignoreTLS: true });
    return transport.sendMail({ from: 'sender@example.net', to, subject, text: `${subject}\n`.repeat(200) }).finally(() => transport.close());
  };
  // Every mailbox opened once first (a first delivery also creates the mailbox's records).
  await send(users.map(address), 'warm-up');
  await waitForMessages(server, users.length);

  // One message at a time: each is its enqueue commit plus one batch shared by its mailboxes.
  const groups = [users.slice(0, 15), users.slice(5, 20), [...users.slice(0, 5), ...users.slice(10, 20)]];
  let before = (await stats(server)) as unknown as Stats;
  let stored = users.length;
  for (const [i, g] of groups.entries()) {
    await send(g.map(address), `one-by-one ${i}`);
    stored += g.length;
    await waitForMessages(server, stored);
  }
  await new Promise((r) => setTimeout(r, 200));
  let after = (await stats(server)) as unknown as Stats;
  expect(after.messages - before.messages).toBe(stored - users.length);
  expect(after.syncedCommits - before.syncedCommits).toBeLessThanOrEqual(2 * groups.length);

  // The same three at once, with overlapping recipients: a mailbox busy with one message
  // does not hold the others' batch for ever; every copy is stored, each once.
  before = after;
  await Promise.all(groups.map((g, i) => send(g.map(address), `fan-out ${i}`)));
  const deliveries = groups.reduce((n, g) => n + g.length, 0);
  await waitForMessages(server, stored + deliveries);
  await new Promise((r) => setTimeout(r, 300));
  after = (await stats(server)) as unknown as Stats;
  expect(after.messages - before.messages).toBe(deliveries);

  // Each user got exactly the messages addressed to it, each once (read back over POP3).
  const { code, stdout, stderr } = await python(`
import poplib, sys, json
out = {}
for user in sys.argv[2:]:
    p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
    p.user(user + '@example.test'); p.pass_('pw')
    subjects = []
    for i in range(p.stat()[0]):
        for line in p.top(i + 1, 0)[1]:
            if line.lower().startswith(b'subject:'): subjects.append(line[8:].strip().decode())
    p.quit()
    out[user] = sorted(subjects)
print(json.dumps(out))
`, [String(server.ports.pop3), ...users]);
  expect(code, stderr).toBe(0);
  const got = JSON.parse(stdout) as Record<string, string[]>;
  for (const u of users) {
    const expected = ['warm-up', ...groups.flatMap((g, i) => (g.includes(u) ? [`one-by-one ${i}`, `fan-out ${i}`] : []))].sort();
    expect(got[u], u).toEqual(expected);
  }
});
