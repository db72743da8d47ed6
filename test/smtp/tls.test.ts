// TLS when the operator configures a certificate: STARTTLS on SMTP, implicit-TLS
// SMTPS and POP3S listeners, and opportunistic STARTTLS on outbound delivery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, run } from '../support/clients.js';
import { freePorts } from '../support/process.js';
import { selfSignedCertificate } from '../support/certificates.js';
import { provision, startTestServer, waitForMessages, type TestServer } from '../support/server.js';
import { OLD_TLS, probeTls, TLS12, type TlsEntry } from '../support/tls-probe.js';

let secure: TestServer;
let sender: TestServer;

beforeAll(async () => {
  const tls = selfSignedCertificate();
  const [smtpsPort, pop3sPort, imapsPort] = await freePorts(3);
  secure = await startTestServer({ tls, smtpsPort, pop3sPort, imapsPort, hostname: 'secure.test' });
  await provision(secure, 'tls.test', ['tess']);
  sender = await startTestServer({ hostname: 'sender.test' });
  await provision(sender, 'plain.test', ['pat']);
  await sender.admin('POST', '/v1/routes', { domain: 'tls.test', host: '127.0.0.1', port: secure.ports.smtp });
});

afterAll(async () => {
  await secure.destroy();
  await sender.destroy();
});

describe('TLS', () => {
  it('offers STARTTLS and accepts AUTH and mail over it (swaks)', async () => {
    const result = await run('swaks', ['--server', '127.0.0.1', '--port', String(secure.ports.submission), '--tls',
      '--auth', 'PLAIN', '--auth-user', 'tess@tls.test', '--auth-password', 'pw', '--from', 'tess@tls.test', '--to', 'tess@tls.test',
      '--header', 'Subject: over starttls']);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toMatch(/<- {2}220 .*TLS/i);
    expect(result.stdout).toMatch(/<~ {2}235 /);
    await waitForMessages(secure, 1);
  });

  it('serves implicit TLS on the SMTPS and POP3S ports', async () => {
    const result = await run('swaks', ['--server', '127.0.0.1', '--port', String(secure.ports.smtps), '--tlsc',
      '--auth', 'PLAIN', '--auth-user', 'tess@tls.test', '--auth-password', 'pw', '--from', 'tess@tls.test', '--to', 'tess@tls.test',
      '--header', 'Subject: over smtps']);
    expect(result.code, result.stdout).toBe(0);
    await waitForMessages(secure, 2);
    const pop = await python(`
import poplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL('127.0.0.1', int(sys.argv[1]), context=ctx)
p.user('tess@tls.test'); p.pass_('pw')
print([l for i in range(p.stat()[0]) for l in p.retr(i + 1)[1] if l.startswith(b'Subject') or b'with ESMTP' in l])
p.quit()
`, [String(secure.ports.pop3s)]);
    expect(pop.stdout).toContain("b'Subject: over smtps'");
    expect(pop.stdout).toMatch(/with ESMTPSA/);
  });

  it('uses STARTTLS opportunistically when delivering to a server that offers it', async () => {
    const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); s.login('pat@plain.test', 'pw')
s.sendmail('pat@plain.test', ['tess@tls.test'], b'Subject: relayed\\r\\n\\r\\nover tls\\r\\n'); s.quit()
`, [String(sender.ports.submission)]);
    expect(code, stderr).toBe(0);
    await waitForMessages(secure, 3);
    const pop = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.stls()
p.user('tess@tls.test'); p.pass_('pw')
print(b'\\n'.join(p.retr(p.stat()[0])[1]).decode())
p.quit()
`, [String(secure.ports.pop3)]);
    expect(pop.stdout).toMatch(/Received: from sender\.test .*\n\tby secure\.test \(ternmail\) with ESMTPS id/);
  });

  const entries: Array<[string, () => number, TlsEntry]> = [
    ['SMTP STARTTLS', () => secure.ports.smtp, 'smtp-starttls'],
    ['submission STARTTLS', () => secure.ports.submission, 'smtp-starttls'],
    ['SMTPS', () => secure.ports.smtps!, 'implicit'],
    ['IMAP STARTTLS', () => secure.ports.imap, 'imap-starttls'],
    ['IMAPS', () => secure.ports.imaps!, 'implicit'],
    ['POP3 STLS', () => secure.ports.pop3, 'pop3-stls'],
    ['POP3S', () => secure.ports.pop3s!, 'implicit'],
  ];
  it.each(entries)('%s refuses TLS 1.0/1.1 on version grounds and accepts TLS 1.2', async (_name, port, entry) => {
    const old = await probeTls(port(), entry, OLD_TLS);
    expect(old.ok).toBe(false);
    // The version floor answers with a protocol-version alert (70), not a cipher or security-level failure.
    expect(old.error).toMatch(/alert protocol version|unsupported protocol/i);
    const current = await probeTls(port(), entry, TLS12);
    expect(current).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
  });
});
