// SRS (ternmail/plugins/srs): mail an alias forwards to another domain leaves with an
// SRS0 envelope sender of ours, and a bounce to that address is accepted and routed
// back to the original sender; a forged SRS address is refused. Two real servers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, waitFor, waitForMessages, type TestServer } from '../support/server.js';
import { LineClient } from '../support/clients.js';
import { transaction } from '../support/smtp-transcript.js';
import { fixture, journal, startPluginServer } from './plugin-server.js';
import { sendFrom } from './smtp-client.js';

const secret = 'a secret of sixteen or more';
const envelopes = journal();
let forwarder: TestServer;
let remote: TestServer;

beforeAll(async () => {
  remote = await startPluginServer([{ module: fixture('envelope-journal.mjs'), options: { journal: envelopes.file } }]);
  await provision(remote, 'remote.test', ['bob']);
  await provision(remote, 'sender.test', ['alice']);
  forwarder = await startPluginServer([{ module: 'ternmail/plugins/srs', options: { secret, domain: 'example.test' } }]);
  await forwarder.admin('POST', '/v1/domains', { name: 'example.test' });
  await forwarder.admin('POST', '/v1/aliases', { address: 'fwd@example.test', targets: ['bob@remote.test'] });
  for (const domain of ['remote.test', 'sender.test']) await forwarder.admin('POST', '/v1/routes', { domain, host: '127.0.0.1', port: remote.ports.smtp });
});
afterAll(async () => {
  await forwarder.destroy();
  await remote.destroy();
});

async function bounceTo(rcpt: string): Promise<string> {
  const client = await LineClient.connect(forwarder.ports.smtp);
  try {
    await client.expect(/^220 [^\r\n]*\r\n/);
    client.send('EHLO mx.remote.test\r\n');
    await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
    const replies = await transaction(client, '', rcpt, 'From: MAILER-DAEMON@remote.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nbob is gone\r\n');
    return replies.end || replies.rcptTo;
  } finally {
    client.close();
  }
}

describe('ternmail/plugins/srs', () => {
  let srsAddress = '';

  it('rewrites the envelope sender of mail forwarded to another domain to an SRS0 address of ours', async () => {
    expect(await sendFrom(forwarder.ports.smtp, 'fwd@example.test', { from: 'alice@sender.test' })).toMatch(/^250 /);
    const seen = await waitFor(async () => envelopes.lines().find((l) => (l.recipients as string[]).includes('bob@remote.test')), 10_000, 'the forwarded message');
    expect(seen.from).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=sender\.test=alice@example\.test$/);
    srsAddress = seen.from as string;
  });

  it('accepts a bounce to the SRS address and routes it back to the original sender', async () => {
    expect(await bounceTo(srsAddress)).toMatch(/^250 /);
    await waitFor(async () => envelopes.lines().some((l) => l.from === '' && (l.recipients as string[]).includes('alice@sender.test')), 10_000, 'the bounce at the original sender');
    await waitForMessages(remote, 2);
  });

  it('refuses an SRS address with a wrong hash (550), as any unknown recipient', async () => {
    const forged = srsAddress.replace(/^SRS0=[^=]{4}=/, 'SRS0=abcd=');
    expect(await bounceTo(forged)).toMatch(/^550 5\.1\.1 /);
  });
});
