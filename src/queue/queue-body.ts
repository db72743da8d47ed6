// Putting a message in the queue: its body and entry in one synced write, then the
// entry handed to the queue actor. SMTP sessions, mail forwarded from another node
// and generated mail all queue through here.
import type { Ref } from 'nact';
import type { BlobStore, BlobUpload } from '../store/blob-store.js';
import type { NewQueueEntry, QueueEntry, QueueStore } from '../store/queue-store.js';
import { dispatch } from '../core/supervision.js';
import type { QueueMessage } from './queue.js';

/** What queueing needs: the blob store, the queue's key space and the queue actor. */
export interface QueueingDeps {
  blobs: BlobStore;
  queue: QueueStore;
  queueActor: () => Ref<QueueMessage>;
}

/**
 * Queues a received body (one synced write) and hands the entry to the queue actor.
 * `mayRepeat`: the same message may be queued on another node too, so its first
 * delivery checks the mailbox's delivery marker; `'forwarded'`: sent here by the node
 * that accepted it, which queues its own copy only if our answer did not reach it.
 */
export async function queueUpload(
  deps: Pick<QueueingDeps, 'queue' | 'queueActor'>, upload: BlobUpload, fields: NewQueueEntry, options: { mayRepeat: boolean | 'forwarded' },
): Promise<{ entry: QueueEntry; deduplicated: boolean }> {
  // Mail that only passes through is never FETCHed: its MIME structure is not worth computing.
  const queued = await deps.queue.enqueue(upload, fields, { analyze: fields.recipients.some((r) => r.kind === 'local') });
  const entry = options.mayRepeat === 'forwarded' ? { ...queued.entry, forwarded: true } : options.mayRepeat ? { ...queued.entry, recovered: true } : queued.entry;
  dispatch(deps.queueActor(), { type: 'queued', entry });
  return queued;
}

/** queueUpload for a body already in memory (from another node, or kept to be sent on). */
export function queueBody(
  deps: QueueingDeps, body: Buffer, fields: NewQueueEntry, options: { mayRepeat: boolean | 'forwarded' },
): Promise<{ entry: QueueEntry; deduplicated: boolean }> {
  const upload = deps.blobs.beginUpload();
  upload.write(body);
  return queueUpload(deps, upload, fields, options);
}
