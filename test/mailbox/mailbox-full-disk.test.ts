// The mailbox actor on a full disk (a real tmpfs, filled): a delivery whose commit the
// disk refuses is answered "insufficient system storage (ENOSPC)", a temporary failure
// (the queue defers it), the actor reloads from disk, and the same delivery succeeds
// once space is back, stored once.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MailboxStore } from '../../src/store/mailbox-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { MailboxRegistry } from '../../src/mailbox/registry.js';
import { start, stop } from '../../src/core/supervision.js';
import type { DeliverReply, MailboxRequest, MailboxStatsReply } from '../../src/mailbox/messages.js';
import { mountSmallDisk, type SmallDisk } from '../support/tmpfs.js';

const disk = mountSmallDisk('16m');
const skip = typeof disk === 'string' ? disk : '';
if (skip) console.warn(`mailbox full-disk tests skipped: ${skip}`);

/**
 * A filled tmpfs still takes small writes into the last page of LevelDB's log file:
 * write until the disk refuses, so the next commit meets a really full disk.
 */
async function useLogSlack(db: Database): Promise<void> {
  for (let i = 0; i < 64; i++) {
    try {
      await db.commit([{ type: 'put', space: 'meta', key: `slack-${i}`, value: Buffer.alloc(512) }]);
    } catch {
      return;
    }
  }
  throw new Error('the disk never refused a write');
}

describe.skipIf(skip !== '')('mailbox actor on a full disk', () => {
  let small: SmallDisk;
  let db: Database;
  let blobs: BlobStore;
  let system: ReturnType<typeof start>;
  let registry: MailboxRegistry;

  beforeAll(async () => {
    small = disk as SmallDisk;
    db = new Database(path.join(small.dir, 'store'));
    await db.open();
    blobs = new BlobStore(db);
    system = start();
    registry = new MailboxRegistry(system as Ref<unknown>, {
      db, blobs, mailboxes: new MailboxStore(db), log: silentLogger(), testFaults: false,
    }, 60_000);
  });

  afterAll(async () => {
    registry.close();
    stop(system);
    small.free();
    await db.close();
    small.unmount();
  });

  const ask = <Res,>(build: (replyTo: Ref<Res>) => MailboxRequest) => registry.ask<Res>('full1', build, 5000);

  it('answers a refused delivery as a temporary storage failure and delivers it once space is back', async () => {
    const sha = await blobs.storeBody(Buffer.from('Subject: hi\r\n\r\nbody\r\n'), 'q:Q1');
    const deliver = (replyTo: Ref<DeliverReply>): MailboxRequest => ({
      type: 'deliver', deliveryId: 'Q1.u@full.test', mayRepeat: true, blob: sha, size: 21, internalDate: Date.now(), quota: 0, replyTo,
    });
    expect((await ask<MailboxStatsReply>((replyTo) => ({ type: 'stats', replyTo }))).ok).toBe(true);

    small.fill();
    await useLogSlack(db);
    const refused = await ask<DeliverReply>(deliver);
    expect(refused).toMatchObject({ ok: false, temporary: true, code: 'OVERQUOTA' });
    expect((refused as { error: string }).error).toMatch(/insufficient system storage \(ENOSPC\)/);

    small.free();
    expect((await ask<DeliverReply>(deliver)).ok).toBe(true);
    expect((await ask<DeliverReply>(deliver)).ok).toBe(true);
    const stats = await ask<MailboxStatsReply>((replyTo) => ({ type: 'stats', replyTo }));
    expect(stats).toMatchObject({ ok: true, messages: 1 });
  });
});
