// COPY and MOVE between two users' mailboxes (a personal folder and a shared one, IMAP
// ACL): the mailbox actor copies by reference only inside one mailbox, and the other
// mailbox may live on another node, so each message is read from the source and
// appended (synced) to the destination. Rights were checked by the caller
// (shared-folders.ts); this file only moves the messages and undoes a partial copy.
import type { Failure } from '../core/supervision.js';
import { permittedFlags, type FlagRights } from '../mailbox/acl.js';
import type { CopyReply, CopyRequest, UserMailbox } from './backend.js';

/** One side of a COPY between two users' mailboxes. */
export interface Side {
  mailbox: UserMailbox;
  folder: string;
}

/**
 * COPY/MOVE between two users' mailboxes: one message at a time, read from the source
 * and appended (synced) to the destination with its flags (those the rights allow) and
 * date. A failure removes the copies already made, so the destination is as it was
 * (RFC 3501 §6.4.7); MOVE then expunges exactly the moved sources.
 */
export async function copyAcross(source: Side, destination: Side, request: CopyRequest, allowed: FlagRights | null): Promise<CopyReply> {
  const sourceUids: number[] = [];
  const destUids: number[] = [];
  let uidValidity = 0;
  const undo = async (reason: Failure): Promise<Failure> => {
    if (destUids.length > 0) {
      await destination.mailbox.store({ name: destination.folder, uids: destUids, operation: 'add', flags: ['\\Deleted'] });
      await destination.mailbox.expunge(destination.folder, destUids);
    }
    return reason;
  };
  for (const uid of request.uids) {
    const found = await source.mailbox.messageByUid(source.folder, uid);
    if (!found.ok) {
      if (found.code === 'NONEXISTENT') continue; // expunged meanwhile: COPY skips it
      return undo(found);
    }
    const body = await source.mailbox.reader.readAll(found.blob);
    const flags = allowed === null ? (found.flags ?? []) : permittedFlags(found.flags ?? [], allowed);
    const appended = await destination.mailbox.append({ name: destination.folder, message: body, flags, internalDate: found.internalDate ?? Date.now() });
    if (!appended.ok) return undo(appended);
    uidValidity = appended.uidValidity;
    sourceUids.push(uid);
    destUids.push(appended.uid);
  }
  if (request.move && sourceUids.length > 0) {
    const marked = await source.mailbox.store({ name: source.folder, uids: sourceUids, operation: 'add', flags: ['\\Deleted'] });
    if (!marked.ok) return undo(marked);
    const expunged = await source.mailbox.expunge(source.folder, sourceUids);
    if (!expunged.ok) return expunged;
  }
  return { ok: true, uidValidity, sourceUids, destUids, messages: [] };
}
