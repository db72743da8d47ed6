// The SMTP gates (connect, helo, mailFrom), beforeSend's headers on the wire, and the
// queued and bounce observers, with a plugin written as docs/plugins.md shows
// (fixtures/gates.mjs) and a second real server as the remote destination.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startTestServer, waitFor, waitForMessages, type TestServer } from '../support/server.js';
import { LineClient, python } from '../support/clients.js';
import { fixture, journal, startPluginServer } from './plugin-server.js';
import { sendFrom } from './smtp-client.js';

const seen = journal();
let server: TestServer;
let remote: TestServer;

beforeAll(async () => {
  remote = await startTestServer();
  await provision(remote, 'remote.test', ['bob']);
  server = await startPluginServer([{ module: fixture('gates.mjs'), options: { journal: seen.file } }]);
  await provision(server, 'example.test', ['alice']);
  await server.admin('POST', '/v1/routes', { domain: 'remote.test', host: '127.0.0.1', port: remote.ports.smtp });
});
afterAll(async () => {
  await server.destroy();
  await remote.destroy();
});

describe('SMTP gates and outbound hooks', () => {
  it('connect: a refusal is the greeting and the connection closes', async () => {
    const client = await LineClient.connect(server.ports.smtp, '127.0.0.1', '127.0.0.66');
    const greeting = await client.expect(/^\d{3} [^\r\n]*\r\n/);
    expect(greeting.trim()).toBe('554 5.7.1 Your network is not welcome');
    await waitFor(async () => client.closed, 5000, 'the connection to close');
    // Others are served.
    expect(await sendFrom(server.ports.smtp, 'alice@example.test', { client: '127.0.0.67' })).toMatch(/^250 /);
  });

  it('helo and mailFrom: refusals answer MAIL FROM', async () => {
    const client = await LineClient.connect(server.ports.smtp);
    await client.expect(/^220 [^\r\n]*\r\n/);
    client.send('EHLO bad.helo.test\r\n');
    await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
    client.send('MAIL FROM:<someone@remote.test>\r\n');
    expect((await client.expect(/^\d{3} [^\r\n]*\r\n/m)).trim()).toBe('550 5.7.1 Bad HELO');
    client.close();
    expect(await sendFrom(server.ports.smtp, 'alice@example.test', { from: 'spammer@remote.test' })).toBe('450 4.7.1 Come back later');
  });

  it('queued: observers see the queue id, envelope and size after the 250', async () => {
    const reply = await sendFrom(server.ports.smtp, 'alice@example.test', { from: 'carol@remote.test' });
    const queueId = /queued as (\S+)/.exec(reply)![1];
    const line = await waitFor(async () => seen.lines().find((l) => l.hook === 'queued' && l.queueId === queueId), 5000, 'queued');
    expect(line).toMatchObject({ from: 'carol@remote.test', recipients: ['alice@example.test'], client: '127.0.0.1' });
  });

  it('beforeSend: added headers are sent on top of the outbound message', async () => {
    const auth = { user: 'alice@example.test', password: 'pw' };
    expect(await sendFrom(server.ports.submission, 'bob@remote.test', { from: 'alice@example.test', auth })).toMatch(/^250 /);
    await waitForMessages(remote, 1);
    const out = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('bob@remote.test', 'pw')
c.select('INBOX')
typ, data = c.fetch('1', '(BODY.PEEK[HEADER])')
sys.stdout.buffer.write(data[0][1])
c.logout()
`, [String(remote.ports.imap)]);
    expect(out.stdout).toMatch(/^X-Outbound-Stamp: to remote\.test\r$/m);
  });

  it('bounce: observers see the DSN sent for a recipient the remote server refused', async () => {
    const auth = { user: 'alice@example.test', password: 'pw' };
    const reply = await sendFrom(server.ports.submission, 'nobody@remote.test', { from: 'alice@example.test', auth });
    const queueId = /queued as (\S+)/.exec(reply)![1];
    const line = await waitFor(async () => seen.lines().find((l) => l.hook === 'bounce' && l.queueId === queueId), 10_000, 'bounce');
    expect(line).toMatchObject({ to: 'alice@example.test', kind: 'failure' });
    expect((line.recipients as Array<{ address: string; diagnostic: string }>)[0]).toMatchObject({ address: 'nobody@remote.test' });
    expect((line.recipients as Array<{ diagnostic: string }>)[0].diagnostic).toMatch(/^550 /);
  });
});
