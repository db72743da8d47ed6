// The admin API refuses request bodies over 1 MiB with 413 before buffering them,
// whether the client declares the length or streams chunks, and keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { MAX_ADMIN_BODY } from '../../src/admin/admin-api.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server.destroy();
});

function importBody(bytes: number): string {
  const user = { address: 'someone@nowhere.test', password: 'x'.repeat(1000) };
  const users = Array.from({ length: Math.ceil(bytes / 1050) }, () => user);
  return JSON.stringify({ users });
}

/** A chunked POST over a raw socket that keeps sending until the server answers or closes. */
function streamedPost(port: number, route: string, token: string, bytes: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (c) => (answer += c.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(answer));
    socket.write(`POST ${route} HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < bytes && answer === '' && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('latin1')}\r\n`)) return void socket.once('drain', pump);
      }
      if (!socket.destroyed) socket.end('0\r\n\r\n');
    };
    pump();
  });
}

describe('admin API request bodies', () => {
  it('answers 413 to a declared body over 1 MiB', async () => {
    const body = importBody(MAX_ADMIN_BODY + 1024);
    expect(body.length).toBeGreaterThan(1024 * 1024);
    const res = await fetch(server.adminUrl + '/v1/users/import', {
      method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: 'request body too large' });
  });

  it('answers 413 to a streamed body once it passes 1 MiB', async () => {
    const answer = await streamedPost(server.ports.admin, '/v1/users/import', server.token, 8 * 1024 * 1024);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('accepts a body under the limit and keeps serving after refusals', async () => {
    const res = await fetch(server.adminUrl + '/v1/users/import', {
      method: 'POST', headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' }, body: importBody(512 * 1024),
    });
    expect(res.status).toBe(200);
    expect(await server.admin('GET', '/v1/domains')).toEqual([]);
  });
});
