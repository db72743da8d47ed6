// Bounces for local delivery: a recipient removed after acceptance and a message that
// outlives the queue lifetime produce one DSN to the sender; mail from the null sender
// is never bounced; a forwarding loop (too many Received headers) is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient, python } from '../support/clients.js';
import { provision, startTestServer, stats, waitFor, type TestServer } from '../support/server.js';

let server: TestServer;

interface Listing { id: string; recipients: Array<{ address: string; state: string; lastError: string | null }> }

beforeAll(async () => {
  server = await startTestServer({ retrySchedule: [1], delayWarning: 0, maxQueueLifetime: 3600 });
  await provision(server, 'bnc.test', ['sender', 'gone', 'small']);
});

afterAll(async () => server.destroy());

async function smtp(from: string, to: string, body: string): Promise<string> {
  const client = await LineClient.connect(server.ports.smtp);
  await client.expect(/^220 .*\r\n/);
  client.send(`EHLO t.test\r\nMAIL FROM:<${from}>\r\nRCPT TO:<${to}>\r\nDATA\r\n`);
  await client.expect(/354 .*\r\n/);
  client.send(body.replace(/\r\n\./g, '\r\n..') + '\r\n.\r\n');
  const reply = await client.expect(/^[2-5]\d\d [^\r\n]*\r\n(?![\s\S])/m);
  client.send('QUIT\r\n');
  client.close();
  return reply.trim().split('\r\n').pop()!;
}

async function mailbox(user: string): Promise<string[]> {
  const { stdout } = await python(`
import poplib, sys, json
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user(sys.argv[2]); p.pass_('pw')
print(json.dumps([b'\\r\\n'.join(p.retr(i + 1)[1]).decode('latin1') for i in range(p.stat()[0])])); p.quit()
`, [String(server.ports.pop3), user]);
  return JSON.parse(stdout);
}

async function waitDeferred(address: string): Promise<Listing> {
  return waitFor(async () => (await server.admin<Listing[]>('GET', '/v1/queue')).find((e) => e.recipients.some((r) => r.address === address && r.state === 'deferred')), 10_000, `${address} deferred`);
}

describe('local bounces', () => {
  it('bounces mail for a user removed after acceptance, once, to the sender', async () => {
    await server.admin('PUT', '/v1/users/gone@bnc.test/quota', { quota: 50 });
    expect(await smtp('sender@bnc.test', 'gone@bnc.test', 'Subject: too late\r\n\r\n' + 'x'.repeat(200))).toMatch(/^250 /);
    const entry = await waitDeferred('gone@bnc.test');
    expect(entry.recipients[0].lastError).toMatch(/quota/);
    await server.admin('DELETE', '/v1/users/gone@bnc.test');
    await server.admin('POST', '/v1/queue/flush', {});
    await waitFor(async () => (await stats(server)).queued === 0 && (await mailbox('sender@bnc.test')).length === 1, 10_000, 'bounce');
    const [dsn] = await mailbox('sender@bnc.test');
    expect(dsn).toMatch(/Final-Recipient: rfc822; gone@bnc\.test\r\nAction: failed\r\nStatus: 5\.1\.1/);
    expect(dsn).toMatch(/Subject: too late/);
  });

  it('never bounces mail from the null sender', async () => {
    await server.admin('PUT', '/v1/users/small@bnc.test/quota', { quota: 50 });
    const before = (await mailbox('sender@bnc.test')).length;
    expect(await smtp('', 'small@bnc.test', 'Subject: from nobody\r\n\r\n' + 'y'.repeat(200))).toMatch(/^250 /);
    await waitDeferred('small@bnc.test');
    await server.admin('DELETE', '/v1/users/small@bnc.test');
    await server.admin('POST', '/v1/queue/flush', {});
    await waitFor(async () => (await stats(server)).queued === 0, 10_000, 'queue drained');
    await new Promise((r) => setTimeout(r, 300));
    expect((await mailbox('sender@bnc.test')).length).toBe(before);
    expect(await server.admin<Listing[]>('GET', '/v1/queue')).toEqual([]);
  });

  it('refuses a message that has looped through too many servers', async () => {
    const received = Array.from({ length: 30 }, (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Mon, 1 Jan 2026 00:00:00 +0000`).join('\r\n');
    expect(await smtp('sender@bnc.test', 'sender@bnc.test', `${received}\r\nSubject: loop\r\n\r\nbody`)).toMatch(/^554 5\.4\.6/);
    const fewer = received.split('\r\n').slice(0, 20).join('\r\n');
    expect(await smtp('sender@bnc.test', 'sender@bnc.test', `${fewer}\r\nSubject: fine\r\n\r\nbody`)).toMatch(/^250 /);
  });
});

describe('queue lifetime', () => {
  it('returns a message still undelivered after the maximum queue lifetime', async () => {
    const short = await startTestServer({ retrySchedule: [1], delayWarning: 1, maxQueueLifetime: 2 });
    await provision(short, 'life.test', ['from', 'full']);
    await short.admin('PUT', '/v1/users/full@life.test/quota', { quota: 50 });
    const client = await LineClient.connect(short.ports.smtp);
    await client.expect(/^220 .*\r\n/);
    client.send('EHLO t.test\r\nMAIL FROM:<from@life.test>\r\nRCPT TO:<full@life.test>\r\nDATA\r\n');
    await client.expect(/354 .*\r\n/);
    client.send('Subject: patience\r\n\r\n' + 'z'.repeat(300) + '\r\n.\r\n');
    await client.expect(/250 .*\r\n/);
    client.close();
    const { stdout } = await waitFor(async () => {
      const result = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('from@life.test'); p.pass_('pw')
print('\\n---\\n'.join(b'\\r\\n'.join(p.retr(i + 1)[1]).decode('latin1') for i in range(p.stat()[0]))); p.quit()
`, [String(short.ports.pop3)]);
      return result.stdout.includes('Undelivered Mail') && result;
    }, 15_000, 'expiry bounce');
    expect(stdout).toContain('Delayed Mail (still being retried)');
    expect(stdout).toMatch(/Action: delayed\r\nStatus: 4\.2\.2/);
    expect(stdout).toMatch(/Action: failed\r\nStatus: 5\.4\.7\r\nDiagnostic-Code: smtp; 5\.4\.7 delivery time expired; last error: 4\.2\.2/);
    expect((await short.admin<unknown[]>('GET', '/v1/queue'))).toEqual([]);
    await short.destroy();
  });
});
