// Sends delivery status notifications for a queue entry: builds the DSN from the
// original message's headers and spools it from the null sender to the envelope sender.
import type { QueueEntry } from '../store/queue-store.js';
import { buildDsn, headerSection, type DsnRecipient } from './dsn.js';
import { spoolMessage, type SpoolDeps } from './spool.js';

const HEADER_READ_LIMIT = 128 * 1024;

async function originalHeaders(deps: SpoolDeps, blob: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of deps.blobs.read(blob)) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= HEADER_READ_LIMIT) break;
  }
  return headerSection(Buffer.concat(parts));
}

export async function sendNotification(
  deps: SpoolDeps, reportingHost: string, entry: QueueEntry, kind: 'failure' | 'delay', recipients: DsnRecipient[],
): Promise<QueueEntry | null> {
  if (entry.from === '') return null;
  const raw = buildDsn({
    kind, reportingHost, queueId: entry.id, arrived: entry.arrived, sender: entry.from, recipients,
    originalHeaders: await originalHeaders(deps, entry.blob),
  });
  return spoolMessage(deps, { from: '', to: [entry.from], raw, client: 'localhost' });
}
