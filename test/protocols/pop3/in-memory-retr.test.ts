// RETR and TOP of messages the backend holds in memory (Maildrop.readNow): the
// session answers them without the streaming path, byte for byte as a streamed
// message, still bounded by the write buffer for slow readers. Also the idle
// timer, which is armed once and re-armed rather than set for every command.

import { afterEach, describe, expect, it } from 'vitest';
import { countSends } from '../../support/socket-sends.js';
import { chunkedMessage, generatedMessage, MemoryBackend, storedMessage, type StoredMessage } from './memory-backend.js';
import { expectedRetrBody, Pop3TestClient } from './pop3-client.js';
import { startServer, stopServers } from './server-fixture.js';

afterEach(stopServers);

const plain = (raw: Buffer): string => raw.toString('latin1');


async function loggedIn(port: number): Promise<Pop3TestClient> {
  const client = await Pop3TestClient.connect(port);
  await client.readLine();
  expect(await client.command('USER alice')).toMatch(/^\+OK/);
  expect(await client.command('PASS pw')).toMatch(/^\+OK/);
  return client;
}

function inMemoryBackend(...messages: StoredMessage[]): MemoryBackend {
  const backend = new MemoryBackend();
  backend.serveFromMemory = true;
  backend.addUser('alice', 'pw', messages);
  return backend;
}

describe('RETR and TOP from memory', () => {
  const cases: Array<[string, string[]]> = [
    ['lines starting with "." and ".."', ['Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n..double\r\nend\r\n']],
    ['a message that starts with "."', ['.first line\r\n\r\nbody\r\n']],
    ['dots inside lines and after a bare LF', ['From: a.b@example.net\r\n\r\nend. of.\r\nv1.2\n.after bare lf\n']],
    ['a message without a final CRLF', ['Subject: x\r\n\r\nno newline at end']],
    ['a message ending in a lone "."', ['Subject: x\r\n\r\nbody\r\n.']],
    ['an empty message', []],
  ];

  it.each(cases)('RETR sends %s byte for byte without streaming it', async (_name, chunks) => {
    const backend = inMemoryBackend(chunkedMessage('u1', chunks));
    const { port } = await startServer({}, backend);
    const client = await loggedIn(port);
    const content = chunks.join('');
    const retr = await client.multiline('RETR 1');
    expect(retr.status).toBe(`+OK ${Buffer.byteLength(content, 'latin1')} octets`);
    expect(plain(retr.raw)).toBe(expectedRetrBody(content));
    expect(backend.readNowCalls).toBe(1);
    expect(backend.readCalls).toBe(0);
  });

  it('TOP cuts a message held in memory after the headers and n body lines, dot-stuffed', async () => {
    const message = 'Subject: t\r\nX-A: 1\r\n\r\n.one\r\ntwo\r\nthree\r\n';
    const backend = inMemoryBackend(storedMessage('u1', message));
    const { port } = await startServer({}, backend);
    const client = await loggedIn(port);
    expect(plain((await client.multiline('TOP 1 0')).raw)).toBe('Subject: t\r\nX-A: 1\r\n\r\n.\r\n');
    expect(plain((await client.multiline('TOP 1 2')).raw)).toBe('Subject: t\r\nX-A: 1\r\n\r\n..one\r\ntwo\r\n.\r\n');
    expect(plain((await client.multiline('TOP 1 100')).raw)).toBe(expectedRetrBody(message));
    expect(backend.readCalls).toBe(0);
  });

  it('streams a message the backend does not hold in memory', async () => {
    const progress = { bytesRead: 0 };
    const backend = inMemoryBackend(generatedMessage('big', 300_000, progress));
    const { port } = await startServer({}, backend);
    const client = await loggedIn(port);
    const retr = await client.multiline('RETR 1');
    expect(retr.status).toBe('+OK 300000 octets');
    expect(progress.bytesRead).toBe(300_000);
    expect(backend.readCalls).toBe(1);
  });

  it('sends a 5 MiB message from memory exactly to a client that pauses, then answers the next pipelined command', async () => {
    const lines: string[] = [];
    let length = 0;
    for (let i = 0; length < 5 * 1024 * 1024; i++) {
      const line = i % 7 === 0 ? `.dot ${i}\r\n` : `line ${i} ${'x'.repeat(60)}\r\n`;
      lines.push(line);
      length += line.length;
    }
    const content = lines.join('');
    const backend = inMemoryBackend(storedMessage('big', content));
    const { port } = await startServer({ maxWriteBufferBytes: 64 * 1024 }, backend);
    const client = await loggedIn(port);
    client.rawSocket.pause();
    client.write('RETR 1\r\nSTAT\r\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.rawSocket.resume();
    expect(await client.readLine()).toBe(`+OK ${content.length} octets`);
    const body = await client.readUntilTerminator();
    expect(body.equals(Buffer.from(expectedRetrBody(content), 'latin1'))).toBe(true);
    expect(await client.readLine()).toBe(`+OK 1 ${content.length}`);
    expect(backend.readCalls).toBe(0);
  });

  it('cuts off a client that never reads a big RETR from memory', async () => {
    const content = Buffer.alloc(64 * 1024 * 1024, 'abcdefghij\r\n');
    const backend = inMemoryBackend(storedMessage('huge', content));
    const { port, server } = await startServer({ maxWriteBufferBytes: 256 * 1024, writeStallTimeoutMs: 300 }, backend);
    const client = await loggedIn(port);
    client.rawSocket.pause();
    client.send('RETR 1');
    await expect.poll(() => backend.events, { timeout: 10_000 }).toEqual([{ kind: 'release', userId: 'id-alice' }]);
    expect(server.sessionCount).toBe(0);
    client.destroy();
  });
});

describe('sends', () => {
  it('answers commands pipelined in one write in one send, and a RETR on its own in one send', async () => {
    const message = 'Subject: s\r\n\r\n.dot\r\nbody\r\n';
    const backend = inMemoryBackend(storedMessage('u1', message), storedMessage('u2', message));
    const { port } = await startServer({}, backend);
    const client = await loggedIn(port);
    // The server runs in this process: each _write/_writev of its socket is one send to the kernel.
    const clientPort = client.rawSocket.localPort;
    let sends = countSends((socket) => socket.remotePort === clientPort);
    client.write('STAT\r\nRETR 1\r\nUIDL\r\nNOOP\r\n');
    expect(await client.readLine()).toBe(`+OK 2 ${2 * message.length}`);
    expect(await client.readLine()).toBe(`+OK ${message.length} octets`);
    expect(plain(await client.readUntilTerminator())).toBe(expectedRetrBody(message));
    expect(await client.readLine()).toBe('+OK unique-id listing follows');
    expect(plain(await client.readUntilTerminator())).toBe('1 u1\r\n2 u2\r\n.\r\n');
    expect(await client.readLine()).toBe('+OK');
    expect(sends.stop()).toBe(1);
    sends = countSends((socket) => socket.remotePort === clientPort);
    const retr = await client.multiline('RETR 2');
    expect(retr.status).toBe(`+OK ${message.length} octets`);
    expect(plain(retr.raw)).toBe(expectedRetrBody(message));
    expect(sends.stop()).toBe(1);
  });
});

describe('the idle timer', () => {
  it('counts from the last command, however long the session has been busy', async () => {
    const backend = inMemoryBackend(storedMessage('u1', 'Subject: a\r\n\r\nbody\r\n'));
    const { port } = await startServer({ idleTimeoutMs: 300 }, backend);
    const client = await loggedIn(port);
    // Commands every 100 ms for four times the idle timeout: none may be answered by an autologout.
    for (let i = 0; i < 12; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await client.command('NOOP')).toBe('+OK');
    }
    expect(await client.readLine()).toBe('-ERR autologout: idle for too long');
    await client.closed;
    expect(backend.events).toEqual([{ kind: 'release', userId: 'id-alice' }]);
  });
});
