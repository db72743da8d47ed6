// Puts a message the server generates itself (a bounce, a delay warning) into the
// queue the same way SMTP DATA does: blob upload, queue entry, one synced batch.
import type { BlobStore } from '../store/blob-store.js';
import { newQueueId, type QueueEntry, type QueueRecipient, type QueueStore } from '../store/queue-store.js';
import type { WriteOp } from '../store/database.js';
import type { DirectoryCache } from '../directory/cache.js';
import { domainOf, normalizeAddress } from '../directory/records.js';

export interface SpoolDeps {
  blobs: BlobStore;
  queue: QueueStore;
  directory: DirectoryCache;
}

/** Recipients for a generated message: local ones through aliases, others remote. */
function spoolRecipients(to: string[], directory: DirectoryCache): QueueRecipient[] {
  const out: QueueRecipient[] = [];
  for (const original of to) {
    const address = normalizeAddress(original);
    const resolution = directory.resolve(address);
    const targets = resolution.ok
      ? resolution.recipients
      : resolution.reason === 'not-local' ? [{ kind: 'remote' as const, address, domain: domainOf(address) }] : [];
    for (const target of targets) {
      out.push({ address: target.address, original, kind: target.kind, state: 'pending', attempts: 0, nextAttempt: 0, lastError: null });
    }
  }
  return out;
}

/**
 * Stores and queues the message; null when no recipient can take it. `alsoCommit`:
 * writes that must land in the same synced batch as the entry (given its queue id).
 */
export async function spoolMessage(
  deps: SpoolDeps, message: { from: string; to: string[]; raw: Buffer; client: string },
  alsoCommit?: (queueId: string) => WriteOp[],
): Promise<QueueEntry | null> {
  const recipients = spoolRecipients(message.to, deps.directory);
  if (recipients.length === 0) return null;
  const id = newQueueId();
  const upload = deps.blobs.beginUpload();
  upload.write(message.raw);
  const { entry } = await deps.queue.enqueue(upload, { id, from: message.from, client: message.client, recipients }, { alsoCommit: alsoCommit?.(id) });
  return entry;
}
