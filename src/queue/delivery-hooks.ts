// The plugin hooks of a local delivery: beforeDelivery decides where the copy goes
// (a folder, flags), or that it does not go at all (discard, redirect, a refusal:
// failed or deferred like any delivery); delivered tells the observers afterwards.
import type { DeliveryResult, DeliveryTask } from './queue.js';
import type { Logger } from '../core/logger.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { readHeaderFields } from '../plugins/contract/header-fields.js';

/** What the delivery hooks need of a delivery worker's deps (WorkerDeps). */
export interface DeliveryHookDeps {
  hooks?: PipelineHooks;
  log: Logger;
  mailboxes: MailboxRegistry;
  redirect?: (task: DeliveryTask, to: string[]) => Promise<string | null>;
  body?: (blob: string) => AsyncIterable<Buffer>;
}

/** Where the copy goes: a folder and flags for the mailbox actor. */
export interface Placement { folder?: string; flags?: string[] }

export async function beforeDelivery(task: DeliveryTask, deps: DeliveryHookDeps): Promise<DeliveryResult | Placement> {
  const body = () => (deps.body ? deps.body(task.blob) : emptyBody());
  const outcome = await deps.hooks!.beforeDelivery({
    queueId: task.queueId, from: task.from, recipient: task.address, size: task.size, body, headers: () => readHeaderFields(body()),
  });
  switch (outcome.kind) {
    case 'refused': {
      const { code, text } = outcome.refusal;
      return { status: outcome.refusal.temporary ? 'deferred' : 'failed', error: `${code} ${text}` };
    }
    case 'discard':
      deps.log.info({ queueId: task.queueId, rcpt: task.address, plugin: outcome.by }, 'discarded by plugin');
      return { status: 'done' };
    case 'redirect': {
      if (!deps.redirect) return { status: 'deferred', error: '4.3.0 redirect is not available here' };
      const queueId = await deps.redirect(task, outcome.to);
      deps.log.info({ queueId: task.queueId, rcpt: task.address, plugin: outcome.by, to: outcome.to, newQueueId: queueId }, 'redirected by plugin');
      return queueId ? { status: 'done' } : { status: 'failed', error: '5.1.1 redirect: no valid recipient' };
    }
    case 'store':
      return outcome.folder === undefined && outcome.flags === undefined ? {} : { folder: outcome.folder, flags: outcome.flags };
  }
}

export function reportDelivered(task: DeliveryTask, mailboxId: string, uid: number, folder: string | undefined, deps: DeliveryHookDeps): void {
  deps.mailboxes.structure(mailboxId, task.blob).then(
    (structure) => structure.envelope.messageId,
    () => null,
  ).then((messageId) => deps.hooks!.observe('delivered', {
    queueId: task.queueId, from: task.from, recipient: task.address, folder: folder ?? 'INBOX', uid, size: task.size, messageId,
  }));
}

async function* emptyBody(): AsyncGenerator<Buffer> {
  // Lent work (another node's queue) has no local body to show.
}
