// A delivery worker: takes the local recipients of one queue entry at a time from the
// queue actor, delivers them into their mailbox actors side by side (the mailboxes
// here commit in one synced batch, a SharedCommit), reports the results and so asks
// for more. Workers live under their own group actor, not under the queue, so the queue's
// messages do not pay for a copy of 256 children (nact copies them per message).
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { Directory } from '../directory/directory.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { DeliverReply, MailboxRequest } from '../mailbox/messages.js';
import { dispatch } from '../core/supervision.js';
import { NodeUnavailableError } from '../mailbox/registry.js';
import type { Database } from '../store/database.js';
import { SharedCommit } from '../store/shared-commit.js';
import type { DeliveryResult, DeliveryTask, QueueMessage, WorkerMessage } from './queue.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { beforeDelivery, reportDelivered } from './delivery-hooks.js';
import { metrics } from '../core/metrics.js';

export interface WorkerDeps {
  directory: Directory;
  mailboxes: MailboxRegistry;
  queue: () => Ref<QueueMessage>;
  log: Logger;
  /** With it, the local mailboxes of one queue entry's recipients commit in one synced batch (SharedCommit). */
  db?: Database;
  /** Deliveries done by this node (for messages/s in cluster status). */
  delivered?: { value: number };
  /** Plugin hooks (beforeDelivery, delivered); absent or switched off: nothing runs. */
  hooks?: PipelineHooks;
  /** Queues the task's message again for other addresses (a plugin's redirect verdict). */
  redirect?: (task: DeliveryTask, to: string[]) => Promise<string | null>;
  /** A queued body, for the hooks' events. */
  body?: (blob: string) => AsyncIterable<Buffer>;
}

export function deliveryWorkerBehaviour(deps: WorkerDeps) {
  return async (state: undefined, msg: WorkerMessage, ctx: { self: Ref<WorkerMessage> }): Promise<undefined> => {
    const shared = deps.db && msg.tasks.length > 1 ? new SharedCommit(deps.db, msg.tasks.length) : undefined;
    const results = await Promise.all(msg.tasks.map(async (task) => {
      const result = await deliverSafely(task, deps, shared);
      metrics.localDeliveries.inc({ result: result.status });
      return { task, result };
    }));
    dispatch(deps.queue(), { type: 'tasks-done', results, worker: ctx.self });
    return state;
  };
}

async function deliverSafely(task: DeliveryTask, deps: WorkerDeps, shared?: SharedCommit): Promise<DeliveryResult> {
  try {
    return await deliverLocal(task, deps, undefined, shared);
  } catch (err) {
    if (err instanceof NodeUnavailableError) return { status: 'deferred', error: `4.4.1 ${err.message}`, node: err.node };
    deps.log.error({ err, queueId: task.queueId, rcpt: task.address }, 'delivery attempt failed');
    return { status: 'deferred', error: `internal error: ${(err as Error).message}` };
  }
}

/** How a delivery reaches the mailbox: through the registry, or with the bytes in hand (lent work). */
export type DeliverAsk = (mailboxId: string, build: (replyTo: Ref<DeliverReply>) => MailboxRequest) => Promise<DeliverReply>;

/**
 * Delivers one recipient. `shared`: the synced batch this delivery may share with the
 * other recipients of its queue entry, when its mailbox is on this node.
 */
export async function deliverLocal(task: DeliveryTask, deps: WorkerDeps, askMailbox?: DeliverAsk, shared?: SharedCommit): Promise<DeliveryResult> {
  const user = deps.directory.cache.user(task.address);
  if (!user) {
    shared?.skip();
    return { status: 'failed', error: '5.1.1 mailbox no longer exists' };
  }
  const placed = deps.hooks?.on.beforeDelivery ? await beforeDelivery(task, deps) : undefined;
  if (placed && 'status' in placed) {
    shared?.skip();
    return placed;
  }
  const deliveryId = `${task.queueId}.${task.recipient}`;
  const here = askMailbox === undefined && (await deps.mailboxes.remoteOwner(user.mailboxId)) === null;
  if (!here) shared?.skip();
  const ask: DeliverAsk = askMailbox ?? ((mailboxId, build) => deps.mailboxes.ask<DeliverReply>(mailboxId, build));
  const reply = await ask(user.mailboxId, (replyTo) => {
    const request: MailboxRequest = {
      type: 'deliver', deliveryId, mayRepeat: task.mayRepeat, blob: task.blob, size: task.size, internalDate: task.arrived, quota: user.quota, replyTo, ...placed,
      // Only into a mailbox here: a mailbox moved to another node has not seen this node's notes.
      ...(task.firstCopy && here ? { firstCopy: true } : {}),
    };
    // Not enumerable: never copied or encoded should the request leave this process after all.
    if (here && shared) Object.defineProperty(request, 'shared', { value: shared, enumerable: false });
    return request;
  });
  if (reply.ok) {
    if (deps.delivered) deps.delivered.value += 1;
    deps.log.info({ queueId: task.queueId, rcpt: task.address, uid: reply.uid, size: task.size, duplicate: reply.duplicate }, 'delivered');
    if (deps.hooks?.on.delivered && !reply.duplicate) reportDelivered(task, user.mailboxId, reply.uid, placed?.folder, deps);
    // Our own mailbox just committed a fresh reference to the body in this node's store.
    const mailboxHoldsRef = here && !reply.duplicate;
    return mailboxHoldsRef ? { status: 'done', mailboxHoldsRef } : { status: 'done' };
  }
  return reply.temporary ? { status: 'deferred', error: `4.2.2 ${reply.error}` } : { status: 'failed', error: `5.2.0 ${reply.error}` };
}
