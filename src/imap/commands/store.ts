// STORE and UID STORE (RFC 3501 §6.4.6): +FLAGS/-FLAGS/FLAGS, .SILENT, and
// UNCHANGEDSINCE with the [MODIFIED] answer (RFC 7162 §3.1.3).
import { applyFlagUpdates, resolveSet, sequenceOf, sequenceSetOutOfRange } from '../view.js';
import { bad, commandOf, failed, no, ok, selectedFolder, SELECTED, type CommandSpec } from './command.js';

export const store: CommandSpec = {
  name: 'STORE',
  states: SELECTED,
  needsSelected: true,
  allowExpungeDuring: 'uid',
  async handle(ctx, command) {
    const cmd = commandOf(command, 'STORE');
    const folder = selectedFolder(ctx);
    if (!cmd.uid && sequenceSetOutOfRange(folder, cmd.sequence)) return bad('Invalid sequence number');
    if (folder.readOnly) return no('Mailbox is read-only', { code: 'READ-ONLY' });
    if (cmd.unchangedSince !== undefined) await ctx.enableCondstore();
    const uids = resolveSet(folder, cmd.sequence, cmd.uid).filter((uid) => !folder.vanishing.has(uid));
    const flags = cmd.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
    const name = cmd.uid ? 'UID STORE' : 'STORE';
    if (uids.length === 0) return ok(`${name} completed`);
    const reply = await ctx.mailbox().store({
      name: folder.name, uids, operation: cmd.operation, flags,
      ...(cmd.unchangedSince !== undefined ? { unchangedSince: Number(cmd.unchangedSince) } : {}),
    });
    if (!reply.ok) return failed(reply);
    applyFlagUpdates(folder, reply.updated, reply.highestModseq);
    await ctx.announceKeywords(reply.updated);
    const modified = new Set(reply.modified);
    const changed = new Set(reply.updated.map((m) => m.uid));
    for (const uid of uids) {
      if (modified.has(uid)) continue;
      // .SILENT hides the new flags; with CONDSTORE the new mod-sequence is still reported (RFC 7162 §3.1.3).
      if (cmd.silent && !(ctx.enabled.has('CONDSTORE') && changed.has(uid))) continue;
      const message = folder.messages.get(uid);
      if (message === undefined) continue;
      await ctx.send({ type: 'fetch', seq: sequenceOf(folder, uid), items: ctx.flagItems(folder, message) });
    }
    if (reply.modified.length === 0) return ok(`${name} completed`);
    const set = cmd.uid ? reply.modified : reply.modified.map((uid) => sequenceOf(folder, uid)).filter((seq) => seq > 0);
    return ok(`Conditional ${name} failed for some messages`, { code: 'MODIFIED', set: [...set].sort((a, b) => a - b) });
  },
};
