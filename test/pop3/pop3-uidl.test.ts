// UIDL over the real store: the whole-list answer is kept per maildrop listing and
// shared by the sessions that open it, so it must still leave out the messages a
// session marked deleted, bring them back after RSET, and change with the maildrop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, python } from '../support/clients.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'uidl.test', ['ida']);
});

afterAll(async () => server.destroy());

async function deliver(subject: string): Promise<void> {
  const before = (await stats(server)).messages;
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('sender@remote.test', ['ida@uidl.test'], 'Subject: %s\\r\\n\\r\\nbody\\r\\n' % sys.argv[2])
s.quit()
`, [String(server.ports.smtp), subject]);
  expect(code, stderr).toBe(0);
  await waitForMessages(server, before + 1);
}

async function loggedIn(): Promise<LineClient> {
  const client = await LineClient.connect(server.ports.pop3);
  await client.expect(/^\+OK.*\r\n/);
  client.send('USER ida@uidl.test\r\nPASS pw\r\n');
  await client.expect(/\+OK.*\r\n\+OK.*\r\n/);
  return client;
}

/** The "n uid" lines of one UIDL answer. */
async function uidl(client: LineClient): Promise<string[]> {
  client.send('UIDL\r\n');
  const answer = await client.expect(/\+OK[^\r\n]*\r\n(?:[^\r\n]*\r\n)*?\.\r\n/);
  const lines = answer.split('\r\n');
  return lines.slice(lines.findIndex((line) => line.startsWith('+OK')) + 1, lines.lastIndexOf('.'));
}

describe('POP3 UIDL', () => {
  it('answers every session of an unchanged maildrop alike, without the messages marked deleted, and follows changes', async () => {
    await deliver('one');
    await deliver('two');
    const first = await loggedIn();
    const full = await uidl(first);
    expect(full.map((line) => line.split(' ')[0])).toEqual(['1', '2']);
    first.send('DELE 1\r\n');
    await first.expect(/\+OK.*\r\n/);
    expect(await uidl(first)).toEqual([full[1]]);
    first.send('RSET\r\n');
    await first.expect(/\+OK.*\r\n/);
    expect(await uidl(first)).toEqual(full);
    first.send('QUIT\r\n');
    await first.expect(/\+OK.*\r\n/);
    first.close();

    const second = await loggedIn();
    expect(await uidl(second)).toEqual(full);
    second.send('QUIT\r\n');
    await second.expect(/\+OK.*\r\n/);
    second.close();

    await deliver('three');
    const third = await loggedIn();
    const after = await uidl(third);
    expect(after.slice(0, 2)).toEqual(full);
    expect(after).toHaveLength(3);
    third.send('DELE 2\r\nQUIT\r\n');
    await third.expect(/\+OK.*\r\n\+OK.*\r\n/);
    third.close();

    const fourth = await loggedIn();
    expect(await uidl(fourth)).toEqual([full[0], `2 ${after[2]!.split(' ')[1]}`]);
    fourth.send('QUIT\r\n');
    await fourth.expect(/\+OK.*\r\n/);
    fourth.close();
  });
});
