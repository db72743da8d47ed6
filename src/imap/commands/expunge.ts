// EXPUNGE and UID EXPUNGE (RFC 3501 §6.4.3, RFC 4315): remove \Deleted messages and
// report each with its sequence number at that moment (or VANISHED under QRESYNC).
import { resolveSet } from '../view.js';
import { commandOf, failed, no, ok, selectedFolder, SELECTED, type CommandSpec } from './command.js';

export const expunge: CommandSpec = {
  name: 'EXPUNGE',
  states: SELECTED,
  needsSelected: true,
  async handle(ctx, command) {
    const { uid, uids: set } = commandOf(command, 'EXPUNGE');
    const folder = selectedFolder(ctx);
    if (folder.readOnly) return no('Mailbox is read-only', { code: 'READ-ONLY' });
    await ctx.flushEvents(true);
    const uids = uid && set !== undefined ? resolveSet(folder, set, true) : undefined;
    if (uids !== undefined && uids.length === 0) return ok('UID EXPUNGE completed');
    const reply = await ctx.mailbox().expunge(folder.name, uids);
    if (!reply.ok) return failed(reply);
    folder.highestModseq = Math.max(folder.highestModseq, reply.highestModseq);
    await ctx.reportExpunged(reply.expunged);
    if (!ctx.enabled.has('CONDSTORE')) return ok('EXPUNGE completed');
    return ok('EXPUNGE completed', { code: 'HIGHESTMODSEQ', value: folder.highestModseq });
  },
};
