// DomainQueue: one actor per remote destination domain. It holds that domain's
// waiting transactions, opens at most `concurrency` connections (each a child that
// pulls transactions one after another over one SMTP connection), and backs off the
// whole domain after repeated connection failures so its mail waits and is retried together.
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { BlobStore } from '../store/blob-store.js';
import type { DirectoryCache } from '../directory/cache.js';
import { routeDomain, type RoutingOptions } from './routing.js';
import { ConnectionError, OutboundConnection, type ClientOptions, type RecipientOutcome } from './smtp-client.js';
import { ask, dispatch, stop } from '../core/supervision.js';
import { defineActor, spawnActor } from '../core/actor.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { sendWithHooks } from './send-hooks.js';
import { metrics } from '../core/metrics.js';

export interface RemoteTask {
  queueId: string;
  from: string;
  blob: string;
  size: number;
  recipients: Array<{ index: number; address: string }>;
}

export interface RemoteResults {
  type: 'remote-results';
  queueId: string;
  results: Array<{ index: number; outcome: RecipientOutcome }>;
  /** Set when the whole domain is backed off: retry no earlier than this. */
  retryAt?: number;
}

export type DomainMessage =
  | { type: 'task'; task: RemoteTask }
  | { type: 'next'; replyTo: Ref<RemoteTask | null> }
  | { type: 'connected'; worker: Ref<ConnectionMessage> }
  | { type: 'connection-failed'; worker: Ref<ConnectionMessage>; error: string; temporary: boolean; task: RemoteTask }
  | { type: 'worker-exit'; worker: Ref<ConnectionMessage> }
  | { type: 'flush' };

type ConnectionMessage = { type: 'run' };

export interface DomainQueueDeps {
  blobs: BlobStore;
  directory: DirectoryCache;
  routing: RoutingOptions;
  client: ClientOptions;
  log: Logger;
  report: (results: RemoteResults) => void;
  concurrency: number;
  messagesPerConnection: number;
  /** Consecutive connection failures that back off the whole domain. */
  backoffAfterFailures: number;
  /** Backoff steps in seconds (the last one repeats). */
  backoffSchedule: number[];
  /** Plugin hooks (beforeSend); switched off without plugins. */
  hooks?: PipelineHooks;
}

export interface DomainQueueState {
  tasks: RemoteTask[];
  workers: number;
  spawned: number;
  failures: number;
  backoffLevel: number;
  backoffUntil: number;
  lastError: string;
  /** An operator flushed the domain since its last backoff: backing off again keeps the step it had. */
  flushed: boolean;
}

export function initialDomainQueueState(): DomainQueueState {
  return { tasks: [], workers: 0, spawned: 0, failures: 0, backoffLevel: 0, backoffUntil: 0, lastError: '', flushed: false };
}

function deferAll(task: RemoteTask, error: string, deps: DomainQueueDeps, retryAt?: number, failed = false): void {
  deps.report({
    type: 'remote-results', queueId: task.queueId, retryAt,
    results: task.recipients.map((r) => ({ index: r.index, outcome: { status: failed ? 'failed' : 'deferred', error } })),
  });
}

export function domainQueueBehaviour(domain: string, deps: DomainQueueDeps) {
  const log = deps.log.child({ domain });

  const startWorkers = (state: DomainQueueState, self: Ref<DomainMessage>) => {
    while (state.workers < deps.concurrency && state.tasks.length > state.workers) {
      state.workers += 1;
      const name = `connection-${++state.spawned}`;
      const connection = defineActor({
        what: 'outbound connection', handle: connectionBehaviour(domain, self, deps, log), restart: { strategy: 'stop' },
        reportCrash: (_msg, worker) => dispatch(self, { type: 'worker-exit', worker }),
      });
      const worker = spawnActor(self, connection, name, log);
      dispatch(worker, { type: 'run' });
    }
  };

  const backOff = (state: DomainQueueState, error: string) => {
    const steps = deps.backoffSchedule;
    const level = state.flushed ? Math.max(state.backoffLevel - 1, 0) : state.backoffLevel;
    const delay = steps[Math.min(level, steps.length - 1)] * 1000;
    if (!state.flushed) state.backoffLevel += 1;
    state.flushed = false;
    state.backoffUntil = Date.now() + delay;
    log.warn({ error, retryIn: delay / 1000, waiting: state.tasks.length }, 'destination backed off');
    for (const task of state.tasks.splice(0)) deferAll(task, `4.4.1 ${domain} backed off: ${error}`, deps, state.backoffUntil);
  };

  return (state: DomainQueueState, msg: DomainMessage, ctx: { self: Ref<DomainMessage> }): DomainQueueState => {
    switch (msg.type) {
      case 'task':
        if (state.backoffUntil > Date.now()) {
          deferAll(msg.task, `4.4.1 ${domain} backed off: ${state.lastError}`, deps, state.backoffUntil);
          break;
        }
        state.tasks.push(msg.task);
        startWorkers(state, ctx.self);
        break;
      case 'next':
        dispatch(msg.replyTo, state.backoffUntil > Date.now() ? null : state.tasks.shift() ?? null);
        break;
      case 'connected':
        state.flushed = false;
        state.failures = 0;
        state.backoffLevel = 0;
        state.backoffUntil = 0;
        break;
      case 'connection-failed':
        state.lastError = msg.error;
        if (!msg.temporary) {
          deferAll(msg.task, msg.error, deps, undefined, true);
          break;
        }
        state.failures += 1;
        if (state.failures >= deps.backoffAfterFailures) {
          state.tasks.unshift(msg.task);
          backOff(state, msg.error);
        } else {
          deferAll(msg.task, msg.error, deps);
        }
        break;
      case 'worker-exit':
        state.workers -= 1;
        stop(msg.worker);
        startWorkers(state, ctx.self);
        break;
      case 'flush':
        state.failures = 0;
        state.backoffUntil = 0;
        state.flushed = true;
        break;
    }
    return state;
  };
}

/** One outbound connection: pulls transactions from its domain until none is left or the limit is reached. */
function connectionBehaviour(domain: string, queue: Ref<DomainMessage>, deps: DomainQueueDeps, log: Logger) {
  const next = () => ask<DomainMessage, RemoteTask | null>(queue, (replyTo) => ({ type: 'next', replyTo }), 60_000);

  return async (state: undefined, _msg: ConnectionMessage, ctx: { self: Ref<ConnectionMessage> }): Promise<undefined> => {
    const self = ctx.self;
    let task = await next();
    if (!task) {
      dispatch(queue, { type: 'worker-exit', worker: self });
      return state;
    }
    const route = await routeDomain(domain, deps.directory, deps.routing);
    if (!route.ok) {
      dispatch(queue, { type: 'connection-failed', worker: self, error: route.error, temporary: route.temporary, task });
      dispatch(queue, { type: 'worker-exit', worker: self });
      return state;
    }
    const connection = new OutboundConnection(deps.client);
    try {
      await connection.connect(route.hosts);
    } catch (err) {
      if (!(err instanceof ConnectionError)) throw err;
      dispatch(queue, { type: 'connection-failed', worker: self, error: `4.4.1 ${err.message}`, temporary: true, task });
      dispatch(queue, { type: 'worker-exit', worker: self });
      return state;
    }
    dispatch(queue, { type: 'connected', worker: self });
    try {
      for (let sent = 0; task; sent++) {
        const current = task;
        let outcomes: RecipientOutcome[];
        try {
          outcomes = deps.hooks?.on.beforeSend
            ? await sendWithHooks(deps.hooks, connection, current, domain, deps.blobs)
            : await connection.send(current.from, current.recipients.map((r) => r.address), current.size, deps.blobs.read(current.blob));
        } catch (err) {
          log.error({ err, queueId: current.queueId }, 'outbound transaction failed');
          deferAll(current, `4.3.0 internal error: ${(err as Error).message}`, deps);
          break;
        }
        deps.report({ type: 'remote-results', queueId: current.queueId, results: current.recipients.map((r, i) => ({ index: r.index, outcome: outcomes[i] })) });
        log.info({ queueId: current.queueId, host: connection.host, rcpts: current.recipients.map((r, i) => `${r.address}=${outcomes[i].status}`) }, 'outbound transaction');
        metrics.relayed.inc(outcomes.filter((o) => o.status === 'done').length);
        if (sent + 1 >= deps.messagesPerConnection || !connection.alive) break;
        task = await next();
      }
    } finally {
      connection.close();
      dispatch(queue, { type: 'worker-exit', worker: self });
    }
    return state;
  };
}
