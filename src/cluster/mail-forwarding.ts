// Mail accepted on one node for mailboxes that all live on another node is queued
// there, not here: the accepting node sends the body and the envelope to the owner,
// which hashes, analyzes and commits it with its queue entry in one synced write and
// delivers it locally. The accepting node answers 250 only after the owner's reply.
// Without this, such mail is stored here, read back, sent, stored again there and
// removed here: about twice the work per message.
import type { NodeTransport } from './transport.js';
import type { NodeRequest, ForwardedEntry } from './protocol.js';

/** Bodies larger than this are queued where they arrive (they stream to disk as they come). */
export const FORWARD_MAX_BYTES = 1024 * 1024;

const FORWARD_TIMEOUT = 30_000;

export interface MailForwarder {
  /** The other node that holds every one of these mailboxes, or null when the mail is queued here. */
  ownerOf(mailboxIds: string[]): number | null;
  /** Resolves once the owner has the message on disk in its queue. */
  enqueue(owner: number, entry: ForwardedEntry, body: Buffer): Promise<void>;
}

export function mailForwarder(
  self: number, transport: NodeTransport, ownerKnown: (mailboxId: string) => number | undefined,
): MailForwarder {
  return {
    ownerOf(mailboxIds) {
      let owner: number | undefined;
      for (const id of mailboxIds) {
        const node = ownerKnown(id);
        // A mailbox not placed yet is placed by its first delivery, from here.
        if (node === undefined || node === self || (owner !== undefined && node !== owner)) return null;
        owner = node;
      }
      return owner ?? null;
    },
    async enqueue(owner, entry, body) {
      await transport.request(owner, { kind: 'enqueue', entry, body } satisfies NodeRequest, FORWARD_TIMEOUT);
    },
  };
}
