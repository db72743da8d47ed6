// imapflow drives the message commands the way a mail client does: APPEND, flags,
// COPY, MOVE, delete (STORE \Deleted + EXPUNGE), SEARCH, STATUS, QUOTA, IDLE with
// a delivery arriving, and a QRESYNC reconnect that learns what vanished.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { connectFlow, deliver, message } from './imap-support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'flow.test', ['nia', 'oz']);
  await server.admin('PUT', '/v1/users/nia@flow.test/quota', { quota: 5 * 1024 * 1024 });
});

afterAll(async () => server.destroy());

describe('imapflow as a mail client', () => {
  it('appends, flags, copies, moves, deletes, searches and reads quota', async () => {
    const client = await connectFlow(server, 'nia@flow.test');
    const appended = await client.append('INBOX', message('from imapflow', 'flow body\r\n'), ['\\Draft'], new Date('2025-06-01T12:00:00Z'));
    expect(appended && appended.uid).toBe(1);
    await client.append('INBOX', message('second', 'another\r\n'));
    const lock = await client.getMailboxLock('INBOX');
    try {
      await client.messageFlagsAdd('1:*', ['\\Seen', '$Important']);
      await client.messageFlagsRemove('2', ['$Important']);
      const flags = [];
      for await (const m of client.fetch('1:*', { uid: true, flags: true, internalDate: true })) flags.push([m.uid, [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort()]);
      expect(flags).toEqual([[1, ['$Important', '\\Draft', '\\Seen']], [2, ['\\Seen']]]);
      const copied = await client.messageCopy('1', 'Archive');
      expect(copied && copied.uidMap?.get(1)).toBe(1);
      const moved = await client.messageMove('2', 'Trash');
      expect(moved && moved.uidMap?.get(2)).toBe(1);
      expect(client.mailbox && client.mailbox.exists).toBe(1);
      expect(await client.search({ keyword: '$Important' })).toEqual([1]);
      await client.messageDelete('1');
      expect(client.mailbox && client.mailbox.exists).toBe(0);
    } finally {
      lock.release();
    }
    const archive = await client.status('Archive', { messages: true, unseen: true });
    expect(archive).toMatchObject({ messages: 1, unseen: 0 });
    const quota = await client.getQuota('INBOX');
    expect(quota && quota.storage?.limit).toBe(5 * 1024 * 1024);
    await client.logout();
  });

  it('wakes up from IDLE when mail arrives', async () => {
    const client = await connectFlow(server, 'oz@flow.test');
    await client.mailboxOpen('INBOX');
    const exists = new Promise<number>((resolve) => client.on('exists', (data: { count: number }) => resolve(data.count)));
    const idling = client.idle();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await deliver(server, ['oz@flow.test'], message('wake up'));
    expect(await Promise.race([exists, new Promise((resolve) => setTimeout(() => resolve('timeout'), 2000))])).toBe(1);
    await client.noop();
    await idling.catch(() => undefined);
    await client.logout();
  });

  it('resynchronises with QRESYNC after another client expunged', async () => {
    for (const n of [1, 2, 3]) await deliver(server, ['oz@flow.test'], message(`q${n}`));
    const first = new ImapFlow({
      host: '127.0.0.1', port: server.ports.imap, secure: false, auth: { user: 'oz@flow.test', pass: 'pw' },
      logger: false, qresync: true, disableAutoIdle: true,
    });
    await first.connect();
    expect(first.enabled.has('QRESYNC')).toBe(true);
    const box = await first.mailboxOpen('INBOX');
    expect(box.highestModseq).toBeGreaterThan(0n);
    const other = await connectFlow(server, 'oz@flow.test');
    await other.mailboxOpen('INBOX');
    const vanished = new Promise<unknown>((resolve) => first.on('expunge', resolve));
    await other.messageDelete('2');
    await other.logout();
    await first.noop();
    expect(await vanished).toMatchObject({ vanished: true });
    await first.logout();
  });
});
