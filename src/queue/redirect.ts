// A plugin's `redirect` verdict at beforeDelivery: the recipient's copy goes to other
// addresses instead. The body is queued again (same bytes, so the blob store keeps
// one copy) from the same envelope sender, as a new entry committed before the
// original recipient is reported done: the redirect is never lost. A marker committed
// with the new entry (`dlv` key `redirect:QUEUEID.RCPT`) makes a retry of the same
// delivery (after a kill -9 before its done state was written) find the earlier
// redirect instead of queueing the message twice. Markers stay, a few bytes each,
// as the mailbox's own delivery markers do.
import type { Ref } from 'nact';
import { dispatch } from '../core/supervision.js';
import { put } from '../store/database.js';
import { spoolMessage, type SpoolDeps } from '../outbound/spool.js';
import type { DeliveryTask, QueueMessage } from './queue.js';

export interface RedirectDeps extends SpoolDeps {
  queueActor: () => Ref<QueueMessage>;
}

/** Queues the task's message for `to`; the new queue id, or null when none of them can take mail. */
export async function redirectMessage(deps: RedirectDeps, task: DeliveryTask, to: string[]): Promise<string | null> {
  const marker = `redirect:${task.queueId}.${task.recipient}`;
  if (task.mayRepeat) {
    const earlier = await deps.queue.db.get('dlv', marker);
    if (earlier) return earlier.toString('latin1');
  }
  const raw = await deps.blobs.readAll(task.blob);
  const entry = await spoolMessage(deps, { from: task.from, to, raw, client: 'localhost' }, (id) => [put('dlv', marker, Buffer.from(id, 'latin1'))]);
  if (!entry) return null;
  dispatch(deps.queueActor(), { type: 'queued', entry });
  return entry.id;
}
