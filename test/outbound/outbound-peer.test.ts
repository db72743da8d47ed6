// Outbound delivery against scripted SMTP peers (smtp-server), for what a real
// ternmail peer cannot show: connection counts per destination, connection reuse,
// a slow destination next to a fast one, a 421 in the middle of DATA, and a
// destination backed off as a whole after repeated connection failures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import nodemailer from 'nodemailer';
import { freePorts } from '../support/process.js';
import { provision, startTestServer, stats, waitFor, type TestServer } from '../support/server.js';

interface Peer {
  port: number;
  received: Array<{ rcpts: string[]; connection: string }>;
  maxConcurrent: number;
  stop(): Promise<void>;
}

async function startPeer(port: number, behaviour: { delayMs?: number; failDataOnce?: boolean } = {}): Promise<Peer> {
  let open = 0;
  let failNext = behaviour.failDataOnce ?? false;
  const peer: Peer = { port, received: [], maxConcurrent: 0, stop: async () => undefined };
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, disableReverseLookup: true,
    onConnect(_session, cb) {
      open += 1;
      peer.maxConcurrent = Math.max(peer.maxConcurrent, open);
      cb();
    },
    onClose() {
      open -= 1;
    },
    onData(stream, session, cb) {
      stream.resume();
      stream.on('end', () => setTimeout(() => {
        if (failNext) {
          failNext = false;
          const err = new Error('4.3.2 Service shutting down, closing transmission channel') as Error & { responseCode: number };
          err.responseCode = 421;
          return cb(err);
        }
        peer.received.push({ rcpts: session.envelope.rcptTo.map((r) => r.address), connection: session.id });
        cb();
      }, behaviour.delayMs ?? 0));
    },
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  peer.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return peer;
}

interface Listing { recipients: Array<{ address: string; state: string; nextAttempt: number; lastError: string | null }> }

let server: TestServer;
let ports: number[];

beforeAll(async () => {
  ports = await freePorts(4);
  server = await startTestServer({ outboundConcurrency: 2, messagesPerConnection: 5, retrySchedule: [60], domainBackoffAfter: 3 });
  await provision(server, 'out.test', ['sender']);
  for (const [i, domain] of ['busy.test', 'slow.test', 'fast.test', 'dead.test'].entries()) {
    await server.admin('POST', '/v1/routes', { domain, host: '127.0.0.1', port: ports[i] });
  }
});

afterAll(async () => server.destroy());

async function submit(to: string[], subject: string): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.submission, ignoreTLS: true, auth: { user: 'sender@out.test', pass: 'pw' } });
  await transport.sendMail({ from: 'sender@out.test', to, subject, text: 'x' });
  transport.close();
}

describe('outbound delivery against scripted peers', () => {
  it('uses at most outboundConcurrency connections per destination and reuses each for several messages', async () => {
    const peer = await startPeer(ports[0], { delayMs: 50 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => submit([`r${i}@busy.test`], `busy ${i}`)));
    await waitFor(async () => peer.received.length === 20, 20_000, '20 messages at the peer');
    expect(peer.maxConcurrent).toBeLessThanOrEqual(2);
    const perConnection = new Map<string, number>();
    for (const r of peer.received) perConnection.set(r.connection, (perConnection.get(r.connection) ?? 0) + 1);
    expect(Math.max(...perConnection.values())).toBeLessThanOrEqual(5);
    expect(Math.max(...perConnection.values())).toBeGreaterThan(1);
    await peer.stop();
  });

  it('sends one transaction per message and domain, with all that domain\'s recipients', async () => {
    const peer = await startPeer(ports[0]);
    await submit(['a@busy.test', 'b@busy.test', 'c@busy.test'], 'three');
    await waitFor(async () => peer.received.length === 1, 10_000, 'one transaction');
    expect(peer.received[0].rcpts.sort()).toEqual(['a@busy.test', 'b@busy.test', 'c@busy.test']);
    await peer.stop();
  });

  it('lets a fast destination through while a slow one holds its own slots', async () => {
    const slow = await startPeer(ports[1], { delayMs: 3000 });
    const fast = await startPeer(ports[2]);
    await Promise.all(Array.from({ length: 6 }, (_, i) => submit([`s${i}@slow.test`], `slow ${i}`)));
    const started = Date.now();
    await Promise.all(Array.from({ length: 6 }, (_, i) => submit([`f${i}@fast.test`], `fast ${i}`)));
    await waitFor(async () => fast.received.length === 6, 10_000, 'fast destination delivered');
    expect(Date.now() - started).toBeLessThan(2500);
    expect(slow.received.length).toBeLessThan(6);
    await waitFor(async () => slow.received.length === 6, 30_000, 'slow destination delivered');
    await slow.stop();
    await fast.stop();
  });

  it('defers a message answered 421 in the middle of DATA and delivers it on retry', async () => {
    const peer = await startPeer(ports[2], { failDataOnce: true });
    await submit(['late@fast.test'], 'interrupted');
    const entry = await waitFor(async () => (await server.admin<Listing[]>('GET', '/v1/queue'))
      .find((e) => e.recipients.some((r) => r.address === 'late@fast.test' && r.state === 'deferred')), 10_000, 'deferred');
    expect(entry.recipients[0].lastError).toMatch(/421/);
    await server.admin('POST', '/v1/queue/flush', { domain: 'fast.test' });
    await waitFor(async () => peer.received.some((r) => r.rcpts.includes('late@fast.test')), 10_000, 'delivered on retry');
    await peer.stop();
  });

  it('backs a dead destination off as a whole and retries all its mail together when it answers', async () => {
    for (let i = 0; i < 5; i++) await submit([`d${i}@dead.test`], `dead ${i}`);
    const backedOff = await waitFor(async () => {
      const entries = (await server.admin<Listing[]>('GET', '/v1/queue')).flatMap((e) => e.recipients).filter((r) => r.address.endsWith('@dead.test'));
      return entries.length === 5 && entries.every((r) => r.state === 'deferred') && entries.filter((r) => /backed off/.test(r.lastError ?? '')).length >= 2 && entries;
    }, 15_000, 'domain backed off');
    const times = new Set(backedOff.filter((r) => /backed off/.test(r.lastError ?? '')).map((r) => r.nextAttempt));
    expect(times.size).toBe(1);
    const peer = await startPeer(ports[3]);
    await server.admin('POST', '/v1/queue/flush', { domain: 'dead.test' });
    await waitFor(async () => peer.received.length === 5, 15_000, 'all five delivered');
    await waitFor(async () => (await stats(server)).queued === 0, 10_000, 'queue empty');
    await peer.stop();
  });
});
