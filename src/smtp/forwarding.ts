// The SMTP side's contract for queueing mail on the node that holds its mailboxes:
// how the recipients of a transaction split by node, and how a part is handed to its
// node. The cluster implements it (src/cluster/mail-forwarding.ts); one process has none.
import type { NewQueueEntry, QueueRecipient } from '../store/queue-store.js';

/** Bodies larger than this are queued where they arrive (they stream to disk as they come). */
export const FORWARD_MAX_BYTES = 1024 * 1024;

export interface RecipientSplit {
  /** Queued on this node: remote addresses, mailboxes held here or not placed yet. */
  here: QueueRecipient[];
  /** Queued on the node holding their mailboxes, by node. */
  elsewhere: Map<number, QueueRecipient[]>;
}

export interface MailForwarder {
  /** Places the mailboxes of recipients not placed yet, so that `split` sends them to their node (optional). */
  prepare?(recipients: QueueRecipient[]): Promise<void>;
  /** Where each recipient is queued; null when every one of them is queued here. */
  split(recipients: QueueRecipient[]): RecipientSplit | null;
  /** Resolves once `owner` has the message on disk in its queue. */
  enqueue(owner: number, entry: NewQueueEntry, body: Buffer): Promise<void>;
}

/** The queue id of the part of message `queueId` queued for `owner`'s mailboxes. */
export function partId(queueId: string, owner: number): string {
  return `${queueId}-${owner}`;
}

/** The split of fewer recipients (some refused after DATA): each stays on the node it was split to. */
export function narrowSplit(split: RecipientSplit | null, kept: QueueRecipient[]): RecipientSplit | null {
  if (!split) return null;
  const nodeOf = new Map<string, number>();
  for (const [node, recipients] of split.elsewhere) for (const r of recipients) nodeOf.set(r.address, node);
  const narrowed: RecipientSplit = { here: [], elsewhere: new Map() };
  for (const r of kept) {
    const node = nodeOf.get(r.address);
    if (node === undefined) narrowed.here.push(r);
    else narrowed.elsewhere.set(node, [...(narrowed.elsewhere.get(node) ?? []), r]);
  }
  return narrowed;
}
