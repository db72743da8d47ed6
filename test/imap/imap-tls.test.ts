// IMAP over TLS: STARTTLS on the plain port (advertised only with a certificate, and
// anything sent in the clear after it, in the same packet or a later one, is dropped)
// and implicit TLS on the IMAPS port.
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python, run } from '../support/clients.js';
import { provision, startTestServer, tempDir, type TestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';
import { freePorts } from '../support/process.js';

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

  it('never runs plaintext sent after STARTTLS inside the TLS session (separate packet)', async () => {
    // Many NOOPs first keep the session busy, so the injected packet is queued before STARTTLS runs.
    const answers = await injectAfterStartTls(async (socket) => {
      socket.write(`${'n NOOP\r\n'.repeat(20_000)}a STARTTLS\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.write('b NOOP\r\nc LOGOUT\r\n');
    });
    expect(answers).not.toMatch(/(^|\n)[bc] /);
    expect(answers).not.toContain('BYE');
    expect(answers).toMatch(/d OK/);
  });

  it('never runs plaintext sent after STARTTLS inside the TLS session (same packet)', async () => {
    const answers = await injectAfterStartTls(async (socket) => {
      socket.write('a STARTTLS\r\nb NOOP\r\nc LOGOUT\r\n');
    });
    expect(answers).not.toMatch(/(^|\n)[bc] /);
    expect(answers).toMatch(/d OK/);
  });
});

/** Sends STARTTLS (and whatever `inject` adds in the clear), completes TLS, runs `d NOOP`: what came over TLS. */
async function injectAfterStartTls(inject: (socket: net.Socket) => Promise<void>): Promise<string> {
  const socket = net.connect(server.ports.imap, '127.0.0.1');
  let plain = '';
  const onPlain = (chunk: Buffer): void => {
    plain += chunk.toString('latin1');
  };
  socket.on('data', onPlain);
  await waitUntil(() => plain.includes('\r\n'));
  await inject(socket);
  await waitUntil(() => /(^|\n)a OK/.test(plain));
  socket.off('data', onPlain);
  const secure = tls.connect({ socket, rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', reject);
    secure.once('close', () => reject(new Error('closed during the TLS handshake')));
  });
  let answers = '';
  secure.on('data', (chunk: Buffer) => (answers += chunk.toString('latin1')));
  await new Promise((resolve) => setTimeout(resolve, 200));
  secure.write('d NOOP\r\n');
  await waitUntil(() => /(^|\n)d (OK|NO|BAD)/.test(answers) || secure.destroyed);
  secure.destroy();
  return answers;
}

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
