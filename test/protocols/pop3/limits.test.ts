// Bad input and resource limits over real sockets: over-long lines, binary
// garbage, half-close, idle timeout, a client that stops reading, connection
// limits, plaintext-auth policy, shutdown, and the per-session crash boundary.

import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.js';
import type { Maildrop } from '../../../src/protocols/pop3/backend.js';
import { Pop3Session, type Pop3SessionOptions } from '../../../src/protocols/pop3/session.js';
import { generatedMessage, MemoryBackend, storedMessage } from './memory-backend.js';
import { Pop3TestClient } from './pop3-client.js';
import { startServer, stopServers } from './server-fixture.js';

const openListeners: net.Server[] = [];

afterEach(async () => {
  await stopServers();
  for (const listener of openListeners.splice(0)) listener.close();
});

function backendWithMail(): MemoryBackend {
  const backend = new MemoryBackend();
  backend.addUser('alice', 'pw', [storedMessage('u1', 'Subject: a\r\n\r\nbody\r\n')]);
  return backend;
}

async function greeted(port: number): Promise<Pop3TestClient> {
  const client = await Pop3TestClient.connect(port);
  await client.readLine();
  return client;
}

/** A bare listener that runs Pop3Session directly, to choose the remote address it believes. */
async function startSessionListener(backend: MemoryBackend, options: Pop3SessionOptions): Promise<number> {
  const listener = net.createServer({ allowHalfOpen: true }, (socket) => {
    void new Pop3Session(socket, backend, silentLogger(), { authFailureDelayMs: 0, ...options }).run();
  });
  openListeners.push(listener);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  return (listener.address() as net.AddressInfo).port;
}

describe('bad input', () => {
  it('answers an over-long line with -ERR and keeps serving', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await greeted(port);
    client.write(`USER ${'a'.repeat(10_000)}\r\nNOOP\r\n`);
    expect(await client.readLine()).toBe('-ERR line too long');
    expect(await client.readLine()).toBe('-ERR NOOP is not valid before login');
    expect(await client.command('USER alice')).toBe('+OK send PASS');
  });

  it('counts the limit in octets including CRLF (default 512)', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await greeted(port);
    expect(await client.command(`USER ${'b'.repeat(512 - 7)}`)).toBe('+OK send PASS');
    expect(await client.command(`USER ${'b'.repeat(512 - 6)}`)).toBe('-ERR line too long');
  });

  it('discards a 20 MB line without a newline as it arrives', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await greeted(port);
    const megabyte = Buffer.alloc(1024 * 1024, 0x41);
    for (let i = 0; i < 20; i++) client.write(megabyte);
    expect(await client.readLine()).toBe('-ERR line too long');
    client.write('\r\nCAPA\r\n');
    expect(await client.readLine()).toBe('+OK capability list follows');
  });

  it('survives binary garbage and answers each garbage line with -ERR', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await greeted(port);
    client.write(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x80, 0x81, 0x00, 0x20, 0x0a, 0x16, 0x03, 0x01, 0x0d, 0x0a]));
    expect(await client.readLine()).toBe('-ERR unknown command');
    expect(await client.readLine()).toBe('-ERR unknown command');
    expect(await client.readLine()).toBe('-ERR unknown command');
    expect(await client.command('QUIT')).toBe('+OK ternmail POP3 server signing off');
  });

  it('answers pipelined commands after a client half-close, then releases without deleting', async () => {
    const { port, backend } = await startServer({}, backendWithMail());
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end('USER alice\r\nPASS pw\r\nSTAT\r\nDELE 1\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(received.split('\r\n')).toEqual([
      '+OK ternmail POP3 server ready', '+OK send PASS', '+OK maildrop has 1 messages (20 octets)', '+OK 1 20', '+OK message 1 deleted', '',
    ]);
    expect(backend.events).toEqual([{ kind: 'release', userId: 'id-alice' }]);
    expect(backend.messagesOf('alice')).toHaveLength(1);
  });
});

describe('timeouts and slow clients', () => {
  it('logs out an idle client without deleting anything', async () => {
    const { port, backend } = await startServer({ idleTimeoutMs: 200 }, backendWithMail());
    const client = await greeted(port);
    await client.command('USER alice');
    await client.command('PASS pw');
    await client.command('DELE 1');
    expect(await client.readLine()).toBe('-ERR autologout: idle for too long');
    await client.closed;
    expect(backend.events).toEqual([{ kind: 'release', userId: 'id-alice' }]);
  });

  it('logs out a client that does not log in within the login timeout', async () => {
    const { port } = await startServer({ loginTimeoutMs: 300 }, backendWithMail());
    const client = await greeted(port);
    expect(await client.readLine()).toBe('-ERR autologout: idle for too long');
    await client.closed;
  });

  it('counts the login timeout from the connection start, however the client trickles commands', async () => {
    const { port } = await startServer({ loginTimeoutMs: 400 }, backendWithMail());
    const client = await greeted(port);
    const ticker = setInterval(() => client.send('CAPA'), 100);
    try {
      for (;;) {
        const line = await client.readLine();
        if (line.startsWith('-ERR')) {
          expect(line).toBe('-ERR autologout: idle for too long');
          break;
        }
      }
      await client.closed;
    } finally {
      clearInterval(ticker);
    }
  });

  it('gives a logged-in client the longer idle timeout', async () => {
    const { port } = await startServer({ loginTimeoutMs: 300, idleTimeoutMs: 60_000 }, backendWithMail());
    const client = await greeted(port);
    await client.command('USER alice');
    await client.command('PASS pw');
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(await client.command('STAT')).toMatch(/^\+OK 1 /);
  });

  it('cuts off a client that never reads a big RETR instead of buffering it', async () => {
    const progress = { bytesRead: 0 };
    const backend = new MemoryBackend();
    const size = 256 * 1024 * 1024;
    backend.addUser('alice', 'pw', [generatedMessage('huge', size, progress)]);
    const { port, server } = await startServer({ maxWriteBufferBytes: 256 * 1024, writeStallTimeoutMs: 300 }, backend);
    const client = await greeted(port);
    await client.command('USER alice');
    await client.command('PASS pw');
    client.rawSocket.pause();
    client.send('RETR 1');
    await expect.poll(() => backend.events, { timeout: 10_000 }).toEqual([{ kind: 'release', userId: 'id-alice' }]);
    expect(server.sessionCount).toBe(0);
    // What was pulled from the store is what the kernel buffers took plus the 256 KiB bound.
    expect(progress.bytesRead).toBeLessThan(32 * 1024 * 1024);
    client.destroy();
  });
});

describe('connection limits', () => {
  it('refuses connections beyond the per-address limit with [SYS/TEMP]', async () => {
    const { port } = await startServer({ maxConnectionsPerIp: 2 }, backendWithMail());
    const first = await greeted(port);
    await greeted(port);
    const third = await Pop3TestClient.connect(port);
    expect(await third.readLine()).toBe('-ERR [SYS/TEMP] too many connections from your address');
    await third.closed;
    await first.command('QUIT');
    await first.closed;
    await expect.poll(async () => {
      const fourth = await Pop3TestClient.connect(port);
      const greeting = await fourth.readLine();
      fourth.destroy();
      return greeting;
    }).toBe('+OK ternmail POP3 server ready');
  });
});

describe('plaintext authentication policy', () => {
  it('refuses USER, PASS and AUTH PLAIN from a non-loopback address without TLS', async () => {
    const backend = backendWithMail();
    const port = await startSessionListener(backend, { remoteAddress: '192.0.2.7' });
    const client = await greeted(port);
    const capa = await client.multiline('CAPA');
    expect(capa.raw.toString()).not.toContain('USER');
    expect(capa.raw.toString()).not.toContain('SASL');
    expect(capa.raw.toString()).not.toContain('STLS');
    const refusal = '-ERR [AUTH] plaintext authentication is not allowed on an unencrypted connection, use STLS';
    expect(await client.command('USER alice')).toBe(refusal);
    expect(await client.command('PASS pw')).toBe(refusal);
    expect(await client.command(`AUTH PLAIN ${Buffer.from('\0alice\0pw').toString('base64')}`)).toBe(refusal);
    expect(backend.authCalls).toEqual([]);
  });

  it('allows plaintext when the operator says so', async () => {
    const backend = backendWithMail();
    const port = await startSessionListener(backend, { remoteAddress: '192.0.2.7', allowPlaintextAuth: true });
    const client = await greeted(port);
    expect((await client.multiline('CAPA')).raw.toString()).toContain('USER\r\nSASL PLAIN\r\n');
    await client.command('USER alice');
    expect(await client.command('PASS pw')).toMatch(/^\+OK/);
    expect(backend.authCalls).toEqual([{ user: 'alice', remoteAddress: '192.0.2.7' }]);
  });
});

describe('shutdown and failures', () => {
  it('close() tells open sessions the server is shutting down and releases their maildrops', async () => {
    const { port, server, backend } = await startServer({}, backendWithMail());
    const client = await greeted(port);
    await client.command('USER alice');
    await client.command('PASS pw');
    await client.command('DELE 1');
    await server.close();
    expect(await client.readLine()).toBe('-ERR [SYS/TEMP] server shutting down');
    await client.closed;
    expect(backend.events).toEqual([{ kind: 'release', userId: 'id-alice' }]);
    await expect(Pop3TestClient.connect(port)).rejects.toThrow();
  });

  it('an exception inside a session closes only that connection with [SYS/TEMP] internal error', async () => {
    const backend = backendWithMail();
    const realOpen = backend.openMaildrop.bind(backend);
    backend.openMaildrop = async (userId) => {
      const maildrop = await realOpen(userId);
      if (maildrop === 'in-use') return maildrop;
      return { ...maildrop, get messages(): Maildrop['messages'] { throw new TypeError('corrupt index'); } } as Maildrop;
    };
    const { port } = await startServer({}, backend);
    const client = await greeted(port);
    await client.command('USER alice');
    expect(await client.command('PASS pw')).toBe('-ERR [SYS/TEMP] internal error');
    await client.closed;
    expect(backend.events).toEqual([{ kind: 'release', userId: 'id-alice' }]);
    const next = await greeted(port);
    expect(await next.command('NOOP')).toBe('-ERR NOOP is not valid before login');
  });

  it('runs each session through the runSession hook and aborts it if the hook throws', async () => {
    const seen: string[] = [];
    const { port } = await startServer({
      runSession: async (session) => {
        seen.push(session.id);
        if (seen.length === 1) throw new Error('supervisor refused to start');
        await session.run();
      },
    }, backendWithMail());
    const refused = await Pop3TestClient.connect(port);
    expect(await refused.readLine()).toBe('-ERR [SYS/TEMP] internal error');
    await refused.closed;
    const served = await greeted(port);
    expect(await served.command('CAPA')).toBe('+OK capability list follows');
    expect(seen).toHaveLength(2);
  });
});
