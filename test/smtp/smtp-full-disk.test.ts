// A full disk under the data folder: SMTP answers 452 4.3.1 and the session and the
// server go on; once space is freed, mail is accepted again and nothing acknowledged
// is lost. Uses a real tmpfs (tests run as root); skipped where mounting is refused.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { mountSmallDisk, type SmallDisk } from '../support/tmpfs.js';
import { greetedClient, messageOfSize, transaction } from '../support/smtp-transcript.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

/** APPEND with Python's imaplib: the tagged result's status and text. */
async function imapAppend(port: number, user: string, message: string): Promise<string> {
  const { stdout, code, stderr } = await python(`
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login(sys.argv[2], 'pw')
try:
    typ, data = m.append('INBOX', None, None, sys.stdin.buffer.read())
    print(typ, data[0].decode() if data and data[0] else '')
except imaplib.IMAP4.error as e:
    print('NO', e)
m.logout()
`, [String(port), user], message);
  expect(code, stderr).toBe(0);
  return stdout.trim();
}

const disk = mountSmallDisk('24m');
const skip = typeof disk === 'string' ? disk : '';
if (skip) console.warn(`smtp-full-disk tests skipped: ${skip}`);

describe.skipIf(skip !== '')('SMTP on a full disk', () => {
  let server: TestServer;
  let small: SmallDisk;

  beforeAll(async () => {
    small = disk as SmallDisk;
    const data = path.join(small.dir, 'data');
    mkdirSync(data);
    server = await startTestServer({ data, minFreeSpace: 0 });
    await provision(server, 'disk.test', ['ann']);
  });

  afterAll(async () => {
    small.free();
    await server?.destroy();
    small.unmount();
  });

  it('answers 452 4.3.1 for large and small mail (APPEND: NO), keeps the session, and accepts again once space is freed', async () => {
    const client = await greetedClient(server.ports.smtp);
    const before = await transaction(client, 'x@remote.test', 'ann@disk.test', messageOfSize(2000, 'before'));
    expect(before.end).toMatch(/^250 /);
    await waitForMessages(server, 1);

    small.fill();
    const large = await transaction(client, 'x@remote.test', 'ann@disk.test', messageOfSize(600 * 1024, 'large'));
    expect(large.end || large.mailFrom).toMatch(/^452 4\.3\.1 /);
    const tiny = await transaction(client, 'x@remote.test', 'ann@disk.test', messageOfSize(100, 'tiny'));
    expect(tiny.end || tiny.mailFrom).toMatch(/^452 4\.3\.1 /);
    client.send('NOOP\r\n');
    await client.expect(/^250 [^\r\n]*\r\n/m);

    const appendRefused = await imapAppend(server.ports.imap, 'ann@disk.test', messageOfSize(300 * 1024, 'append'));
    expect(appendRefused).toMatch(/^NO\b/);

    small.free();
    const appendAfter = await imapAppend(server.ports.imap, 'ann@disk.test', messageOfSize(300 * 1024, 'append'));
    expect(appendAfter).toMatch(/^OK\b/);
    const after = await transaction(client, 'x@remote.test', 'ann@disk.test', messageOfSize(600 * 1024, 'after'));
    expect(after.end).toMatch(/^250 /);
    client.close();
    await waitForMessages(server, 3);
    expect((await stats(server)).messages).toBe(3);
  });
});

const watermarkDisk = mountSmallDisk('32m');
const skipWatermark = typeof watermarkDisk === 'string' ? watermarkDisk : '';

describe.skipIf(skipWatermark !== '')('SMTP below the free-space watermark', () => {
  let server: TestServer;
  let small: SmallDisk;

  beforeAll(async () => {
    small = watermarkDisk as SmallDisk;
    const data = path.join(small.dir, 'data');
    mkdirSync(data);
    server = await startTestServer({ data, minFreeSpace: '20M' } as never);
    await provision(server, 'mark.test', ['cy']);
  });

  afterAll(async () => {
    await server?.destroy();
    small.unmount();
  });

  it('refuses at MAIL FROM with 452 4.3.1 before writing, and accepts again once space is back', async () => {
    const client = await greetedClient(server.ports.smtp);
    expect((await transaction(client, 'x@remote.test', 'cy@mark.test', messageOfSize(1000))).end).toMatch(/^250 /);

    const ballast = path.join(small.dir, 'ballast');
    writeFileSync(ballast, Buffer.alloc(16 * 1024 * 1024));
    await new Promise((r) => setTimeout(r, 1100)); // the free-space figure is cached for a second
    const refused = await transaction(client, 'x@remote.test', 'cy@mark.test', messageOfSize(1000));
    expect(refused.mailFrom).toMatch(/^452 4\.3\.1 /);
    expect(refused.rcptTo).toBe('');

    rmSync(ballast);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await transaction(client, 'x@remote.test', 'cy@mark.test', messageOfSize(1000))).end).toMatch(/^250 /);
    client.close();
    await waitForMessages(server, 2);
  });
});
