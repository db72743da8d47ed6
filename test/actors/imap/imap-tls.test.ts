// IMAP over TLS: STARTTLS on the plain port (advertised only with a certificate, and
// anything pipelined after it is dropped) and implicit TLS on the IMAPS port.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, run } from '../../support/clients.js';
import { provision, startTestServer, tempDir, type TestServer } from '../../support/server.js';
import { RawImap } from './imap-support.js';
import { freePorts } from '../../support/process.js';

let server: TestServer;

beforeAll(async () => {
  const dir = tempDir('ternmail-imap-tls-');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  const made = await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost']);
  expect(made.code, made.stderr).toBe(0);
  server = await startTestServer({ tls: { key, cert }, imapsPort: (await freePorts(1))[0] });
  await provision(server, 'tls.test', ['kim']);
});

afterAll(async () => server.destroy());

const CLIENT = `
import imaplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if sys.argv[2] == 'starttls':
    c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
    print('before', 'STARTTLS' in c.capabilities)
    c.starttls(ssl_context=ctx)
    print('after', 'STARTTLS' in c.capabilities)
else:
    c = imaplib.IMAP4_SSL('127.0.0.1', int(sys.argv[1]), ssl_context=ctx)
print('login', c.login('kim@tls.test', 'pw')[0])
print('select', c.select('INBOX')[0])
c.logout()
`;

describe('IMAP with TLS', () => {
  it('upgrades with STARTTLS and logs in', async () => {
    const { stdout, code, stderr } = await python(CLIENT, [String(server.ports.imap), 'starttls']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('before True');
    expect(stdout).toContain('after False');
    expect(stdout).toContain('login OK');
    expect(stdout).toContain('select OK');
  });

  it('speaks TLS from the first byte on the IMAPS port', async () => {
    const { stdout, code, stderr } = await python(CLIENT, [String(server.ports.imaps), 'implicit']);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('login OK');
  });

  it('drops commands pipelined after STARTTLS in plaintext', async () => {
    const raw = await RawImap.open(server);
    raw.line.send('s1 STARTTLS\r\ns2 LOGIN kim@tls.test pw\r\n');
    const answer = await raw.line.expect(/s1 OK [^\r]*\r\n/);
    expect(answer).not.toContain('s2');
    await new Promise((resolve) => setTimeout(resolve, 200));
    raw.close();
  });
});
