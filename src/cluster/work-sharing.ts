// Work sharing between worker processes: a node whose delivery workers are idle
// borrows ready local deliveries from the node with the longest backlog (the primary
// names it in the heartbeat reply), delivers them itself with the bodies it was
// given, and reports the results. Lent work is under a lease on the lender; the
// mailbox's delivery marker makes a task that comes back twice harmless.
import type { Logger } from '../core/logger.js';
import type { BlobStore } from '../store/blob-store.js';
import type { MailboxRegistry } from '../mailbox/registry.js';
import type { DeliveryResult, DeliveryTask } from '../queue/queue.js';
import { deliverLocal, type WorkerDeps } from '../queue/delivery-worker.js';
import type { DeliverReply } from '../mailbox/messages.js';
import type { NodeTransport } from '../transport/transport.js';
import type { NodeRequest } from './protocol.js';
import type { RemoteMailboxes } from './remote-mailboxes.js';

const BATCH = 64;
const PARALLEL = 16;

export interface BorrowerDeps {
  transport: NodeTransport;
  mailboxes: MailboxRegistry;
  remote: RemoteMailboxes;
  blobs: BlobStore;
  worker: WorkerDeps;
  log: Logger;
}

export class Borrower {
  private busy = false;
  borrowed = 0;

  constructor(private readonly deps: BorrowerDeps) {}

  /** Starts borrowing from `donor` unless a round is already under way. */
  borrowFrom(donor: number | null | undefined): void {
    if (donor === null || donor === undefined || this.busy) return;
    this.busy = true;
    this.rounds(donor)
      .catch((err) => this.deps.log.warn({ err, donor }, 'borrowing deliveries failed'))
      .finally(() => (this.busy = false));
  }

  private async rounds(donor: number): Promise<void> {
    for (;;) {
      const lent = await this.deps.transport.request<{ tasks: DeliveryTask[]; bodies: Record<string, Uint8Array> }>(
        donor, { kind: 'borrow', max: BATCH } satisfies NodeRequest);
      if (lent.tasks.length === 0) return;
      const results: Array<{ task: DeliveryTask; result: DeliveryResult }> = [];
      for (let i = 0; i < lent.tasks.length; i += PARALLEL) {
        const slice = lent.tasks.slice(i, i + PARALLEL);
        results.push(...await Promise.all(slice.map(async (task) => ({ task, result: await this.deliver(task, lent.bodies[task.blob]) }))));
      }
      this.borrowed += results.length;
      await this.deps.transport.request(donor, { kind: 'lent-results', results } satisfies NodeRequest);
    }
  }

  private async deliver(task: DeliveryTask, bytes: Uint8Array | undefined): Promise<DeliveryResult> {
    if (!bytes) return { status: 'deferred', error: '4.3.0 body not lent' };
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
      // The body is not in this node's store yet: plugins at beforeDelivery read the lent bytes.
      const worker = this.deps.worker.hooks?.on.beforeDelivery ? { ...this.deps.worker, body: () => lentBody(body) } : this.deps.worker;
      return await deliverLocal(task, worker, (mailboxId, build) => this.ask(mailboxId, build, task, body));
    } catch (err) {
      return { status: 'deferred', error: `4.3.0 lent delivery failed: ${(err as Error).message}` };
    }
  }

  /** Delivers with the body in hand: stored here for a mailbox of this node, sent along otherwise. */
  private async ask(mailboxId: string, build: Parameters<MailboxRegistry['ask']>[1], task: DeliveryTask, body: Buffer): Promise<DeliverReply> {
    const owner = await this.deps.mailboxes.remoteOwner(mailboxId);
    if (owner !== null) return this.deps.remote.ask<DeliverReply>(owner, mailboxId, build, body);
    const holder = `l:${task.queueId}.${task.recipient}`;
    await this.deps.blobs.storeBody(body, holder);
    try {
      return await this.deps.mailboxes.askLocal<DeliverReply>(mailboxId, build);
    } finally {
      await this.deps.blobs.db.commit([this.deps.blobs.unrefOp(task.blob, holder)]);
      await this.deps.blobs.collect(task.blob);
    }
  }
}

async function* lentBody(body: Buffer): AsyncGenerator<Buffer> {
  yield body;
}
