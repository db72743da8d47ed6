// The INBOX listing a POP3 session opens with (uid, size, body of every message),
// kept by the mailbox actor between sessions: a client that polls every few minutes
// would otherwise have the whole folder scanned and decoded from LevelDB each time.
// The listing is valid while the folder is the same one in the same state: every
// change to a folder's messages (add, expunge, flags) raises its HIGHESTMODSEQ, and
// an actor reset starts from a new state object, which has no listing.
import type { FolderRecord, MailboxStore } from '../store/mailbox-store.js';
import type { MailboxState } from './state.js';
import type { PopMessage } from './messages.js';

interface PopListing {
  folderId: number;
  uidValidity: number;
  highestModseq: number;
  uidNext: number;
  count: number;
  /** Shared by every session that opens the same state: never modified. */
  messages: readonly PopMessage[];
}

const listings = new WeakMap<MailboxState, PopListing>();

function stillValid(listing: PopListing, folder: FolderRecord): boolean {
  return listing.folderId === folder.id && listing.uidValidity === folder.uidValidity
    && listing.highestModseq === folder.highestModseq && listing.uidNext === folder.uidNext
    && listing.count === folder.messages;
}

/** The folder's messages in UID order, from the kept listing when the folder has not changed. */
export async function popListing(state: MailboxState, folder: FolderRecord, store: MailboxStore): Promise<readonly PopMessage[]> {
  const kept = listings.get(state);
  if (kept !== undefined && stillValid(kept, folder)) return kept.messages;
  const records = await store.listMessages(state.account.mailboxId, folder.id);
  const messages = Object.freeze(records.map((r) => ({ uid: r.uid, size: r.size, blob: r.blob })));
  // A folder whose counter disagrees with what is on disk is not kept: the next open lists again.
  if (messages.length === folder.messages) {
    listings.set(state, {
      folderId: folder.id, uidValidity: folder.uidValidity, highestModseq: folder.highestModseq,
      uidNext: folder.uidNext, count: folder.messages, messages,
    });
  }
  return messages;
}
