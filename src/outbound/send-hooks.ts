// beforeSend: the plugins see each outbound transaction before it is sent and may
// refuse it (its recipients then fail or are deferred, as if the remote server had
// answered) or add header fields on top (a DKIM signature goes here). The stored body
// is never changed: the fields are sent in front of it.
import type { BlobStore } from '../store/blob-store.js';
import { headerBlock, type PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import { readHeaderFields } from '../plugins/contract/header-fields.js';
import type { OutboundConnection, RecipientOutcome } from './smtp-client.js';

/** The transaction being sent (a RemoteTask of the domain queue). */
export interface OutboundTransaction { queueId: string; from: string; blob: string; size: number; recipients: Array<{ address: string }> }

export async function sendWithHooks(
  hooks: PipelineHooks, connection: OutboundConnection, task: OutboundTransaction, domain: string, blobs: BlobStore,
): Promise<RecipientOutcome[]> {
  const recipients = task.recipients.map((r) => r.address);
  const body = () => blobs.read(task.blob);
  const outcome = await hooks.beforeSend({
    queueId: task.queueId, from: task.from, recipients, domain, size: task.size, body, headers: () => readHeaderFields(body()),
  });
  if (outcome.refusal) {
    const { code, text, temporary } = outcome.refusal;
    return recipients.map(() => ({ status: temporary ? 'deferred' : 'failed', error: `${code} ${text}` }));
  }
  const from = outcome.mailFrom ?? task.from;
  if (outcome.addHeaders.length === 0) return connection.send(from, recipients, task.size, body());
  const block = headerBlock(outcome.addHeaders);
  return connection.send(from, recipients, task.size + block.length, withBlockOnTop(block, body()));
}

async function* withBlockOnTop(block: Buffer, body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield block;
  yield* body;
}
