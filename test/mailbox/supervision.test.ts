// Supervision: an exception inside one mailbox actor is logged, that actor is reset
// from disk, and the process and every other delivery and session carry on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { LineClient } from '../support/clients.js';
import { capturingLogger } from '../support/log-capture.js';
import { LONG_LIVED } from '../../src/core/actor.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({}, { testFaults: true });
  await provision(server, 'sup.test', ['victim', 'bystander']);
});

afterAll(async () => server.destroy());

describe('mailbox actor supervision', () => {
  it('restarts a crashed mailbox actor while other deliveries and sessions continue', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.smtp, pool: true, maxConnections: 4, ignoreTLS: true });
    const send = (to: string, i: number) => transport.sendMail({ envelope: { from: 'x@remote.test', to }, raw: `Subject: ${to} ${i}\r\n\r\nbody\r\n` });

    await Promise.all([send('victim@sup.test', 0), send('bystander@sup.test', 0)]);
    await waitForMessages(server, 2);

    const pop = await LineClient.connect(server.ports.pop3);
    await pop.expect(/^\+OK.*\r\n/);
    pop.send('USER bystander@sup.test\r\nPASS pw\r\nSTAT\r\n');
    await pop.expect(/\+OK.*\r\n\+OK.*\r\n\+OK 1 \d+\r\n/);

    await expect(server.admin('POST', '/v1/test/fault', { address: 'victim@sup.test' })).rejects.toThrow(/internal error/);

    const sends: Promise<unknown>[] = [];
    for (let i = 1; i <= 10; i++) sends.push(send('victim@sup.test', i), send('bystander@sup.test', i));
    await Promise.all(sends);
    await waitForMessages(server, 22);

    pop.send('STAT\r\nLIST 1\r\nQUIT\r\n');
    await pop.expect(/\+OK 1 \d+\r\n\+OK 1 \d+\r\n\+OK.*\r\n/);
    const after = await stats(server);
    expect(after.messages).toBe(22);
    expect(after.queued).toBe(0);
    transport.close();
  });

  it('starts a fresh mailbox actor once one has crashed past its restart limit', async () => {
    const { log, lines } = capturingLogger();
    const own = await startTestServer({}, { testFaults: true, log });
    await provision(own, 'limit.test', ['fragile']);
    for (let i = 0; i <= LONG_LIVED.intensity; i++) {
      await expect(own.admin('POST', '/v1/test/fault', { address: 'fragile@limit.test' })).rejects.toThrow(/internal error/);
    }
    expect(lines.some((l) => String(l.msg).startsWith(`actor crashed more than ${LONG_LIVED.intensity} times`) && String(l.what).startsWith('mailbox '))).toBe(true);

    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: own.ports.smtp, ignoreTLS: true });
    await transport.sendMail({ envelope: { from: 'x@remote.test', to: 'fragile@limit.test' }, raw: 'Subject: after\r\n\r\nbody\r\n' });
    await waitForMessages(own, 1);
    const pop = await LineClient.connect(own.ports.pop3);
    await pop.expect(/^\+OK.*\r\n/);
    pop.send('USER fragile@limit.test\r\nPASS pw\r\nSTAT\r\nQUIT\r\n');
    await pop.expect(/\+OK.*\r\n\+OK.*\r\n\+OK 1 \d+\r\n\+OK.*\r\n/);
    transport.close();
    await own.destroy();
  });

  it('refuses fault injection when the server was not started for tests', async () => {
    const plain = await startTestServer();
    await provision(plain, 'plain.test', ['u']);
    await expect(plain.admin('POST', '/v1/test/fault', { address: 'u@plain.test' })).rejects.toThrow(/disabled/);
    await plain.destroy();
  });
});
