// A plugin's `redirect` verdict at beforeDelivery: the recipient's copy goes to other
// addresses instead. The body is queued again (same bytes, so the blob store keeps
// one copy) from the same envelope sender, as a new entry committed before the
// original recipient is reported done: the redirect is never lost.
import type { Ref } from 'nact';
import { dispatch } from '../core/supervision.js';
import { spoolMessage, type SpoolDeps } from '../outbound/spool.js';
import type { DeliveryTask, QueueMessage } from './queue.js';

export interface RedirectDeps extends SpoolDeps {
  queueActor: () => Ref<QueueMessage>;
}

/** Queues the task's message for `to`; the new queue id, or null when none of them can take mail. */
export async function redirectMessage(deps: RedirectDeps, task: DeliveryTask, to: string[]): Promise<string | null> {
  const raw = await deps.blobs.readAll(task.blob);
  const entry = await spoolMessage(deps, { from: task.from, to, raw, client: 'localhost' });
  if (!entry) return null;
  dispatch(deps.queueActor(), { type: 'queued', entry });
  return entry.id;
}
