// Outbound delivery between two real ternmail servers on loopback (a.test on A,
// b.test and c.test on B, each routed to the other by a static route): relaying for
// authenticated users, deferral while the peer is down, flush, DSNs, per-recipient retry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { python } from '../support/clients.js';
import { freePorts } from '../support/process.js';
import { provision, startTestServer, stats, tempDir, waitFor, waitForMessages, type TestServer } from '../support/server.js';

interface Listing { id: string; recipients: Array<{ address: string; state: string; lastError: string | null; attempts: number }> }

let a: TestServer;
let b: TestServer;
let bData: string;
let bPorts: number[];

async function startB(): Promise<TestServer> {
  return startTestServer({ data: bData, smtpPort: bPorts[0], hostname: 'mx.b.test' }, { keepData: true });
}

async function retrieve(server: TestServer, user: string): Promise<string[]> {
  const { stdout, code, stderr } = await python(`
import poplib, sys, json
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_('pw')
out = [b'\\r\\n'.join(p.retr(i + 1)[1]).decode('latin1') for i in range(p.stat()[0])]
p.quit()
print(json.dumps(out))
`, [String(server.ports.pop3), user]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

function submitter(server: TestServer, user: string) {
  return nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.submission, ignoreTLS: true, auth: { user, pass: 'pw' } });
}

beforeAll(async () => {
  bData = tempDir();
  bPorts = await freePorts(1);
  a = await startTestServer({ hostname: 'mx.a.test', retrySchedule: [1], delayWarning: 0 });
  b = await startB();
  await provision(a, 'a.test', ['alice']);
  await provision(b, 'b.test', ['bob', 'carol', 'dave']);
  await provision(b, 'c.test', ['cy', 'cat']);
  await a.admin('POST', '/v1/routes', { domain: 'b.test', host: '127.0.0.1', port: b.ports.smtp });
  await a.admin('POST', '/v1/routes', { domain: 'c.test', host: '127.0.0.1', port: b.ports.smtp });
  await b.admin('POST', '/v1/routes', { domain: 'a.test', host: '127.0.0.1', port: a.ports.smtp });
});

afterAll(async () => {
  await a.destroy();
  await b.stop();
  const { rmSync } = await import('node:fs');
  rmSync(bData, { recursive: true, force: true });
});

describe('outbound delivery', () => {
  it('relays mail submitted with AUTH on A into a mailbox on B', async () => {
    const transport = submitter(a, 'alice@a.test');
    await transport.sendMail({ from: 'alice@a.test', to: 'bob@b.test', subject: 'across', text: 'hello bob' });
    transport.close();
    await waitForMessages(b, 1);
    const [message] = await retrieve(b, 'bob@b.test');
    expect(message).toMatch(/^Received: from mx\.a\.test/);
    expect(message).toMatch(/Received: from .*\r\n\tby mx\.a\.test \(ternmail\) with ESMTPA id/);
    expect(message).toContain('hello bob');
    await waitFor(async () => (await stats(a)).queued === 0, 5000, 'A queue empty');
  });

  it('splits a 5-recipient message over two destinations, one transaction each', async () => {
    const before = (await stats(b)).messages;
    const blobsBefore = (await stats(b)).blobs;
    const transport = submitter(a, 'alice@a.test');
    const info = await transport.sendMail({
      from: 'alice@a.test', to: ['bob@b.test', 'carol@b.test', 'dave@b.test', 'cy@c.test', 'cat@c.test'], subject: 'five', text: 'x',
    });
    transport.close();
    expect(info.accepted).toHaveLength(5);
    await waitForMessages(b, before + 5);
    const after = await stats(b);
    expect(after.messages).toBe(before + 5);
    // each inbound transaction on B has its own Received header, so its own stored body
    expect(after.blobs - blobsBefore).toBe(2);
    for (const user of ['carol@b.test', 'dave@b.test', 'cy@c.test', 'cat@c.test']) {
      expect((await retrieve(b, user)).some((m) => m.includes('Subject: five'))).toBe(true);
    }
  });

  it('defers while B is down, shows the error in the queue, and delivers exactly once after flush', async () => {
    await b.stop();
    const transport = submitter(a, 'alice@a.test');
    await transport.sendMail({ from: 'alice@a.test', to: 'dave@b.test', subject: 'while down', text: 'queued' });
    transport.close();
    const entry = await waitFor(async () => {
      const queue = await a.admin<Listing[]>('GET', '/v1/queue');
      return queue.find((e) => e.recipients.some((r) => r.state === 'deferred' && r.lastError));
    }, 10_000, 'deferred entry');
    expect(entry.recipients[0].lastError).toMatch(/ECONNREFUSED|connect/i);
    b = await startB();
    await a.admin('POST', '/v1/queue/flush', {});
    await waitFor(async () => (await stats(a)).queued === 0, 10_000, 'A queue drained');
    const daves = (await retrieve(b, 'dave@b.test')).filter((m) => m.includes('Subject: while down'));
    expect(daves).toHaveLength(1);
  });

  it('bounces an unknown user on B with a DSN into the sender mailbox on A', async () => {
    const before = (await stats(a)).messages;
    const transport = submitter(a, 'alice@a.test');
    await transport.sendMail({ from: 'alice@a.test', to: 'nobody@b.test', subject: 'to nobody', text: 'x' });
    transport.close();
    await waitForMessages(a, before + 1);
    const bounces = (await retrieve(a, 'alice@a.test')).filter((m) => m.includes('Undelivered Mail Returned to Sender'));
    expect(bounces).toHaveLength(1);
    const dsn = bounces[0];
    expect(dsn).toMatch(/From: Mail Delivery System <MAILER-DAEMON@mx\.a\.test>/);
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status/);
    expect(dsn).toMatch(/Final-Recipient: rfc822; nobody@b\.test\r\nAction: failed\r\nStatus: 5\.1\.1/);
    expect(dsn).toMatch(/Diagnostic-Code: smtp; 550 5\.1\.1/);
    expect(dsn).toMatch(/text\/rfc822-headers[\s\S]*Subject: to nobody/);
  });

  it('retries only the recipient that got 4xx, then delivers it', async () => {
    const transport = submitter(a, 'alice@a.test');
    const carolBefore = (await retrieve(b, 'carol@b.test')).length;
    await b.admin('PUT', '/v1/users/carol@b.test/quota', { quota: 1 });
    await transport.sendMail({ from: 'alice@a.test', to: ['bob@b.test', 'carol@b.test'], subject: 'partial', text: 'x' });
    transport.close();
    const entry = await waitFor(async () => {
      const queue = await a.admin<Listing[]>('GET', '/v1/queue');
      return queue.find((e) => e.recipients.some((r) => r.address === 'carol@b.test' && r.state === 'deferred'));
    }, 10_000, 'carol deferred');
    expect(entry.recipients.find((r) => r.address === 'bob@b.test')!.state).toBe('done');
    expect(entry.recipients.find((r) => r.address === 'carol@b.test')!.lastError).toMatch(/452 4\.2\.2/);
    await b.admin('PUT', '/v1/users/carol@b.test/quota', { quota: 0 });
    await a.admin('POST', '/v1/queue/flush', { domain: 'b.test' });
    await waitFor(async () => (await stats(a)).queued === 0, 10_000, 'A queue drained');
    expect((await retrieve(b, 'carol@b.test')).length).toBe(carolBefore + 1);
    expect((await retrieve(b, 'bob@b.test')).filter((m) => m.includes('Subject: partial'))).toHaveLength(1);
  });

  it('refuses a forged envelope sender on submission with 553 5.7.1', async () => {
    const transport = submitter(a, 'alice@a.test');
    await expect(transport.sendMail({ from: 'someone@b.test', to: 'bob@b.test', subject: 'x', text: 'x' })).rejects.toThrow(/553 5\.7\.1/);
    transport.close();
  });

  it('holds, releases and deletes queue entries', async () => {
    await b.stop();
    const transport = submitter(a, 'alice@a.test');
    await transport.sendMail({ from: 'alice@a.test', to: 'bob@b.test', subject: 'held', text: 'x' });
    await transport.sendMail({ from: 'alice@a.test', to: 'bob@b.test', subject: 'deleted', text: 'x' });
    transport.close();
    const queue = await waitFor(async () => {
      const q = await a.admin<Listing[]>('GET', '/v1/queue');
      return q.length === 2 && q.every((e) => e.recipients[0].state === 'deferred') && q;
    }, 10_000, 'two deferred');
    const [held, deleted] = queue;
    await a.admin('POST', `/v1/queue/${held.id}/hold`);
    await a.admin('POST', `/v1/queue/${deleted.id}/delete`);
    await expect(a.admin('POST', '/v1/queue/NOSUCHID/hold')).rejects.toThrow(/404 unknown queue id/);
    b = await startB();
    await a.admin('POST', '/v1/queue/flush', {});
    await new Promise((r) => setTimeout(r, 1500));
    const stillHeld = await a.admin<Array<Listing & { held: boolean }>>('GET', '/v1/queue');
    expect(stillHeld.map((e) => [e.id, e.held])).toEqual([[held.id, true]]);
    await a.admin('POST', `/v1/queue/${held.id}/release`);
    await waitFor(async () => (await stats(a)).queued === 0, 10_000, 'released and delivered');
    const bobs = await retrieve(b, 'bob@b.test');
    expect(bobs.filter((m) => m.includes('Subject: held'))).toHaveLength(1);
    expect(bobs.filter((m) => m.includes('Subject: deleted'))).toHaveLength(0);
  });
});
