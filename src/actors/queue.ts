// The queue actor: holds every accepted, undelivered recipient, hands delivery tasks
// to idle delivery workers (work is pulled: a worker asks for the next task when it
// is free), records results, retries deferred recipients with backoff, and removes
// an entry when every recipient is done.
import type { Ref } from 'nact';
import type { Logger } from '../logger.js';
import type { Database, WriteOp } from '../store/database.js';
import type { BlobStore } from '../store/blob-store.js';
import { queueHolder, type QueueEntry, type QueueRecipient, type QueueStore } from '../store/queue-store.js';
import { dispatch, type Failure } from './supervision.js';

export interface DeliveryTask {
  queueId: string;
  recipient: number;
  address: string;
  kind: 'local' | 'remote';
  from: string;
  blob: string;
  size: number;
  arrived: number;
}

export type DeliveryResult =
  | { status: 'done' }
  | { status: 'deferred'; error: string }
  | { status: 'failed'; error: string };

export type WorkerMessage = { type: 'task'; task: DeliveryTask };

export interface QueueListing {
  id: string;
  arrived: number;
  size: number;
  from: string;
  held: boolean;
  recipients: Array<Pick<QueueRecipient, 'address' | 'state' | 'attempts' | 'lastError' | 'nextAttempt'>>;
}

export type QueueMessage =
  | { type: 'queued'; entry: QueueEntry }
  | { type: 'worker-ready'; worker: Ref<WorkerMessage> }
  | { type: 'task-done'; task: DeliveryTask; result: DeliveryResult; worker: Ref<WorkerMessage> }
  | { type: 'wake' }
  | { type: 'flush' }
  | { type: 'list'; replyTo: Ref<{ ok: true; entries: QueueListing[] } | Failure> }
  | { type: 'count'; replyTo: Ref<{ ok: true; recipients: number; entries: number } | Failure> };

export interface QueueDeps {
  db: Database;
  blobs: BlobStore;
  queue: QueueStore;
  log: Logger;
  retrySchedule: number[];
  maxQueueLifetime: number;
  now?: () => number;
}

export interface QueueState {
  entries: Map<string, QueueEntry>;
  ready: Array<{ id: string; recipient: number }>;
  idle: Array<Ref<WorkerMessage>>;
  busy: number;
  timer: NodeJS.Timeout | null;
  timerAt: number;
  self: Ref<QueueMessage> | null;
  writes: Promise<void>;
}

export function initialQueueState(): QueueState {
  return { entries: new Map(), ready: [], idle: [], busy: 0, timer: null, timerAt: 0, self: null, writes: Promise.resolve() };
}

export function queueBehaviour(deps: QueueDeps) {
  const now = deps.now ?? Date.now;

  const persist = (state: QueueState, ops: WriteOp[], after?: () => Promise<void>) => {
    state.writes = state.writes
      .then(() => deps.db.write(ops))
      .then(after)
      .catch((err) => deps.log.error({ err }, 'queue state write failed'));
  };

  const assign = (state: QueueState) => {
    while (state.idle.length > 0 && state.ready.length > 0) {
      const next = state.ready.shift()!;
      const entry = state.entries.get(next.id);
      const rcpt = entry?.recipients[next.recipient];
      if (!entry || !rcpt || entry.held || (rcpt.state !== 'pending' && rcpt.state !== 'deferred')) continue;
      const worker = state.idle.pop()!;
      state.busy += 1;
      dispatch(worker, { type: 'task', task: {
        queueId: entry.id, recipient: next.recipient, address: rcpt.address, kind: rcpt.kind,
        from: entry.from, blob: entry.blob, size: entry.size, arrived: entry.arrived,
      } });
    }
  };

  const schedule = (state: QueueState) => {
    let earliest = Infinity;
    for (const entry of state.entries.values()) {
      for (const rcpt of entry.recipients) if (rcpt.state === 'deferred') earliest = Math.min(earliest, rcpt.nextAttempt);
    }
    if (earliest === Infinity || (state.timer && state.timerAt <= earliest)) return;
    if (state.timer) clearTimeout(state.timer);
    state.timerAt = earliest;
    state.timer = setTimeout(() => state.self && dispatch(state.self, { type: 'wake' }), Math.max(0, earliest - now()));
    state.timer.unref();
  };

  const enqueueDue = (state: QueueState, force: boolean) => {
    const t = now();
    for (const entry of state.entries.values()) {
      entry.recipients.forEach((rcpt, i) => {
        if (rcpt.state === 'deferred' && (force || rcpt.nextAttempt <= t)) {
          rcpt.nextAttempt = t;
          state.ready.push({ id: entry.id, recipient: i });
        }
      });
    }
  };

  const finishIfDone = (state: QueueState, entry: QueueEntry) => {
    if (entry.recipients.some((r) => r.state === 'pending' || r.state === 'deferred')) {
      persist(state, [deps.queue.putOp(entry)]);
      return;
    }
    state.entries.delete(entry.id);
    persist(state, [deps.queue.deleteOp(entry), deps.blobs.unrefOp(entry.blob, queueHolder(entry.id))], async () => {
      await deps.blobs.collect(entry.blob);
    });
  };

  const record = (state: QueueState, task: DeliveryTask, result: DeliveryResult) => {
    const entry = state.entries.get(task.queueId);
    const rcpt = entry?.recipients[task.recipient];
    if (!entry || !rcpt) return;
    rcpt.attempts += 1;
    if (result.status === 'done') {
      rcpt.state = 'done';
      rcpt.lastError = null;
    } else if (result.status === 'failed' || now() - entry.arrived > deps.maxQueueLifetime * 1000) {
      rcpt.state = 'failed';
      rcpt.lastError = result.error;
      deps.log.warn({ queueId: entry.id, rcpt: rcpt.address, error: rcpt.lastError }, 'delivery failed permanently');
    } else {
      const schedule = deps.retrySchedule;
      const delay = schedule[Math.min(rcpt.attempts - 1, schedule.length - 1)] * 1000;
      rcpt.state = 'deferred';
      rcpt.lastError = result.error;
      rcpt.nextAttempt = now() + delay;
      deps.log.info({ queueId: entry.id, rcpt: rcpt.address, error: result.error, retryIn: delay / 1000 }, 'delivery deferred');
    }
    finishIfDone(state, entry);
  };

  return (state: QueueState, msg: QueueMessage, ctx: { self: Ref<QueueMessage> }): QueueState => {
    state.self = ctx.self;
    switch (msg.type) {
      case 'queued':
        state.entries.set(msg.entry.id, msg.entry);
        msg.entry.recipients.forEach((rcpt, i) => {
          if (rcpt.state === 'pending') state.ready.push({ id: msg.entry.id, recipient: i });
        });
        schedule(state);
        break;
      case 'worker-ready':
        state.idle.push(msg.worker);
        break;
      case 'task-done':
        state.busy -= 1;
        state.idle.push(msg.worker);
        record(state, msg.task, msg.result);
        schedule(state);
        break;
      case 'wake':
        state.timer = null;
        enqueueDue(state, false);
        schedule(state);
        break;
      case 'flush':
        enqueueDue(state, true);
        break;
      case 'list':
        dispatch(msg.replyTo, { ok: true, entries: [...state.entries.values()].map(listing) });
        break;
      case 'count': {
        let recipients = 0;
        for (const e of state.entries.values()) recipients += e.recipients.filter((r) => r.state === 'pending' || r.state === 'deferred').length;
        dispatch(msg.replyTo, { ok: true, recipients, entries: state.entries.size });
        break;
      }
    }
    assign(state);
    return state;
  };
}

function listing(entry: QueueEntry): QueueListing {
  return {
    id: entry.id, arrived: entry.arrived, size: entry.size, from: entry.from, held: entry.held,
    recipients: entry.recipients.map(({ address, state, attempts, lastError, nextAttempt }) => ({ address, state, attempts, lastError, nextAttempt })),
  };
}
