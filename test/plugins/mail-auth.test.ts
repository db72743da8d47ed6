// Inbound SPF, DKIM, DMARC and ARC (ternmail/plugins/mail-auth) against a real DNS
// server (dnsmasq on 127.0.0.1) serving the test domains' records: the result is in
// the stored message's Authentication-Results; DMARC p=reject refuses when configured.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { sealMessage } from 'mailauth';
import { provision, waitForMessages, type TestServer } from '../support/server.js';
import { python } from '../support/clients.js';
import { dkimRecord, generateDkimKey } from '../../src/plugins/dkim-keys.js';
import { startPluginServer } from './plugin-server.js';
import { sendFrom } from './smtp-client.js';
import { startDns, type TestDns } from './dns-server.js';

const signerKey = generateDkimKey('signer.test', 'sel', 'rsa');
const forwarderKey = generateDkimKey('forwarder.test', 'arc', 'rsa');
let dns: TestDns;
const servers: TestServer[] = [];

beforeAll(async () => {
  const dkim = dkimRecord(signerKey);
  const arc = dkimRecord(forwarderKey);
  dns = await startDns({
    txt: {
      [dkim.name]: dkim.value,
      [arc.name]: arc.value,
      'signer.test': 'v=spf1 ip4:127.0.0.1 -all',
      '_dmarc.signer.test': 'v=DMARC1; p=reject',
      'forged.test': 'v=spf1 ip4:192.0.2.1 -all',
      '_dmarc.forged.test': 'v=DMARC1; p=reject',
      'lenient.test': 'v=spf1 ip4:192.0.2.1 -all',
      '_dmarc.lenient.test': 'v=DMARC1; p=none',
    },
  });
});
afterAll(async () => {
  for (const server of servers) await server.destroy();
  dns.stop();
});

async function server(rejectDmarc: boolean): Promise<TestServer> {
  const started = await startPluginServer([{ module: 'ternmail/plugins/mail-auth', options: { rejectDmarc, dnsServers: [`127.0.0.1:${dns.port}`] } }]);
  servers.push(started);
  await provision(started, 'example.test', ['alice']);
  return started;
}

async function storedHeaders(s: TestServer, seq: number): Promise<string> {
  const out = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('alice@example.test', 'pw')
c.select('INBOX')
typ, data = c.fetch(sys.argv[2], '(BODY.PEEK[])')
sys.stdout.buffer.write(data[0][1])
c.logout()
`, [String(s.ports.imap), String(seq)]);
  return out.stdout.replace(/\r\n[ \t]+/g, ' ');
}

const plain = (from: string, subject: string) => `From: ${from}\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@x>\r\n\r\nhello\r\n`;

async function signed(message: string): Promise<string> {
  const key = { signingDomain: 'signer.test', selector: 'sel', privateKey: signerKey.privateKey };
  const { signatures, errors } = await dkimSign(Buffer.from(message), { ...key, signatureData: [{ ...key, algorithm: 'rsa-sha256', canonicalization: 'relaxed/relaxed' }] } as never);
  expect(errors).toEqual([]);
  return signatures + message;
}

describe('ternmail/plugins/mail-auth', () => {
  it('writes Authentication-Results with dkim, spf and dmarc pass for mail signed by and sent from its domain', async () => {
    const s = await server(true);
    const reply = await sendFrom(s.ports.smtp, 'alice@example.test', { from: 'news@signer.test', message: await signed(plain('news@signer.test', 'good')) });
    expect(reply).toMatch(/^250 /);
    await waitForMessages(s, 1);
    const headers = await storedHeaders(s, 1);
    expect(headers).toMatch(/^Authentication-Results: localhost; /m);
    expect(headers).toMatch(/dkim=pass [^;]*header\.i=@signer\.test header\.s=sel/);
    expect(headers).toMatch(/spf=pass [^;]*smtp\.mailfrom=(news@)?signer\.test/);
    expect(headers).toMatch(/dmarc=pass [^;]*header\.from=signer\.test/);
    expect(headers).toMatch(/^Received-SPF: pass /m);
  });

  it('refuses mail failing DMARC of a p=reject domain when rejectDmarc is on, and only marks it when off', async () => {
    const strict = await server(true);
    expect(await sendFrom(strict.ports.smtp, 'alice@example.test', { from: 'ceo@forged.test', message: plain('ceo@forged.test', 'forged') }))
      .toBe('550 5.7.1 Message refused: DMARC policy of forged.test is reject');
    // p=none is never refused.
    expect(await sendFrom(strict.ports.smtp, 'alice@example.test', { from: 'x@lenient.test', message: plain('x@lenient.test', 'lenient') })).toMatch(/^250 /);

    const marking = await server(false);
    expect(await sendFrom(marking.ports.smtp, 'alice@example.test', { from: 'ceo@forged.test', message: plain('ceo@forged.test', 'forged2') })).toMatch(/^250 /);
    await waitForMessages(marking, 1);
    const headers = await storedHeaders(marking, 1);
    expect(headers).toMatch(/spf=fail /);
    expect(headers).toMatch(/dmarc=fail [^;]*p=REJECT/i);
  });

  it('verifies an ARC chain sealed by a forwarder', async () => {
    const s = await server(false);
    const original = plain('x@lenient.test', 'forwarded');
    const seal = await sealMessage(Buffer.from(original), {
      signingDomain: 'forwarder.test', selector: 'arc', privateKey: forwarderKey.privateKey, algorithm: 'rsa-sha256',
      i: 1, cv: 'none', authResults: 'forwarder.test; spf=pass smtp.mailfrom=x@lenient.test', signTime: new Date(),
    } as never);
    expect(await sendFrom(s.ports.smtp, 'alice@example.test', { from: 'x@lenient.test', message: seal.toString() + original })).toMatch(/^250 /);
    await waitForMessages(s, 1);
    expect(await storedHeaders(s, 1)).toMatch(/; arc=pass \(i=1 spf=pass\);/);
  });
});
