// Mail is queued where its mailboxes are. The recipients of an SMTP transaction whose
// mailboxes live on other nodes are split by node; each node gets the body once, with
// the envelope of its own recipients, and hashes, analyzes and commits it with its
// queue entry in one synced write, then delivers locally. The accepting node queues
// the rest itself and answers 250 only once every part is on disk somewhere.
// Without this, mail for another node's mailbox is stored here, read back, sent and
// stored again there for every recipient: about twice the work per message, and a
// body sent once per recipient instead of once per node.
import type { NodeTransport } from './transport.js';
import type { NodeRequest, ForwardedEntry } from './protocol.js';
import type { QueueRecipient } from '../store/queue-store.js';

/** Bodies larger than this are queued where they arrive (they stream to disk as they come). */
export const FORWARD_MAX_BYTES = 1024 * 1024;

const FORWARD_TIMEOUT = 30_000;

export interface RecipientSplit {
  /** Queued on this node: remote addresses, mailboxes held here or not placed yet. */
  here: QueueRecipient[];
  /** Queued on the node holding their mailboxes, by node. */
  elsewhere: Map<number, QueueRecipient[]>;
}

export interface MailForwarder {
  /** Where each recipient is queued; null when every one of them is queued here. */
  split(recipients: QueueRecipient[]): RecipientSplit | null;
  /** Resolves once `owner` has the message on disk in its queue. */
  enqueue(owner: number, entry: ForwardedEntry, body: Buffer): Promise<void>;
}

/** The queue id of the part of message `queueId` queued for `owner`'s mailboxes. */
export function partId(queueId: string, owner: number): string {
  return `${queueId}-${owner}`;
}

export function mailForwarder(
  self: number, transport: NodeTransport, ownerOfAddress: (address: string) => number | undefined,
): MailForwarder {
  return {
    split(recipients) {
      const here: QueueRecipient[] = [];
      const elsewhere = new Map<number, QueueRecipient[]>();
      for (const rcpt of recipients) {
        // A mailbox not placed yet is placed by its first delivery, from here.
        const owner = rcpt.kind === 'local' ? ownerOfAddress(rcpt.address) : undefined;
        if (owner === undefined || owner === self) {
          here.push(rcpt);
          continue;
        }
        const part = elsewhere.get(owner);
        if (part) part.push(rcpt);
        else elsewhere.set(owner, [rcpt]);
      }
      return elsewhere.size === 0 ? null : { here, elsewhere };
    },
    async enqueue(owner, entry, body) {
      await transport.request(owner, { kind: 'enqueue', entry, body } satisfies NodeRequest, FORWARD_TIMEOUT);
    },
  };
}
