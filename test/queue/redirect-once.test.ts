// A plugin's redirect is queued once even when the delivery it replaces runs again (a
// kill -9 after the new entry was committed but before the original recipient's done
// state was written): the marker committed with the new entry is found by the retry.
import { afterAll, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { QueueStore, type QueueEntry } from '../../src/store/queue-store.js';
import { DirectoryCache } from '../../src/directory/cache.js';
import { start, stop, spawn } from '../../src/core/supervision.js';
import { redirectMessage } from '../../src/queue/redirect.js';
import type { DeliveryTask } from '../../src/queue/queue.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('queues a redirect once when the same delivery is retried', async () => {
  const db = new Database(dir);
  await db.open();
  const system = start();
  const blobs = new BlobStore(db);
  const queue = new QueueStore(db, 1);
  const upload = blobs.beginUpload();
  upload.write(Buffer.from('Subject: redirected\r\n\r\nbody\r\n'));
  const { entry: original } = await queue.enqueue(upload, {
    id: 'ORIG1', from: 'sender@remote.test', client: '127.0.0.1',
    recipients: [{ address: 'old@local.test', original: 'old@local.test', kind: 'local', state: 'pending', attempts: 0, nextAttempt: 0, lastError: null }],
  });
  const queued: QueueEntry[] = [];
  const queueActor = spawn(system, (s: unknown, msg: { type: 'queued'; entry: QueueEntry }) => {
    queued.push(msg.entry);
    return s;
  }, 'queue');
  const deps = { blobs, queue, directory: new DirectoryCache(), queueActor: () => queueActor as never };
  const task: DeliveryTask = {
    queueId: original.id, recipient: 0, address: 'old@local.test', kind: 'local', from: original.from,
    blob: original.blob, size: original.size, arrived: original.arrived, mayRepeat: false,
  };

  const first = await redirectMessage(deps, task, ['new@elsewhere.test']);
  const again = await redirectMessage(deps, { ...task, mayRepeat: true }, ['new@elsewhere.test']);

  expect(first).not.toBeNull();
  expect(again).toBe(first);
  const entries: QueueEntry[] = [];
  for await (const entry of queue.entries()) entries.push(entry);
  expect(entries.map((e) => e.id).sort()).toEqual([first, 'ORIG1'].sort());
  expect(entries.find((e) => e.id === first)!.recipients.map((r) => r.address)).toEqual(['new@elsewhere.test']);
  stop(system);
  await db.close();
});
