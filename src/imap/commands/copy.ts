// COPY and UID COPY (RFC 3501 §6.4.7, UIDPLUS COPYUID): the mailbox actor copies by
// reference; copies into the selected folder are added to the view (no event for our own).
import type { ImapCommand } from '../../protocols/imap/types.js';
import { resolveSet, sequenceSetOutOfRange } from '../view.js';
import { showOwnAdditions, viewEnd } from './own-additions.js';
import {
  bad, commandOf, failed, folderName, no, ok, selectedFolder, SELECTED,
  type CommandSpec, type Completion, type ImapContext,
} from './command.js';

export const copy: CommandSpec = {
  name: 'COPY',
  states: SELECTED,
  needsSelected: true,
  handle: (ctx, command) => copyMessages(ctx, command, false),
};

/** COPY and MOVE; MOVE reports COPYUID untagged, then the expunges (RFC 6851 §4.3). */
export async function copyMessages(ctx: ImapContext, command: ImapCommand, move: boolean): Promise<Completion> {
  const cmd = commandOf(command, 'COPY', 'MOVE');
  const folder = selectedFolder(ctx);
  const verb = `${cmd.uid ? 'UID ' : ''}${cmd.name}`;
  if (!cmd.uid && sequenceSetOutOfRange(folder, cmd.sequence)) return bad('Invalid sequence number');
  if (move && folder.readOnly) return no('Mailbox is read-only', { code: 'READ-ONLY' });
  const all = resolveSet(folder, cmd.sequence, cmd.uid);
  const uids = all.filter((uid) => !folder.vanishing.has(uid));
  if (uids.length < all.length) return no('Some messages were expunged by another session', { code: 'EXPUNGEISSUED' });
  if (uids.length === 0) return ok(`${verb} completed`);
  const to = folderName(cmd.mailbox);
  const intoSelected = to === folder.name;
  const reply = await ctx.mailbox().copy({ from: folder.name, to, uids, move, ...(intoSelected ? { viewUidNext: viewEnd(folder) } : {}) });
  if (!reply.ok) return failed(reply);
  const code = { code: 'COPYUID' as const, uidValidity: reply.uidValidity, sourceUids: reply.sourceUids, destinationUids: reply.destUids };
  if (!move) {
    if (intoSelected) await showOwnAdditions(ctx, reply.messages ?? [], []);
    return ok(`${verb} completed`, code);
  }
  // RFC 6851 §4.3: COPYUID, then the expunges; a move into the selected folder shows its new messages last.
  await ctx.send({ type: 'untagged', status: 'OK', code, text: 'Moved' });
  await ctx.reportExpunged(reply.sourceUids);
  if (intoSelected) await showOwnAdditions(ctx, reply.messages ?? [], []);
  return ok(`${verb} completed`);
}
