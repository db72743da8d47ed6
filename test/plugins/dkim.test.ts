// DKIM signing of outbound mail: a key made with `ternmail dkim keygen`, mail from
// that domain sent through the outbound MTA to a second real ternmail, and the
// signature verified by mailauth against the record served by a real DNS server.
import { afterEach, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { provision, startTestServer, tempDir, waitForMessages, type TestServer } from '../support/server.js';
import { python, run } from '../support/clients.js';
import { startPluginServer } from './plugin-server.js';
import { sendFrom } from './smtp-client.js';
import { startDns, type TestDns } from './dns-server.js';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** The TXT record from keygen's output: `NAME. IN TXT "part" "part"`. */
function recordOf(output: string): { name: string; value: string } {
  const line = output.split('\n').find((l) => l.includes(' IN TXT '))!;
  const [name, rest] = line.split('. IN TXT ');
  return { name, value: [...rest.matchAll(/"([^"]*)"/g)].map((m) => m[1]).join('') };
}

async function fetchAll(server: TestServer, user: string, seq = 1): Promise<string> {
  const out = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login(sys.argv[2], 'pw')
c.select('INBOX')
typ, data = c.fetch(sys.argv[3], '(BODY.PEEK[])')
sys.stdout.buffer.write(data[0][1])
c.logout()
`, [String(server.ports.imap), user, String(seq)]);
  return out.stdout;
}

describe('DKIM signing (ternmail dkim keygen + ternmail/plugins/dkim-sign)', () => {
  it.each(['rsa', 'ed25519'])('signs outbound mail from the domain with its %s key; mailauth verifies it against the DNS record', async (algorithm) => {
    const data = tempDir();
    const keygen = await run('node', ['build/src/cli/main.js', 'dkim', 'keygen', 'example.test', '--selector', 'mail2026', '--algorithm', algorithm, '--data', data]);
    expect(keygen.stderr).toBe('');
    const record = recordOf(keygen.stdout);
    expect(record.name).toBe('mail2026._domainkey.example.test');
    expect(record.value).toMatch(new RegExp(`^v=DKIM1; k=${algorithm}; p=`));
    const dns = await startDns({ txt: { [record.name]: record.value } });
    cleanup.push(() => dns.stop());

    const receiver = await startTestServer();
    cleanup.push(() => receiver.destroy());
    await provision(receiver, 'remote.test', ['bob']);
    const sender = await startPluginServer([], { data });
    cleanup.push(() => sender.destroy());
    await provision(sender, 'example.test', ['alice']);
    await sender.admin('POST', '/v1/routes', { domain: 'remote.test', host: '127.0.0.1', port: receiver.ports.smtp });

    const message = 'From: Alice <alice@example.test>\r\nTo: bob@remote.test\r\nSubject: signed\r\n\r\nA body  with   spaces \r\n\r\n';
    const reply = await sendFrom(sender.ports.submission, 'bob@remote.test', { from: 'alice@example.test', auth: { user: 'alice@example.test', password: 'pw' }, message });
    expect(reply).toMatch(/^250 /);
    await waitForMessages(receiver, 1);
    const raw = await fetchAll(receiver, 'bob@remote.test');
    expect(raw).toMatch(/^DKIM-Signature: /m);
    const verdict = await verify(raw, dns);
    expect(verdict).toMatchObject({ signingDomain: 'example.test', selector: 'mail2026', algo: algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256', result: 'pass' });
    // Mail from a domain without a key leaves unsigned.
    await provision(sender, 'other.test', ['carol']);
    await sendFrom(sender.ports.submission, 'bob@remote.test', { from: 'carol@other.test', auth: { user: 'carol@other.test', password: 'pw' }, message: message.replace('alice@example.test', 'carol@other.test') });
    await waitForMessages(receiver, 2);
    expect(await fetchAll(receiver, 'bob@remote.test', 2)).not.toMatch(/^DKIM-Signature: /m);
  });
});

describe('DKIM signing with a key made while the server runs', () => {
  it('signs from the next message on, with no restart', async () => {
    const data = tempDir();
    const receiver = await startTestServer();
    cleanup.push(() => receiver.destroy());
    await provision(receiver, 'remote.test', ['bob']);
    const sender = await startPluginServer([], { data });
    cleanup.push(() => sender.destroy());
    await provision(sender, 'example.test', ['alice']);
    await sender.admin('POST', '/v1/routes', { domain: 'remote.test', host: '127.0.0.1', port: receiver.ports.smtp });
    const message = 'From: Alice <alice@example.test>\r\nTo: bob@remote.test\r\nSubject: live key\r\n\r\nbody\r\n';
    const send = () => sendFrom(sender.ports.submission, 'bob@remote.test', { from: 'alice@example.test', auth: { user: 'alice@example.test', password: 'pw' }, message });

    expect(await send()).toMatch(/^250 /);
    await waitForMessages(receiver, 1);
    expect(await fetchAll(receiver, 'bob@remote.test', 1)).not.toMatch(/^DKIM-Signature: /m);

    const keygen = await run('node', ['build/src/cli/main.js', 'dkim', 'keygen', 'example.test', '--selector', 'live', '--data', data]);
    expect(keygen.stderr).toBe('');
    const record = recordOf(keygen.stdout);
    const dns = await startDns({ txt: { [record.name]: record.value } });
    cleanup.push(() => dns.stop());
    expect(await send()).toMatch(/^250 /);
    await waitForMessages(receiver, 2);
    const raw = await fetchAll(receiver, 'bob@remote.test', 2);
    expect(await verify(raw, dns)).toMatchObject({ signingDomain: 'example.test', selector: 'live', result: 'pass' });
  });
});

async function verify(raw: string, dns: TestDns): Promise<{ signingDomain: string; selector: string; algo: string; result: string }> {
  const result = await dkimVerify(Buffer.from(raw, 'latin1'), { resolver: dns.resolver as never });
  const first = result.results[0] as { signingDomain: string; selector: string; algo: string; status: { result: string } };
  return { signingDomain: first.signingDomain, selector: first.selector, algo: first.algo, result: first.status.result };
}
