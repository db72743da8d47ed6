// Mail is queued where its mailboxes are. The recipients of an SMTP transaction whose
// mailboxes live on other nodes are split by node; each node gets the body once, with
// the envelope of its own recipients, and hashes, analyzes and commits it with its
// queue entry in one synced write, then delivers locally. The accepting node queues
// the rest itself and answers 250 only once every part is on disk somewhere.
// Without this, mail for another node's mailbox is stored here, read back, sent and
// stored again there for every recipient: about twice the work per message, and a
// body sent once per recipient instead of once per node.
import type { NodeTransport } from '../transport/transport.js';
import type { NodeRequest } from './protocol.js';
import type { MailForwarder } from '../smtp/forwarding.js';
import type { QueueRecipient } from '../store/queue-store.js';

const FORWARD_TIMEOUT = 30_000;

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
