// Perf issue 11 (W2 fan-out): the local recipients of one queue entry go to one delivery
// worker in one message, and come back in one `tasks-done`: a message to N local users
// costs two hops through the queue actor instead of 2N. Results are still recorded per
// recipient (done, deferred, failed) exactly as single results were.
import { afterAll, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { QueueJournal, QueueStore, type QueueEntry } from '../../src/store/queue-store.js';
import { ask, dispatch, spawn, start, stop } from '../../src/core/supervision.js';
import {
  initialQueueState, queueBehaviour, MAX_TASKS_PER_WORKER, type DeliveryResult, type QueueListing, type QueueMessage, type WorkerMessage,
} from '../../src/queue/queue.js';
import { silentLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

it('hands all local recipients of an entry to one worker at once and records each result', async () => {
  const db = new Database(dir);
  await db.open();
  const system = start();
  const blobs = new BlobStore(db);
  const queue = spawn(system, queueBehaviour({
    db, journal: new QueueJournal(db, () => undefined), blobs, queue: new QueueStore(db, 1), log: silentLogger(),
    retrySchedule: [60], maxQueueLifetime: 3600, delayWarning: 0, domainQueue: () => { throw new Error('no remote'); },
    notify: async () => undefined, now: () => Date.now(),
  }), 'queue', { initialStateFunc: initialQueueState }) as Ref<QueueMessage>;
  const received: WorkerMessage[] = [];
  const worker = spawn(system, (s: unknown, msg: WorkerMessage) => {
    received.push(msg);
    return s;
  }, 'worker') as Ref<WorkerMessage>;

  const count = MAX_TASKS_PER_WORKER + 3;
  const entry: QueueEntry = {
    id: 'G1', partition: 0, from: '', blob: 'b'.repeat(64), size: 10, arrived: Date.now(), client: '127.0.0.1', held: false,
    recipients: Array.from({ length: count }, (_, i) => ({
      address: `u${i}@x.test`, original: `u${i}@x.test`, kind: 'local' as const, state: 'pending' as const, attempts: 0, nextAttempt: 0, lastError: null,
    })),
  };
  dispatch(queue, { type: 'queued', entry });
  dispatch(queue, { type: 'worker-ready', worker });
  await until(() => received.length > 0);
  await new Promise((r) => setTimeout(r, 50));
  // One message for as many recipients as one worker takes; the rest waits for a free worker.
  expect(received).toHaveLength(1);
  expect(received[0].tasks.map((t) => t.recipient)).toEqual(Array.from({ length: MAX_TASKS_PER_WORKER }, (_, i) => i));
  expect(new Set(received[0].tasks.map((t) => t.queueId))).toEqual(new Set(['G1']));

  const outcome = (i: number): DeliveryResult =>
    i === 0 ? { status: 'deferred', error: '4.2.2 over quota' } : i === 1 ? { status: 'failed', error: '5.1.1 gone' } : { status: 'done' };
  dispatch(queue, { type: 'tasks-done', results: received[0].tasks.map((task) => ({ task, result: outcome(task.recipient) })), worker });
  await until(() => received.length > 1);
  expect(received).toHaveLength(2);
  expect(received[1].tasks.map((t) => t.recipient)).toEqual([MAX_TASKS_PER_WORKER, MAX_TASKS_PER_WORKER + 1, MAX_TASKS_PER_WORKER + 2]);

  const list = await ask<QueueMessage, { ok: true; entries: QueueListing[] }>(queue, (replyTo) => ({ type: 'list', replyTo }) as QueueMessage);
  const states = list.entries[0].recipients.map((r) => r.state);
  expect(states[0]).toBe('deferred');
  expect(states[1]).toBe('failed');
  expect(states.slice(2, MAX_TASKS_PER_WORKER)).toEqual(Array(MAX_TASKS_PER_WORKER - 2).fill('done'));
  expect(states.slice(MAX_TASKS_PER_WORKER)).toEqual(['pending', 'pending', 'pending']);
  stop(system);
  await db.close();
});
