// Messages this session added to its own selected folder (APPEND, COPY or MOVE into it):
// the mailbox sends no folder event for a session's own change, so the command puts them
// in the view and announces them before its tagged OK (RFC 3501 §6.3.11, §7.3.1), and
// the client can FETCH them by sequence number right away.
import type { MessageView } from '../../mailbox/imap-messages.js';
import { selectedFolder, type ImapContext } from './command.js';

export async function showOwnAdditions(ctx: ImapContext, messages: MessageView[], recent: boolean): Promise<void> {
  const folder = selectedFolder(ctx);
  const fresh = messages.filter((m) => !folder.messages.has(m.uid)).sort((a, b) => a.uid - b.uid);
  if (fresh.length === 0) return;
  await ctx.announceKeywords(fresh);
  for (const message of fresh) {
    folder.uids.push(message.uid);
    folder.messages.set(message.uid, message);
    folder.uidNext = Math.max(folder.uidNext, message.uid + 1);
    folder.highestModseq = Math.max(folder.highestModseq, message.modseq);
    if (recent) folder.recent.add(message.uid);
  }
  await ctx.send({ type: 'exists', count: folder.uids.length });
  await ctx.send({ type: 'recent', count: folder.recent.size });
}
