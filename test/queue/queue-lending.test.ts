// The queue actor's lending (work sharing between nodes): ready local deliveries are
// handed out under a lease; results come back and are recorded once; a lease that
// runs out puts its tasks back to be delivered here, with the duplicate check on.
// The count of waiting recipients (read by every heartbeat) follows every change.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { QueueJournal, QueueStore, type QueueEntry } from '../../src/store/queue-store.js';
import { ask, dispatch, spawn, start, stop } from '../../src/core/supervision.js';
import { initialQueueState, queueBehaviour, type DeliveryTask, type QueueMessage } from '../../src/queue/queue.js';
import { silentLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function entry(id: string, recipients: number): QueueEntry {
  return {
    id, partition: 0, from: 'a@x.test', blob: 'b'.repeat(64), size: 10, arrived: Date.now(), client: '127.0.0.1', held: false,
    recipients: Array.from({ length: recipients }, (_, i) => ({
      address: `u${i}@x.test`, original: `u${i}@x.test`, kind: 'local' as const, state: 'pending' as const, attempts: 0, nextAttempt: 0, lastError: null,
    })),
  };
}

describe('queue lending', () => {
  it('lends under a lease, records results once, and takes expired leases back', async () => {
    const db = new Database(dir);
    await db.open();
    const system = start();
    let clock = Date.now();
    const queueStore = new QueueStore(db, 1);
    const queue = spawn(system, queueBehaviour({
      db, journal: new QueueJournal(db, () => undefined), blobs: new BlobStore(db), queue: queueStore, log: silentLogger(),
      retrySchedule: [60], maxQueueLifetime: 3600, delayWarning: 0, domainQueue: () => { throw new Error('no remote'); },
      notify: async () => undefined, now: () => clock,
    }), 'queue', { initialStateFunc: initialQueueState }) as Ref<QueueMessage>;
    dispatch(queue, { type: 'queued', entry: entry('Q1', 3) });

    let lendable = (address: string) => address !== 'u1@x.test';
    const lend = (max: number) => ask<QueueMessage, { ok: true; tasks: DeliveryTask[] }>(queue, (replyTo) => ({ type: 'lend', max, leaseMs: 1000, lendable, replyTo }));
    const count = () => ask<QueueMessage, { ok: true; recipients: number; ready: number }>(queue, (replyTo) => ({ type: 'count', replyTo }));

    // u1's mailbox is on this node: its delivery is not lent.
    const first = await lend(2);
    expect(first.tasks.map((t) => t.recipient)).toEqual([0, 2]);
    expect(first.tasks.every((t) => t.mayRepeat)).toBe(true);
    expect((await count()).ready).toBe(1);
    lendable = () => true;
    const second = await lend(2);
    expect(second.tasks.map((t) => t.recipient)).toEqual([1]);
    first.tasks.splice(1, 0, second.tasks[0]);

    dispatch(queue, { type: 'lent-results', results: [{ task: first.tasks[0], result: { status: 'done' } }, { task: first.tasks[0], result: { status: 'failed', error: 'x' } }] });
    expect((await count()).recipients).toBe(2);

    clock += 5000;
    dispatch(queue, { type: 'wake' });
    const again = await lend(10);
    expect(again.tasks.map((t) => t.recipient).sort()).toEqual([1, 2]);
    dispatch(queue, { type: 'lent-results', results: again.tasks.map((task) => ({ task, result: { status: 'done' as const } })) });
    dispatch(queue, { type: 'lent-results', results: [{ task: first.tasks[1], result: { status: 'done' } }] });
    expect((await count()).recipients).toBe(0);

    // The waiting count follows entries queued again and entries deleted by the operator.
    dispatch(queue, { type: 'queued', entry: entry('Q2', 2) });
    dispatch(queue, { type: 'queued', entry: entry('Q2', 2) });
    expect((await count()).recipients).toBe(2);
    await ask<QueueMessage, { ok: boolean }>(queue, (replyTo) => ({ type: 'control', action: 'delete', queueId: 'Q2', replyTo }));
    expect((await count()).recipients).toBe(0);
    stop(system);
    await db.close();
  });
});
