// The shipped plugins, loaded by package name as an operator would: greylisting, the
// rate limiter and the delivery webhook (against a real HTTP server on loopback).
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { provision, tempDir, waitFor, waitForMessages, type TestServer } from '../support/server.js';
import { startPluginServer } from './plugin-server.js';
import { capturingLogger } from '../support/log-capture.js';
import { sendFrom } from './smtp-client.js';

let server: TestServer | null = null;
const closers: Array<() => void> = [];
afterEach(async () => {
  await server?.destroy();
  server = null;
  for (const close of closers.splice(0)) close();
});

describe('ternmail/plugins/greylist', () => {
  it('tempfails the first attempt of a triple, accepts its retry after the delay, from any address of the client\'s /24', async () => {
    server = await startPluginServer([{ module: 'ternmail/plugins/greylist', options: { delay: 1 } }]);
    await provision(server, 'example.test', ['alice', 'bob']);
    const port = server.ports.smtp;
    expect(await sendFrom(port, 'alice@example.test')).toMatch(/^451 4\.7\.1 Greylisted, please try again in \d+ seconds$/);
    expect(await sendFrom(port, 'alice@example.test')).toMatch(/^451 4\.7\.1 Greylisted/);
    await waitFor(async () => (await sendFrom(port, 'alice@example.test', { client: '127.0.0.9' })).startsWith('250'), 10_000, 'the retry to pass');
    // Another triple (other recipient) starts over; the passed one stays accepted.
    expect(await sendFrom(port, 'bob@example.test')).toMatch(/^451 /);
    expect(await sendFrom(port, 'alice@example.test', { client: '127.0.0.3' })).toMatch(/^250 /);
    await waitForMessages(server, 2);
  });

  it('does not greylist authenticated senders', async () => {
    server = await startPluginServer([{ module: 'ternmail/plugins/greylist', options: { delay: 600 } }]);
    await provision(server, 'example.test', ['alice']);
    expect(await sendFrom(server.ports.submission, 'alice@example.test', { from: 'alice@example.test', auth: { user: 'alice@example.test', password: 'pw' } })).toMatch(/^250 /);
  });
});

describe('ternmail/plugins/rate-limit', () => {
  it('limits messages per client IP and per authenticated sender', async () => {
    server = await startPluginServer([{ module: 'ternmail/plugins/rate-limit', options: { perClient: 2, perSender: 1, window: 3600 } }]);
    await provision(server, 'example.test', ['alice', 'bob']);
    const mx = server.ports.smtp;
    expect(await sendFrom(mx, 'alice@example.test', { client: '127.0.0.2' })).toMatch(/^250 /);
    expect(await sendFrom(mx, 'alice@example.test', { client: '127.0.0.2' })).toMatch(/^250 /);
    expect(await sendFrom(mx, 'alice@example.test', { client: '127.0.0.2' })).toBe('451 4.7.1 Rate limit reached for client 127.0.0.2, try again later');
    expect(await sendFrom(mx, 'alice@example.test', { client: '127.0.0.3' })).toMatch(/^250 /);
    const submission = server.ports.submission;
    const asBob = { from: 'bob@example.test', auth: { user: 'bob@example.test', password: 'pw' }, client: '127.0.0.4' };
    expect(await sendFrom(submission, 'alice@example.test', asBob)).toMatch(/^250 /);
    expect(await sendFrom(submission, 'alice@example.test', { ...asBob, client: '127.0.0.5' })).toBe('451 4.7.1 Rate limit reached for sender bob@example.test, try again later');
  });
});

describe('ternmail/plugins/webhook', () => {
  it('POSTs recipient, folder, size and Message-ID for each delivery, retrying with backoff after a failure', async () => {
    const posts: Array<Record<string, unknown>> = [];
    let answered = 0;
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        answered += 1;
        if (answered === 1) {
          res.writeHead(503).end('busy');
          return;
        }
        posts.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    closers.push(() => hook.close());
    const url = `http://127.0.0.1:${(hook.address() as { port: number }).port}/delivered`;
    server = await startPluginServer([{ module: 'ternmail/plugins/webhook', options: { url, backoff: 0.2 } }]);
    await provision(server, 'example.test', ['alice']);
    const message = 'From: s@remote.test\r\nSubject: hooked\r\nMessage-ID: <hooked-1@client.test>\r\n\r\nhello\r\n';
    expect(await sendFrom(server.ports.smtp, 'alice@example.test', { message })).toMatch(/^250 /);
    await waitFor(async () => posts.length === 1, 10_000, 'the webhook post');
    expect(answered).toBe(2);
    expect(posts[0]).toMatchObject({ recipient: 'alice@example.test', folder: 'INBOX', messageId: '<hooked-1@client.test>', uid: 1 });
    expect(posts[0].size).toBeGreaterThan(message.length);
  });
});

describe('ternmail/plugins/webhook across a restart', () => {
  it('posts what was still pending when the server stopped, once it is back', async () => {
    const posts: Array<Record<string, unknown>> = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posts.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    closers.push(() => hook.close());
    const port = (hook.address() as { port: number }).port;
    const data = tempDir();
    // First run: the receiver is not reachable (a port nothing listens on), retried slowly.
    const { log, lines } = capturingLogger();
    server = await startPluginServer([{ module: 'ternmail/plugins/webhook', options: { url: 'http://127.0.0.1:9/x', backoff: 60 } }], { data }, log);
    await provision(server, 'example.test', ['alice']);
    expect(await sendFrom(server.ports.smtp, 'alice@example.test', { message: 'Subject: kept\r\nMessage-ID: <kept@client.test>\r\n\r\nhi\r\n' })).toMatch(/^250 /);
    await waitForMessages(server, 1);
    // The post is recorded before it is tried: once the first try failed, it waits in the store.
    await waitFor(async () => lines.some((l) => l.msg === 'webhook post failed; will retry'), 10_000, 'the first try');
    await server.destroy();
    server = await startPluginServer([{ module: 'ternmail/plugins/webhook', options: { url: `http://127.0.0.1:${port}/x` } }], { data });
    await waitFor(async () => posts.length === 1, 10_000, 'the pending post');
    expect(posts[0]).toMatchObject({ recipient: 'alice@example.test', messageId: '<kept@client.test>' });
  });
});
