// Messages this session added to its own selected folder (APPEND, COPY or MOVE into it):
// the mailbox sends no folder event for a session's own change, so the command puts them
// in the view and announces them before its tagged OK (RFC 3501 §6.3.11, §7.3.1), and
// the client can FETCH them by sequence number right away. The mailbox's answer also
// brings messages other sessions added meanwhile (`viewEnd`): their events are still
// queued behind the answer, and a view only grows at its end, in UID order.
import type { MessageView } from '../../mailbox/imap-messages.js';
import { selectedFolder, type ImapContext, type SelectedFolder } from './command.js';

/** The first UID the selected folder's view does not have yet (the `viewUidNext` of an APPEND or COPY). */
export function viewEnd(folder: SelectedFolder): number {
  return folder.uids.length > 0 ? folder.uids[folder.uids.length - 1]! + 1 : 1;
}

export async function showOwnAdditions(ctx: ImapContext, messages: MessageView[], recentUids: number[]): Promise<void> {
  const folder = selectedFolder(ctx);
  const fresh = messages.filter((m) => !folder.messages.has(m.uid)).sort((a, b) => a.uid - b.uid);
  if (fresh.length === 0) return;
  await ctx.announceKeywords(fresh);
  for (const message of fresh) {
    folder.uids.push(message.uid);
    folder.messages.set(message.uid, message);
    folder.uidNext = Math.max(folder.uidNext, message.uid + 1);
    folder.highestModseq = Math.max(folder.highestModseq, message.modseq);
    if (recentUids.includes(message.uid) && !ctx.rev2) folder.recent.add(message.uid);
  }
  await ctx.send({ type: 'exists', count: folder.uids.length });
  // RFC 9051 has no RECENT response.
  if (!ctx.rev2) await ctx.send({ type: 'recent', count: folder.recent.size });
}
