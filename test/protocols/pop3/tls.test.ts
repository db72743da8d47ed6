// STLS (RFC 2595) on the plain listener and implicit TLS (POP3S), with a
// self-signed certificate made by openssl for the test.

import * as net from 'node:net';
import * as tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import { Pop3Session } from '../../../src/protocols/pop3/session.js';
import { MemoryBackend, storedMessage } from './memory-backend.js';
import { Pop3TestClient } from './pop3-client.js';
import { makeSelfSignedCertificate, startServer, stopServers, type SelfSignedCertificate } from './server-fixture.js';

let certificate: SelfSignedCertificate;
const openListeners: net.Server[] = [];

beforeAll(() => {
  certificate = makeSelfSignedCertificate();
});

afterEach(async () => {
  await stopServers();
  for (const listener of openListeners.splice(0)) listener.close();
});

function backendWithMail(): MemoryBackend {
  const backend = new MemoryBackend();
  backend.addUser('alice', 'pw', [storedMessage('u1', 'Subject: a\r\n\r\n.secret body\r\n')]);
  return backend;
}

/** A listener whose sessions believe the client is remote, so plaintext auth needs TLS. */
async function startRemoteLookingListener(backend: MemoryBackend): Promise<number> {
  const secureContext = tls.createSecureContext({ key: certificate.key, cert: certificate.cert });
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
    const session = new Pop3Session(socket, backend, silentLogger(), { remoteAddress: '198.51.100.4', stls: { secureContext }, authFailureDelayMs: 0 });
    void session.run();
  });
  openListeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as net.AddressInfo).port;
}

describe('STLS', () => {
  it('is offered in CAPA, upgrades the connection, and then allows USER/PASS', async () => {
    const backend = backendWithMail();
    const port = await startRemoteLookingListener(backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    const before = (await client.multiline('CAPA')).raw.toString();
    expect(before).toContain('STLS\r\n');
    expect(before).not.toContain('USER');
    expect(await client.command('STLS')).toBe('+OK begin TLS negotiation');
    await client.startTls(certificate.cert);
    const after = (await client.multiline('CAPA')).raw.toString();
    expect(after).not.toContain('STLS');
    expect(after).toContain('USER\r\nSASL PLAIN\r\n');
    expect(await client.command('STLS')).toBe('-ERR already using TLS');
    await client.command('USER alice');
    expect(await client.command('PASS pw')).toMatch(/^\+OK maildrop has 1 messages/);
    expect((await client.multiline('RETR 1')).raw.toString()).toBe('Subject: a\r\n\r\n..secret body\r\n.\r\n');
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
    await client.closed;
  });

  it('discards commands pipelined after STLS in the clear', async () => {
    const port = await startRemoteLookingListener(backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    client.write('STLS\r\nUSER injected\r\n');
    expect(await client.readLine()).toBe('+OK begin TLS negotiation');
    await client.startTls(certificate.cert);
    expect(await client.command('NOOP')).toBe('-ERR NOOP is not valid before login');
  });

  it('never runs a login sent in the clear in a later packet after STLS', async () => {
    const port = await startRemoteLookingListener(backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    // Whether the injected packet is still queued when STLS runs or reaches the TLS layer
    // (then the handshake fails), it must never be run as a command inside TLS.
    client.write(`${'XYZZY\r\n'.repeat(500)}STLS\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.write('USER alice\r\nPASS pw\r\n');
    for (;;) {
      const line = await client.readLine();
      if (line.startsWith('+OK')) {
        expect(line).toBe('+OK begin TLS negotiation');
        break;
      }
    }
    try {
      await client.startTls(certificate.cert);
    } catch {
      return; // the injected bytes broke the handshake: they were not run either
    }
    expect(await client.command('NOOP')).toBe('-ERR NOOP is not valid before login');
  });

  it('closes the connection when the TLS handshake fails', async () => {
    const backend = backendWithMail();
    const port = await startRemoteLookingListener(backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    expect(await client.command('STLS')).toBe('+OK begin TLS negotiation');
    client.write('this is not a TLS ClientHello\r\n');
    await client.closed;
  });

  it('is answered with -ERR when the server has no certificate', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    expect((await client.multiline('CAPA')).raw.toString()).not.toContain('STLS');
    expect(await client.command('STLS')).toBe('-ERR STLS not available');
  });

  it('works through createPop3Server with a tls option', async () => {
    const { port } = await startServer({ tls: { key: certificate.key, cert: certificate.cert } }, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    expect((await client.multiline('CAPA')).raw.toString()).toContain('STLS\r\n');
    expect(await client.command('STLS')).toBe('+OK begin TLS negotiation');
    await client.startTls(certificate.cert);
    await client.command('USER alice');
    expect(await client.command('PASS pw')).toMatch(/^\+OK/);
  });
});

describe('implicit TLS (POP3S)', () => {
  it('speaks POP3 inside TLS from the first byte and does not offer STLS', async () => {
    const { port } = await startServer({ implicitTls: true, tls: { key: certificate.key, cert: certificate.cert } }, backendWithMail());
    const client = await Pop3TestClient.connectTls(port, certificate.cert);
    expect(await client.readLine()).toBe('+OK ternmail POP3 server ready');
    const capa = (await client.multiline('CAPA')).raw.toString();
    expect(capa).not.toContain('STLS');
    expect(capa).toContain('USER');
    await client.command('USER alice');
    expect(await client.command('PASS pw')).toMatch(/^\+OK/);
    expect(await client.command('QUIT')).toMatch(/^\+OK/);
  });

  it('needs a certificate', async () => {
    await expect(startServer({ implicitTls: true })).rejects.toThrow(/implicitTls needs options.tls/);
  });
});
