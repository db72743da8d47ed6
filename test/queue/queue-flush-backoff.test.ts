// An operator's `queue flush` or `queue retry` is an extra try, not a failed attempt:
// against a destination that answers 4xx, the next automatic try must stay at the
// backoff step the recipient had (Postfix: flush does not penalize), however often one flushes.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { provision, startTestServer, waitFor, type TestServer } from '../support/server.js';

interface Listing { id: string; recipients: Array<{ address: string; state: string; attempts: number; nextAttempt: number; lastError: string | null }> }

/** A destination MX that accepts connections and answers 451 to every recipient. */
function busyMx(): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write('220 busy.test ESMTP\r\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const verb = buffer.slice(0, 4).toUpperCase();
        buffer = buffer.slice(end + 2);
        if (verb === 'EHLO' || verb === 'HELO') socket.write('250 busy.test\r\n');
        else if (verb === 'RCPT') socket.write('451 4.7.1 try again later\r\n');
        else if (verb === 'QUIT') socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A loopback port nobody listens on (connections are refused). */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

let server: TestServer;
let mx: net.Server;

beforeAll(async () => {
  mx = await busyMx();
  server = await startTestServer({ hostname: 'mx.a.test', retrySchedule: [60, 3600], delayWarning: 0, domainBackoffAfter: 1 });
  await provision(server, 'a.test', ['alice']);
  await server.admin('POST', '/v1/routes', { domain: 'busy.test', host: '127.0.0.1', port: (mx.address() as net.AddressInfo).port });
  await server.admin('POST', '/v1/routes', { domain: 'down.test', host: '127.0.0.1', port: await closedPort() });
});

afterAll(async () => {
  await server.destroy();
  mx.close();
});

async function recipientAfter(attempts: number, domain = 'busy.test') {
  return waitFor(async () => {
    const entry = (await server.admin<Listing[]>('GET', '/v1/queue')).find((e) => e.recipients[0].address.endsWith(`@${domain}`));
    const rcpt = entry?.recipients[0];
    return rcpt && rcpt.state === 'deferred' && rcpt.attempts >= attempts ? { id: entry.id, ...rcpt } : undefined;
  }, 10_000, `attempt ${attempts} deferred`);
}

describe('queue flush and queue retry', () => {
  it('keep the next automatic try at the backoff step the recipient had', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.submission, ignoreTLS: true, auth: { user: 'alice@a.test', pass: 'pw' } });
    await transport.sendMail({ from: 'alice@a.test', to: 'bob@busy.test', subject: 'later', text: 'x' });
    transport.close();
    const first = await recipientAfter(1);
    expect(first.lastError).toMatch(/451/);
    expect(first.nextAttempt - Date.now()).toBeLessThanOrEqual(60_000);
    for (let attempt = 2; attempt <= 4; attempt++) {
      await server.admin('POST', '/v1/queue/flush', attempt === 3 ? { domain: 'busy.test' } : {});
      const rcpt = await recipientAfter(attempt);
      // Still the first step (60 s), not the second (an hour).
      expect(rcpt.nextAttempt - Date.now()).toBeLessThanOrEqual(61_000);
      expect(rcpt.nextAttempt - Date.now()).toBeGreaterThan(30_000);
    }
    await server.admin('POST', `/v1/queue/${first.id}/retry`);
    const retried = await recipientAfter(5);
    expect(retried.nextAttempt - Date.now()).toBeLessThanOrEqual(61_000);
  });

  it('keep a destination that refuses connections at the domain backoff step it had', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.submission, ignoreTLS: true, auth: { user: 'alice@a.test', pass: 'pw' } });
    await transport.sendMail({ from: 'alice@a.test', to: 'carl@down.test', subject: 'down', text: 'x' });
    transport.close();
    const first = await recipientAfter(1, 'down.test');
    expect(first.lastError).toMatch(/ECONNREFUSED|connect/i);
    for (let attempt = 2; attempt <= 4; attempt++) {
      await server.admin('POST', '/v1/queue/flush', { domain: 'down.test' });
      const rcpt = await recipientAfter(attempt, 'down.test');
      expect(rcpt.nextAttempt - Date.now()).toBeLessThanOrEqual(61_000);
    }
  });
});
