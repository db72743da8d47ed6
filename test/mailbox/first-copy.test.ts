// A node's own copy of a part another node forwarded to it (`firstCopy`) reads no
// delivery marker unless a repeatable copy of the same delivery came to the mailbox
// since the process started; either way each delivery is stored once, whichever copy
// arrives first (src/mailbox/repeated-deliveries.ts). Real LevelDB, real mailbox actor.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MailboxStore } from '../../src/store/mailbox-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { MailboxRegistry } from '../../src/mailbox/registry.js';
import { RepeatedDeliveries } from '../../src/mailbox/repeated-deliveries.js';
import { start, stop } from '../../src/core/supervision.js';
import type { DeliverReply, MailboxRequest, MailboxStatsReply } from '../../src/mailbox/messages.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();

describe('first copies of forwarded parts', () => {
  let db: Database;
  let blobs: BlobStore;
  let store: MailboxStore;
  let system: ReturnType<typeof start>;
  let registry: MailboxRegistry;
  let markerReads = 0;

  beforeAll(async () => {
    db = new Database(dir);
    await db.open();
    blobs = new BlobStore(db);
    store = new MailboxStore(db);
    // Counts the reads; the store itself answers them.
    const find = store.findDelivery.bind(store);
    store.findDelivery = (mailboxId, deliveryId) => {
      markerReads += 1;
      return find(mailboxId, deliveryId);
    };
    system = start();
    registry = new MailboxRegistry(system as Ref<unknown>, {
      db, blobs, mailboxes: store, log: silentLogger(), testFaults: false, repeats: new RepeatedDeliveries(),
    }, 60_000);
  });

  afterAll(async () => {
    registry.close();
    stop(system);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const deliver = async (deliveryId: string, copy: { mayRepeat: boolean; firstCopy?: boolean }) => {
    const sha = await blobs.storeBody(Buffer.from(`Subject: ${deliveryId}\r\n\r\nbody\r\n`), `q:${deliveryId}`);
    return registry.ask<DeliverReply>('fc1', (replyTo): MailboxRequest => ({
      type: 'deliver', deliveryId, blob: sha, size: 30, internalDate: Date.now(), quota: 0, replyTo, ...copy,
    }), 5000);
  };
  const messages = async () => {
    const stats = await registry.ask<MailboxStatsReply>('fc1', (replyTo) => ({ type: 'stats', replyTo }), 5000);
    return stats.ok ? stats.messages : -1;
  };

  it('reads no marker for a first copy when no other copy came', async () => {
    const before = markerReads;
    expect((await deliver('F1.0', { mayRepeat: true, firstCopy: true })).ok).toBe(true);
    expect(markerReads).toBe(before);
    expect(await messages()).toBe(1);
  });

  it('reads the marker of a first copy whose fallback copy came first, and stores it once', async () => {
    expect(await deliver('F2.0', { mayRepeat: true })).toMatchObject({ ok: true });
    const before = markerReads;
    expect(await deliver('F2.0', { mayRepeat: true, firstCopy: true })).toMatchObject({ ok: true, duplicate: true });
    expect(markerReads).toBe(before + 1);
    expect(await messages()).toBe(2);
  });

  it('stores once when the first copy comes before the fallback copy', async () => {
    expect((await deliver('F3.0', { mayRepeat: true, firstCopy: true })).ok).toBe(true);
    expect(await deliver('F3.0', { mayRepeat: true })).toMatchObject({ ok: true, duplicate: true });
    expect(await messages()).toBe(3);
  });
});
