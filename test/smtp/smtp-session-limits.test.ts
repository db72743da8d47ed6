// SMTP session limits: a client dripping its message a byte at a time (each byte
// resets the idle timer) is cut off at the overall DATA deadline with 421 4.4.2,
// nothing of the message is kept, and other sessions are served meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { greetedClient, messageOfSize, transaction } from '../support/smtp-transcript.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ smtpDataTimeout: 1 });
  await provision(server, 'limits.test', ['bea']);
});

afterAll(async () => server.destroy());

describe('SMTP DATA deadline', () => {
  it('closes a slow-drip DATA with 421 4.4.2 and keeps nothing of it', async () => {
    const slow = await greetedClient(server.ports.smtp);
    slow.send('MAIL FROM:<x@remote.test>\r\nRCPT TO:<bea@limits.test>\r\nDATA\r\n');
    await slow.expect(/^354 [^\r\n]*\r\n/m);
    slow.send('Subject: drip\r\n\r\n');
    const drip = setInterval(() => slow.send('x'), 200);
    try {
      const reply = await slow.expect(/^421 [^\r\n]*\r\n/m, 10_000);
      expect(reply).toMatch(/421 4\.4\.2 Timeout during DATA/);
      await slow.waitClosed();
    } finally {
      clearInterval(drip);
    }

    const other = await greetedClient(server.ports.smtp);
    const replies = await transaction(other, 'x@remote.test', 'bea@limits.test', messageOfSize(500, 'quick'));
    expect(replies.end).toMatch(/^250 /);
    other.close();
    await waitForMessages(server, 1);
    expect((await stats(server)).messages).toBe(1);
  });

  it('lets a whole message sent within the deadline through', async () => {
    const client = await greetedClient(server.ports.smtp);
    const replies = await transaction(client, 'x@remote.test', 'bea@limits.test', messageOfSize(300 * 1024, 'big but quick'));
    expect(replies.end).toMatch(/^250 /);
    client.close();
  });
});
