// The queue actor: holds every accepted, undelivered recipient. Local recipients go
// to idle delivery workers (work is pulled: a worker reports back when free); remote
// ones go, grouped per message and domain, to that domain's DomainQueue. It records
// results, retries deferred recipients with backoff, sends one DSN per message for
// failed recipients, and removes an entry when every recipient is done or failed.
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { Database, WriteOp } from '../store/database.js';
import type { BlobStore } from '../store/blob-store.js';
import { queueHolder, type QueueEntry, type QueueJournal, type QueueRecipient, type QueueStore } from '../store/queue-store.js';
import { dispatch, type Failure } from '../core/supervision.js';
import type { DomainMessage, RemoteResults, RemoteTask } from '../outbound/domain-queue.js';
import type { DsnRecipient } from '../outbound/dsn.js';
import { metrics } from '../core/metrics.js';

export interface DeliveryTask {
  queueId: string;
  recipient: number;
  address: string;
  kind: 'local' | 'remote';
  from: string;
  blob: string;
  size: number;
  arrived: number;
  /** An earlier attempt may have been stored already (retry, or an entry recovered at start); `'forwarded'`: see MailboxRequest. */
  mayRepeat: boolean | 'forwarded';
  /** The queue's count of node-up reports when the task left (see QueueState.nodeUps). */
  nodeUps?: Record<number, number>;
}

export type DeliveryResult =
  /** `mailboxHoldsRef`: a mailbox on this node committed its own reference to the body (the queue's removal need not try to collect it). */
  | { status: 'done'; mailboxHoldsRef?: boolean }
  /** `node`: the delivery waited for that cluster node, which did not answer; retried as soon as it is back. */
  | { status: 'deferred'; error: string; node?: number }
  | { status: 'failed'; error: string };

/** Local recipients of one queue entry, delivered together (one hop there and one back for all of them). */
export type WorkerMessage = { type: 'tasks'; tasks: DeliveryTask[] };

/** At most this many recipients of one entry go to one worker at a time (the rest to other idle workers). */
export const MAX_TASKS_PER_WORKER = 100;

export interface QueueListing {
  id: string;
  arrived: number;
  size: number;
  from: string;
  held: boolean;
  /** The queue partition the entry is stored in (metrics: entries per partition). */
  partition: number;
  recipients: Array<Pick<QueueRecipient, 'address' | 'state' | 'attempts' | 'lastError' | 'nextAttempt'>>;
}

export type QueueControl = 'hold' | 'release' | 'delete' | 'retry';
export type ControlReply = { ok: true } | Failure;

export type QueueMessage =
  | { type: 'queued'; entry: QueueEntry }
  | { type: 'worker-ready'; worker: Ref<WorkerMessage> }
  | { type: 'task-done'; task: DeliveryTask; result: DeliveryResult; worker: Ref<WorkerMessage> }
  /** A worker's results for the tasks of one `tasks` message; the worker is idle again. */
  | { type: 'tasks-done'; results: Array<{ task: DeliveryTask; result: DeliveryResult }>; worker: Ref<WorkerMessage> }
  | RemoteResults
  | { type: 'notified'; queueId: string; kind: 'failure' | 'delay' }
  | { type: 'wake' }
  | { type: 'flush'; domain?: string }
  /** A cluster node is (back) up: deliveries deferred because it was unavailable are due now. */
  | { type: 'node-up'; node: number }
  | { type: 'control'; action: QueueControl; queueId: string; replyTo: Ref<ControlReply> }
  | { type: 'list'; replyTo: Ref<{ ok: true; entries: QueueListing[] } | Failure> }
  | { type: 'count'; replyTo: Ref<{ ok: true; recipients: number; entries: number; ready: number; idleWorkers: number } | Failure> }
  /** Another node has idle delivery capacity: hand it up to `max` ready local tasks, under a lease. */
  | { type: 'lend'; max: number; leaseMs: number; lendable: (address: string) => boolean; replyTo: Ref<{ ok: true; tasks: DeliveryTask[] } | Failure> }
  /** Results of lent tasks, from the node that delivered them. */
  | { type: 'lent-results'; results: Array<{ task: DeliveryTask; result: DeliveryResult }> };

/** What the queue asks of the world outside its own state. */
export interface QueueDeps {
  db: Database;
  journal: QueueJournal;
  blobs: BlobStore;
  queue: QueueStore;
  log: Logger;
  retrySchedule: number[];
  maxQueueLifetime: number;
  /** Seconds after arrival before a delay warning is sent (0 = never). */
  delayWarning: number;
  /** The DomainQueue for a destination domain (started on first use). */
  domainQueue: (domain: string) => Ref<DomainMessage>;
  /** Sends a DSN for the entry's recipients; resolves when it is queued. */
  notify: (entry: QueueEntry, kind: 'failure' | 'delay', recipients: DsnRecipient[]) => Promise<void>;
  now?: () => number;
}

export interface QueueState {
  entries: Map<string, QueueEntry>;
  ready: Array<{ id: string; recipient: number }>;
  idle: Array<Ref<WorkerMessage>>;
  /** Entries whose failure DSN is being queued before they are removed. */
  finishing: Set<string>;
  timer: NodeJS.Timeout | null;
  timerAt: number;
  self: Ref<QueueMessage> | null;
  /** Tasks lent to another node: `queueId.recipient` → lease end. Expired leases go back to the ready list. */
  lent: Map<string, number>;
  /** Recipients pending or deferred over all entries (kept as they change: counted every heartbeat). */
  waiting: number;
  /** Recipients sent early (`queueId.recipient`): by an operator's flush or retry, or for a node back up; a failure then keeps their backoff step. */
  early: Set<string>;
  /** How many times each cluster node was reported up: an attempt that failed on a node reported up meanwhile is retried at once. */
  nodeUps: Map<number, number>;
}

export function initialQueueState(): QueueState {
  return { entries: new Map(), ready: [], idle: [], finishing: new Set(), timer: null, timerAt: 0, self: null, lent: new Map(), waiting: 0, early: new Set(), nodeUps: new Map() };
}

const waiting = (r: QueueRecipient) => r.state === 'pending' || r.state === 'deferred';
const waitingIn = (entry: QueueEntry) => entry.recipients.filter(waiting).length;

function domainOfAddress(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** When the unreferenced-body sweep runs: shortly after start, then every 6 hours. */
export const BLOB_SWEEP_FIRST_MS = 30_000;
export const BLOB_SWEEP_EVERY_MS = 6 * 3600_000;

export function queueBehaviour(deps: QueueDeps) {
  const now = deps.now ?? Date.now;

  // Bodies left unreferenced when collect was skipped (see remove): reclaimed after start and then every few hours.
  if (typeof deps.blobs.sweep === 'function') {
    const sweep = () => {
      deps.blobs.sweep().then(
        (n) => n > 0 && deps.log.info({ collected: n }, 'unreferenced bodies collected'),
        (err: unknown) => deps.log.warn({ err }, 'body sweep failed'),
      );
    };
    setTimeout(sweep, BLOB_SWEEP_FIRST_MS).unref();
    setInterval(sweep, BLOB_SWEEP_EVERY_MS).unref();
  }

  const persist = (_state: QueueState, ops: WriteOp[], after?: () => Promise<void>) => deps.journal.add(ops, after);

  /**
   * Sends the due recipients of one entry on their way: local ones to the ready list, remote ones to their domain.
   * `early`: an operator's flush or retry, or a node back up; a failure then does not advance the backoff.
   */
  const dispatchRecipients = (state: QueueState, entry: QueueEntry, indexes: number[], early = false) => {
    if (entry.held) return;
    const byDomain = new Map<string, RemoteTask>();
    for (const index of indexes) {
      const rcpt = entry.recipients[index];
      if (state.lent.has(`${entry.id}.${index}`)) continue;
      if (early) state.early.add(`${entry.id}.${index}`);
      rcpt.state = 'pending';
      if (rcpt.kind === 'local') {
        state.ready.push({ id: entry.id, recipient: index });
        continue;
      }
      const domain = domainOfAddress(rcpt.address);
      const task = byDomain.get(domain) ?? { queueId: entry.id, from: entry.from, blob: entry.blob, size: entry.size, recipients: [] };
      task.recipients.push({ index, address: rcpt.address });
      byDomain.set(domain, task);
    }
    for (const [domain, task] of byDomain) dispatch(deps.domainQueue(domain), { type: 'task', task });
  };

  /**
   * Hands ready local recipients to idle workers: consecutive ready recipients of the same
   * entry go to one worker in one message, so a message to 100 local users costs two hops
   * through the queue, not 200, and its deliveries reach the mailboxes at once (their commits
   * share synced batches in the Database's group commit).
   */
  const assign = (state: QueueState) => {
    if (state.idle.length === 0 || state.ready.length === 0) return;
    const nodeUps = state.nodeUps.size > 0 ? Object.fromEntries(state.nodeUps) : undefined;
    let head = 0;
    while (state.idle.length > 0 && head < state.ready.length) {
      const entryId = state.ready[head].id;
      const entry = state.entries.get(entryId);
      const tasks: DeliveryTask[] = [];
      while (head < state.ready.length && state.ready[head].id === entryId && tasks.length < MAX_TASKS_PER_WORKER) {
        const index = state.ready[head++].recipient;
        const rcpt = entry?.recipients[index];
        if (!entry || !rcpt || entry.held || rcpt.state !== 'pending') continue;
        const task = taskOf(entry, index);
        if (nodeUps) task.nodeUps = nodeUps;
        tasks.push(task);
      }
      if (tasks.length > 0) dispatch(state.idle.pop()!, { type: 'tasks', tasks });
    }
    state.ready = head === state.ready.length ? [] : state.ready.slice(head);
  };

  /** Up to `max` ready local tasks for another node, each under a lease (only those whose recipient is `lendable`). */
  const lend = (state: QueueState, max: number, leaseMs: number, lendable: (address: string) => boolean): DeliveryTask[] => {
    const tasks: DeliveryTask[] = [];
    const keep: QueueState['ready'] = [];
    for (const next of state.ready) {
      const entry = state.entries.get(next.id);
      const rcpt = entry?.recipients[next.recipient];
      if (!entry || !rcpt || entry.held || rcpt.state !== 'pending') continue;
      if (tasks.length >= max || !lendable(rcpt.address)) {
        keep.push(next);
        continue;
      }
      state.lent.set(`${entry.id}.${next.recipient}`, now() + leaseMs);
      // Lent work may come back twice (an expired lease): the mailbox's marker check makes that harmless.
      tasks.push({ ...taskOf(entry, next.recipient), mayRepeat: true });
    }
    state.ready = keep;
    if (tasks.length > 0) wakeBy(state, now() + leaseMs);
    return tasks;
  };

  /** Leases that ran out: the borrower is gone or slow, the tasks are ours again. */
  const reclaimExpiredLeases = (state: QueueState) => {
    const t = now();
    for (const [key, until] of state.lent) {
      if (until > t) continue;
      state.lent.delete(key);
      const dot = key.lastIndexOf('.');
      const entry = state.entries.get(key.slice(0, dot));
      const recipient = Number(key.slice(dot + 1));
      if (entry?.recipients[recipient]?.state === 'pending') {
        entry.recovered = true;
        state.ready.push({ id: entry.id, recipient });
      }
    }
  };

  /** Makes sure a wake-up comes no later than `at` (rounded up to whole seconds, so wakes stay rare). */
  const wakeBy = (state: QueueState, at: number) => {
    const when = Math.ceil(at / 1000) * 1000;
    if (state.timer && state.timerAt <= when) return;
    if (state.timer) clearTimeout(state.timer);
    state.timerAt = when;
    state.timer = setTimeout(() => state.self && dispatch(state.self, { type: 'wake' }), Math.max(0, when - now()));
    state.timer.unref();
  };

  /** After a wake: the next time a lease ends, or a deferred recipient or delay warning is due (one scan). */
  const scheduleNext = (state: QueueState) => {
    let earliest = Infinity;
    for (const until of state.lent.values()) earliest = Math.min(earliest, until);
    for (const entry of state.entries.values()) {
      if (entry.held) continue;
      let deferred = false;
      for (const rcpt of entry.recipients) {
        if (rcpt.state !== 'deferred') continue;
        deferred = true;
        earliest = Math.min(earliest, rcpt.nextAttempt);
      }
      if (deferred && deps.delayWarning > 0 && !entry.delayNotified && entry.from !== '') {
        earliest = Math.min(earliest, entry.arrived + deps.delayWarning * 1000);
      }
    }
    if (earliest !== Infinity) wakeBy(state, earliest);
  };

  const retryDue = (state: QueueState, due: (entry: QueueEntry, rcpt: QueueRecipient) => boolean, early = false) => {
    for (const entry of state.entries.values()) {
      if (entry.held) continue;
      const indexes = entry.recipients.flatMap((rcpt, i) => (rcpt.state === 'deferred' && due(entry, rcpt) ? [i] : []));
      if (indexes.length > 0) dispatchRecipients(state, entry, indexes, early);
    }
  };

  /** A cluster node is back: what waited for it goes now, and an attempt still out on it will be retried at once. */
  const nodeUp = (state: QueueState, node: number) => {
    state.nodeUps.set(node, (state.nodeUps.get(node) ?? 0) + 1);
    retryDue(state, (_, rcpt) => rcpt.waitingFor === node, true);
    deps.log.info({ node }, 'cluster node up: deliveries that waited for it are retried');
  };

  const sendDelayWarnings = (state: QueueState) => {
    if (deps.delayWarning <= 0) return;
    for (const entry of state.entries.values()) {
      if (entry.delayNotified || entry.from === '' || now() - entry.arrived < deps.delayWarning * 1000) continue;
      const delayed = entry.recipients.filter((r) => r.state === 'deferred');
      if (delayed.length === 0) continue;
      entry.delayNotified = true;
      persist(state, [deps.queue.putOp(entry)]);
      void deps.notify(entry, 'delay', delayed.map(toDsnRecipient)).catch((err) => deps.log.error({ err, queueId: entry.id }, 'delay warning failed'));
    }
  };

  const remove = (state: QueueState, entry: QueueEntry) => {
    if (state.entries.delete(entry.id)) state.waiting -= waitingIn(entry);
    entry.recipients.forEach((_, i) => state.early.delete(`${entry.id}.${i}`));
    // A mailbox here holds the body (profile item 3): collect would only find its reference.
    // If that reference goes first (an expunge racing this removal), the body is reclaimed
    // by BlobStore.sweep (at start and every few hours), never deleted while referenced.
    const collect = entry.mailboxHoldsRef ? undefined : async () => {
      await deps.blobs.collect(entry.blob);
    };
    persist(state, [deps.queue.deleteOp(entry), deps.blobs.unrefOp(entry.blob, queueHolder(entry.id))], collect);
  };

  /**
   * Removes the entry once nobody waits; otherwise saves it when `changed` (a local
   * delivery needs no save: the mailbox's delivery marker already makes a retry a no-op).
   */
  const finishIfDone = (state: QueueState, entry: QueueEntry, changed = true) => {
    if (entry.recipients.some(waiting)) {
      if (changed) persist(state, [deps.queue.putOp(entry)]);
      return;
    }
    const failed = entry.recipients.filter((r) => r.state === 'failed');
    if (failed.length === 0 || entry.from === '') {
      if (failed.length > 0) deps.log.warn({ queueId: entry.id, rcpts: failed.map((r) => r.address) }, 'undeliverable mail from the null sender dropped (never bounced)');
      remove(state, entry);
      return;
    }
    if (state.finishing.has(entry.id)) return;
    state.finishing.add(entry.id);
    persist(state, [deps.queue.putOp(entry)]);
    deps.notify(entry, 'failure', failed.map(toDsnRecipient)).then(
      () => state.self && dispatch(state.self, { type: 'notified', queueId: entry.id, kind: 'failure' }),
      (err) => {
        deps.log.error({ err, queueId: entry.id }, 'bounce could not be queued; the entry stays for the next start');
        state.finishing.delete(entry.id);
      },
    );
  };

  /** The delay before the next automatic try: the next step of the schedule, or after an early try the step it had. */
  const backoffDelay = (rcpt: QueueRecipient, early: boolean) => {
    const step = rcpt.backoffStep ?? Math.max(rcpt.attempts - 1, 0);
    if (!early) rcpt.backoffStep = step + 1;
    const steps = deps.retrySchedule;
    return steps[Math.min(early ? Math.max(step - 1, 0) : step, steps.length - 1)] * 1000;
  };

  /** A deferral for a node that was reported up while the attempt was out: that node is back already. */
  const nodeCameBack = (state: QueueState, node: number | undefined, task?: DeliveryTask) =>
    node !== undefined && task?.nodeUps !== undefined && (task.nodeUps[node] ?? 0) < (state.nodeUps.get(node) ?? 0);

  const record = (state: QueueState, entry: QueueEntry, index: number, result: DeliveryResult, retryAt?: number, task?: DeliveryTask) => {
    const rcpt = entry.recipients[index];
    if (!rcpt || !waiting(rcpt)) return;
    const early = state.early.delete(`${entry.id}.${index}`);
    rcpt.attempts += 1;
    rcpt.waitingFor = undefined;
    if (result.status === 'done') {
      if (result.mailboxHoldsRef) entry.mailboxHoldsRef = true;
      state.waiting -= 1;
      rcpt.state = 'done';
      rcpt.lastError = null;
      return;
    }
    const expired = now() - entry.arrived > deps.maxQueueLifetime * 1000;
    if (result.status === 'failed' || expired) {
      state.waiting -= 1;
      rcpt.state = 'failed';
      rcpt.lastError = result.status === 'failed' ? result.error : `5.4.7 delivery time expired; last error: ${result.error}`;
      deps.log.warn({ queueId: entry.id, rcpt: rcpt.address, error: rcpt.lastError }, 'delivery failed permanently');
      metrics.queueBounces.inc();
      return;
    }
    const back = nodeCameBack(state, result.node, task);
    const delay = back ? 0 : backoffDelay(rcpt, early);
    rcpt.state = 'deferred';
    rcpt.lastError = result.error;
    rcpt.waitingFor = result.node;
    rcpt.nextAttempt = retryAt ?? now() + delay;
    wakeBy(state, rcpt.nextAttempt);
    if (deps.delayWarning > 0 && !entry.delayNotified && entry.from !== '') wakeBy(state, entry.arrived + deps.delayWarning * 1000);
    deps.log.info({ queueId: entry.id, rcpt: rcpt.address, error: result.error, retryIn: Math.round((rcpt.nextAttempt - now()) / 1000) }, 'delivery deferred');
    metrics.queueDeferrals.inc();
  };

  const control = (state: QueueState, action: QueueControl, queueId: string): ControlReply => {
    const entry = state.entries.get(queueId);
    if (!entry) return { ok: false, error: `unknown queue id: ${queueId}`, temporary: false };
    switch (action) {
      case 'hold':
        entry.held = true;
        persist(state, [deps.queue.putOp(entry)]);
        break;
      case 'release':
        entry.held = false;
        persist(state, [deps.queue.putOp(entry)]);
        dispatchRecipients(state, entry, entry.recipients.flatMap((r, i) => (waiting(r) ? [i] : [])));
        break;
      case 'retry':
        dispatchRecipients(state, entry, entry.recipients.flatMap((r, i) => (r.state === 'deferred' ? [i] : [])), true);
        break;
      case 'delete':
        deps.log.info({ queueId }, 'queue entry deleted by the operator');
        remove(state, entry);
        break;
    }
    return { ok: true };
  };

  return (state: QueueState, msg: QueueMessage, ctx: { self: Ref<QueueMessage> }): QueueState => {
    state.self = ctx.self;
    switch (msg.type) {
      case 'queued': {
        const earlier = state.entries.get(msg.entry.id);
        if (earlier) state.waiting -= waitingIn(earlier);
        state.entries.set(msg.entry.id, msg.entry);
        state.waiting += waitingIn(msg.entry);
        const pending = msg.entry.recipients.flatMap((r, i) => (r.state === 'pending' ? [i] : []));
        dispatchRecipients(state, msg.entry, pending);
        if (!msg.entry.recipients.some(waiting)) finishIfDone(state, msg.entry);
        break;
      }
      case 'worker-ready':
        state.idle.push(msg.worker);
        break;
      case 'task-done': {
        state.idle.push(msg.worker);
        const entry = state.entries.get(msg.task.queueId);
        if (!entry) break;
        record(state, entry, msg.task.recipient, msg.result, undefined, msg.task);
        finishIfDone(state, entry, msg.result.status !== 'done');
        break;
      }
      case 'tasks-done': {
        state.idle.push(msg.worker);
        const entry = state.entries.get(msg.results[0]?.task.queueId ?? '');
        if (!entry) break;
        let changed = false;
        for (const { task, result } of msg.results) {
          record(state, entry, task.recipient, result, undefined, task);
          if (result.status !== 'done') changed = true;
        }
        finishIfDone(state, entry, changed);
        break;
      }
      case 'remote-results': {
        const entry = state.entries.get(msg.queueId);
        if (!entry) break;
        for (const { index, outcome } of msg.results) {
          const result: DeliveryResult = outcome.status === 'done' ? { status: 'done' } : { status: outcome.status, error: outcome.error };
          record(state, entry, index, result, msg.retryAt);
        }
        finishIfDone(state, entry);
        break;
      }
      case 'notified': {
        const entry = state.entries.get(msg.queueId);
        state.finishing.delete(msg.queueId);
        if (entry && msg.kind === 'failure') remove(state, entry);
        break;
      }
      case 'wake':
        state.timer = null;
        reclaimExpiredLeases(state);
        retryDue(state, (_, rcpt) => rcpt.nextAttempt <= now());
        sendDelayWarnings(state);
        scheduleNext(state);
        break;
      case 'flush':
        if (msg.domain) dispatch(deps.domainQueue(msg.domain), { type: 'flush' });
        retryDue(state, (_, rcpt) => !msg.domain || (rcpt.kind === 'remote' && domainOfAddress(rcpt.address) === msg.domain), true);
        break;
      case 'node-up':
        nodeUp(state, msg.node);
        break;
      case 'control':
        dispatch(msg.replyTo, control(state, msg.action, msg.queueId));
        break;
      case 'list':
        dispatch(msg.replyTo, { ok: true, entries: [...state.entries.values()].map(listing) });
        break;
      case 'count':
        dispatch(msg.replyTo, { ok: true, recipients: state.waiting, entries: state.entries.size, ready: state.ready.length, idleWorkers: state.idle.length });
        break;
      case 'lend':
        dispatch(msg.replyTo, { ok: true, tasks: lend(state, msg.max, msg.leaseMs, msg.lendable) });
        break;
      case 'lent-results':
        for (const { task, result } of msg.results) {
          const key = `${task.queueId}.${task.recipient}`;
          if (!state.lent.delete(key)) continue;
          const entry = state.entries.get(task.queueId);
          if (!entry) continue;
          // A borrower's mailbox holds its reference on its own node, never on ours.
          record(state, entry, task.recipient, result.status === 'done' ? { status: 'done' } : result);
          finishIfDone(state, entry, result.status !== 'done');
        }
        break;
    }
    assign(state);
    return state;
  };
}

function taskOf(entry: QueueEntry, recipient: number): DeliveryTask {
  const rcpt = entry.recipients[recipient];
  return {
    queueId: entry.id, recipient, address: rcpt.address, kind: rcpt.kind,
    from: entry.from, blob: entry.blob, size: entry.size, arrived: entry.arrived,
    mayRepeat: rcpt.attempts > 0 || entry.recovered === true ? true : entry.forwarded === true ? 'forwarded' : false,
  };
}

function toDsnRecipient(r: QueueRecipient): DsnRecipient {
  return { address: r.address, original: r.original, error: r.lastError ?? 'unknown error' };
}

function listing(entry: QueueEntry): QueueListing {
  return {
    id: entry.id, arrived: entry.arrived, size: entry.size, from: entry.from, held: entry.held, partition: entry.partition,
    recipients: entry.recipients.map(({ address, state, attempts, lastError, nextAttempt }) => ({ address, state, attempts, lastError, nextAttempt })),
  };
}
