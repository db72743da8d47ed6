// Perf issue 11, item 3: when a mailbox on this node reported that it holds its own
// reference to the body, removing the queue entry skips BlobStore.collect (it could only
// find that reference); otherwise collect runs as before. The body is never deleted
// while the mailbox references it either way.
import { afterAll, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { QueueJournal, QueueStore, queueHolder, type QueueEntry } from '../../src/store/queue-store.js';
import { dispatch, spawn, start, stop } from '../../src/core/supervision.js';
import { initialQueueState, queueBehaviour, type DeliveryResult, type QueueMessage, type WorkerMessage } from '../../src/queue/queue.js';
import { silentLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('skips collect only after a local mailbox took its own reference', async () => {
  const db = new Database(dir);
  await db.open();
  const system = start();
  const blobs = new BlobStore(db);
  const collected: string[] = [];
  const realCollect = blobs.collect.bind(blobs);
  blobs.collect = async (sha) => {
    collected.push(sha);
    return realCollect(sha);
  };
  const queue = spawn(system, queueBehaviour({
    db, journal: new QueueJournal(db, () => undefined), blobs, queue: new QueueStore(db, 1), log: silentLogger(),
    retrySchedule: [60], maxQueueLifetime: 3600, delayWarning: 0, domainQueue: () => { throw new Error('no remote'); },
    notify: async () => undefined, now: () => Date.now(),
  }), 'queue', { initialStateFunc: initialQueueState }) as Ref<QueueMessage>;
  const worker = spawn(system, (s: unknown) => s, 'worker') as Ref<WorkerMessage>;

  const run = async (id: string, body: string, result: DeliveryResult) => {
    const upload = blobs.beginUpload();
    upload.write(Buffer.from(body));
    const f = await upload.finish(queueHolder(id));
    await db.commit([...f.ops, blobs.addRefOp(f.sha, `mbox:${id}`)]);
    f.release();
    const entry: QueueEntry = {
      id, partition: 0, from: 'a@x.test', blob: f.sha, size: body.length, arrived: Date.now(), client: '127.0.0.1', held: false,
      recipients: [{ address: 'u@x.test', original: 'u@x.test', kind: 'local', state: 'pending', attempts: 0, nextAttempt: 0, lastError: null }],
    };
    dispatch(queue, { type: 'queued', entry });
    const task = { queueId: id, recipient: 0, address: 'u@x.test', blob: f.sha, size: body.length, arrived: entry.arrived, mayRepeat: false } as never;
    dispatch(queue, { type: 'task-done', task, result, worker });
    return f.sha;
  };

  const held = await run('Q1', 'held by a mailbox here\r\n', { status: 'done', mailboxHoldsRef: true });
  const plain = await run('Q2', 'delivered elsewhere\r\n', { status: 'done' });
  for (let i = 0; i < 100 && !collected.includes(plain); i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  expect(collected).toEqual([plain]);
  // Both bodies are still referenced by their mailbox: neither is deleted.
  expect(await blobs.has(held)).toBe(true);
  expect(await blobs.has(plain)).toBe(true);
  // The mailbox's reference goes without a collect finding it free: the sweep reclaims it.
  await db.commit([blobs.unrefOp(held, 'mbox:Q1')]);
  let swept = 0; // the queue's own unref is journaled asynchronously
  for (let i = 0; i < 100 && swept === 0; i++) {
    swept = await blobs.sweep();
    if (swept === 0) await new Promise((r) => setTimeout(r, 20));
  }
  expect(swept).toBe(1);
  expect(await blobs.has(held)).toBe(false);
  stop(system);
  await db.close();
});
