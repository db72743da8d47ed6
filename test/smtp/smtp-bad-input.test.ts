// Bad input on the SMTP listeners: each gets a protocol-correct error or a closed
// connection; nothing crashes, and nothing partial is ever stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LineClient } from '../support/clients.js';
import { provision, startTestServer, stats, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ maxLineLength: 1000, maxConnectionsPerIp: 5, maxAuthFailuresPerIp: 3 });
  await provision(server, 'bad.test', ['hal']);
});

afterAll(async () => server.destroy());

async function greeted(port = server.ports.smtp): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.expect(/^220 .*\r\n/);
  client.send('EHLO bad.test\r\n');
  await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
  return client;
}

describe('SMTP bad input', () => {
  it('answers an over-long command line with 421 and closes the connection', async () => {
    const client = await greeted();
    client.send('MAIL FROM:<' + 'a'.repeat(5000) + '@x.test>\r\n');
    await client.expect(/^421 [^\r\n]*too long[^\r\n]*\r\n/m);
    await client.waitClosed();
    const next = await greeted();
    next.close();
  });

  it('answers binary garbage with errors and stays up', async () => {
    const client = await greeted();
    client.send(Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 13, 10]));
    await client.expect(/^5\d\d [^\r\n]*\r\n/m);
    client.send('NOOP\r\n');
    await client.expect(/250 [^\r\n]*\r\n/);
    client.close();
  });

  it('refuses commands out of sequence with 503', async () => {
    const client = await greeted();
    client.send('RCPT TO:<hal@bad.test>\r\n');
    await client.expect(/^503 [^\r\n]*\r\n/m);
    client.send('DATA\r\n');
    await client.expect(/^503 [^\r\n]*\r\n/m);
    client.close();
  });

  it('refuses malformed addresses', async () => {
    const client = await greeted();
    client.send('MAIL FROM:<not an address>\r\n');
    await client.expect(/^501 [^\r\n]*\r\n/m);
    client.send('MAIL FROM:<ok@remote.test>\r\nRCPT TO:<@@bad.test>\r\n');
    await client.expect(/250 [^\r\n]*\r\n5\d\d [^\r\n]*\r\n/);
    client.close();
  });

  it('stores nothing from a connection that drops in the middle of DATA', async () => {
    const before = await stats(server);
    const client = await greeted();
    client.send('MAIL FROM:<a@remote.test>\r\nRCPT TO:<hal@bad.test>\r\nDATA\r\n');
    await client.expect(/354 [^\r\n]*\r\n/);
    client.send('Subject: cut\r\n\r\n' + 'partial line\r\n'.repeat(30000));
    client.socket.end();
    await client.waitClosed();
    await new Promise((r) => setTimeout(r, 300));
    const after = await stats(server);
    expect(after.messages).toBe(before.messages);
    expect(after.queued).toBe(before.queued);
    expect(after.blobs).toBe(before.blobs);
  });

  it('limits connections per client address', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => greeted()));
    const extra = await LineClient.connect(server.ports.smtp);
    await extra.expect(/^421 [^\r\n]*\r\n/);
    for (const c of clients) c.close();
    extra.close();
    await new Promise((r) => setTimeout(r, 200));
    const again = await greeted();
    again.close();
  });

  it('limits failed authentications per client address', async () => {
    const client = await greeted(server.ports.submission);
    const plain = (pw: string) => Buffer.from(`\0hal@bad.test\0${pw}`).toString('base64');
    for (let i = 0; i < 3; i++) {
      client.send(`AUTH PLAIN ${plain('wrong')}\r\n`);
      await client.expect(/^535 [^\r\n]*\r\n/m);
    }
    client.send(`AUTH PLAIN ${plain('pw')}\r\n`);
    await client.expect(/^421 [^\r\n]*\r\n/m);
    client.close();
  });
});
