// A delivery worker: takes one task at a time from the queue actor, delivers the
// recipient (local: into its mailbox actor), reports the result and so asks for more.
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import type { Directory } from '../directory/directory.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { DeliverReply, MailboxRequest } from '../mailbox/messages.js';
import { dispatch } from '../core/supervision.js';
import { NodeUnavailableError } from '../mailbox/registry.js';
import type { DeliveryResult, DeliveryTask, QueueMessage, WorkerMessage } from './queue.js';
import { metrics } from '../core/metrics.js';

export interface WorkerDeps {
  directory: Directory;
  mailboxes: MailboxRegistry;
  queue: () => Ref<QueueMessage>;
  log: Logger;
  /** Deliveries done by this node (for messages/s in cluster status). */
  delivered?: { value: number };
}

export function deliveryWorkerBehaviour(deps: WorkerDeps) {
  return async (state: undefined, msg: WorkerMessage, ctx: { self: Ref<WorkerMessage> }): Promise<undefined> => {
    const result = await deliverSafely(msg.task, deps);
    metrics.localDeliveries.inc({ result: result.status });
    dispatch(deps.queue(), { type: 'task-done', task: msg.task, result, worker: ctx.self });
    return state;
  };
}

async function deliverSafely(task: DeliveryTask, deps: WorkerDeps): Promise<DeliveryResult> {
  try {
    return await deliverLocal(task, deps);
  } catch (err) {
    if (err instanceof NodeUnavailableError) return { status: 'deferred', error: `4.4.1 ${err.message}`, node: err.node };
    deps.log.error({ err, queueId: task.queueId, rcpt: task.address }, 'delivery attempt failed');
    return { status: 'deferred', error: `internal error: ${(err as Error).message}` };
  }
}

/** How a delivery reaches the mailbox: through the registry, or with the bytes in hand (lent work). */
export type DeliverAsk = (mailboxId: string, build: (replyTo: Ref<DeliverReply>) => MailboxRequest) => Promise<DeliverReply>;

export async function deliverLocal(task: DeliveryTask, deps: WorkerDeps, askMailbox?: DeliverAsk): Promise<DeliveryResult> {
  const user = deps.directory.cache.user(task.address);
  if (!user) return { status: 'failed', error: '5.1.1 mailbox no longer exists' };
  const deliveryId = `${task.queueId}.${task.recipient}`;
  const ask: DeliverAsk = askMailbox ?? ((mailboxId, build) => deps.mailboxes.ask<DeliverReply>(mailboxId, build));
  const reply = await ask(user.mailboxId, (replyTo) => ({
    type: 'deliver', deliveryId, mayRepeat: task.mayRepeat, blob: task.blob, size: task.size, internalDate: task.arrived, quota: user.quota, replyTo,
  }));
  if (reply.ok) {
    if (deps.delivered) deps.delivered.value += 1;
    deps.log.info({ queueId: task.queueId, rcpt: task.address, uid: reply.uid, size: task.size, duplicate: reply.duplicate }, 'delivered');
    // Our own mailbox just committed a fresh reference to the body in this node's store.
    const mailboxHoldsRef = askMailbox === undefined && !reply.duplicate && (await deps.mailboxes.remoteOwner(user.mailboxId)) === null;
    return mailboxHoldsRef ? { status: 'done', mailboxHoldsRef } : { status: 'done' };
  }
  return reply.temporary ? { status: 'deferred', error: `4.2.2 ${reply.error}` } : { status: 'failed', error: `5.2.0 ${reply.error}` };
}
