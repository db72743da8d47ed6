// A new mailbox opened by a delivery: its account and folder records are committed in
// that delivery's synced batch, not in a synced commit of their own first, and they are
// on disk whatever the first delivery did (stored, refused over quota) before any other
// request is answered. Real LevelDB, real mailbox actors; a fan-out over SMTP to fresh
// users on a real server.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import nodemailer from 'nodemailer';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MailboxStore } from '../../src/store/mailbox-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { MailboxRegistry } from '../../src/mailbox/registry.js';
import { start, stop } from '../../src/core/supervision.js';
import type { DeliverReply, MailboxRequest, MailboxStatsReply } from '../../src/mailbox/messages.js';
import { provision, startTestServer, stats, tempDir, waitForMessages } from '../support/server.js';

describe('a new mailbox opened by a delivery (mailbox actor)', () => {
  const dir = tempDir();
  let db: Database;
  let blobs: BlobStore;
  let store: MailboxStore;
  let system: ReturnType<typeof start>;
  let registry: MailboxRegistry;

  const open = () => {
    system = start();
    registry = new MailboxRegistry(system as Ref<unknown>, { db, blobs, mailboxes: store, log: silentLogger(), testFaults: false }, 60_000);
  };
  const close = () => {
    registry.close();
    stop(system);
  };

  beforeAll(async () => {
    db = new Database(dir);
    await db.open();
    blobs = new BlobStore(db);
    store = new MailboxStore(db);
    open();
  });
  afterAll(async () => {
    close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const body = (deliveryId: string) => blobs.storeBody(Buffer.from(`Subject: ${deliveryId}\r\n\r\nbody\r\n`), `q:${deliveryId}`);
  const deliver = async (mailboxId: string, deliveryId: string, quota = 0, stored?: string) => {
    const sha = stored ?? (await body(deliveryId));
    return registry.ask<DeliverReply>(mailboxId, (replyTo): MailboxRequest => ({
      type: 'deliver', deliveryId, mayRepeat: false, blob: sha, size: 30, internalDate: Date.now(), quota, replyTo,
    }), 5000);
  };

  it('commits the new mailbox with its first delivery: one synced commit, not two', async () => {
    const sha = await body('N1.0');
    const before = db.commitStats.commits;
    expect(await deliver('new1', 'N1.0', 0, sha)).toMatchObject({ ok: true, uid: 1 });
    expect(db.commitStats.commits - before).toBe(1);
    const loaded = await store.loadAccount('new1');
    expect(loaded?.folders.map((f) => f.name)).toContain('INBOX');
    expect(loaded?.account.messages).toBe(1);
  });

  it('puts a new mailbox whose first delivery was refused on disk before answering anything else', async () => {
    expect(await deliver('new2', 'N2.0', 10)).toMatchObject({ ok: false, temporary: true });
    expect(await store.loadAccount('new2')).toBeNull();
    const usage = await registry.ask<MailboxStatsReply>('new2', (replyTo) => ({ type: 'stats', replyTo }), 5000);
    expect(usage).toMatchObject({ ok: true, messages: 0 });
    const loaded = await store.loadAccount('new2');
    expect(loaded?.folders.map((f) => f.name)).toContain('INBOX');
    // A later delivery stores into the same records (same UIDVALIDITY after a reload).
    const validity = loaded!.folders.find((f) => f.name === 'INBOX')!.uidValidity;
    expect(await deliver('new2', 'N2.1')).toMatchObject({ ok: true, uid: 1 });
    close();
    open();
    const reloaded = await store.loadAccount('new2');
    expect(reloaded?.folders.find((f) => f.name === 'INBOX')?.uidValidity).toBe(validity);
    expect(reloaded?.folders.find((f) => f.name === 'INBOX')?.messages).toBe(1);
  });
});

it('a fan-out to fresh users costs fewer synced commits than recipients, and stores each copy once', async () => {
  const server = await startTestServer();
  try {
    const users = Array.from({ length: 20 }, (_, i) => `fresh${String(i).padStart(2, '0')}@example.test`);
    await provision(server, 'example.test', users);
    const before = (await stats(server)) as unknown as { syncedCommits: number };
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: server.ports.smtp, secure: false, ignoreTLS: true });
    await transport.sendMail({ from: 'sender@example.net', to: users, subject: 'first mail', text: 'hello\n'.repeat(100) }).finally(() => transport.close());
    await waitForMessages(server, users.length);
    await new Promise((r) => setTimeout(r, 200));
    const after = (await stats(server)) as unknown as { syncedCommits: number; messages: number };
    expect(after.messages).toBe(users.length);
    // Before: one commit creating each mailbox, then its delivery's (at least 21 in all).
    expect(after.syncedCommits - before.syncedCommits).toBeLessThan(users.length);
  } finally {
    await server.destroy();
  }
});
