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

/** A placement not decided by then leaves the recipient queued here, placed at its delivery. */
const PLACE_TIMEOUT = 2_000;

/**
 * `placeAddress` (nodes on several machines): a recipient's mailbox not placed yet is
 * placed when its mail arrives, so the body goes to its node once instead of being
 * stored here and then sent at delivery. `forwardTimeout` (cluster.forwardTimeout, ms): past
 * it the part is queued here too (the mailbox's node may have queued it as well: the
 * delivery marker keeps it once).
 */
export function mailForwarder(
  self: number, transport: NodeTransport, ownerOfAddress: (address: string) => number | undefined,
  placeAddress?: (address: string) => Promise<unknown>, forwardTimeout = 30_000,
): MailForwarder {
  return {
    async prepare(recipients) {
      if (!placeAddress) return;
      const unplaced = recipients.filter((r) => r.kind === 'local' && ownerOfAddress(r.address) === undefined);
      if (unplaced.length === 0) return;
      const placed = Promise.all(unplaced.map((r) => placeAddress(r.address).catch(() => undefined)));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([placed, new Promise((resolve) => (timer = setTimeout(resolve, PLACE_TIMEOUT)))]);
      clearTimeout(timer);
    },
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
      await transport.request(owner, { kind: 'enqueue', entry, body } satisfies NodeRequest, forwardTimeout);
    },
  };
}
