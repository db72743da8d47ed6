// CLOSE (RFC 3501 §6.4.2): silently expunge \Deleted messages (read-write only), then unselect.
import { failed, ok, selectedFolder, SELECTED, type CommandSpec } from './command.js';

export const close: CommandSpec = {
  name: 'CLOSE',
  states: SELECTED,
  needsSelected: true,
  async handle(ctx) {
    const folder = selectedFolder(ctx);
    if (!folder.readOnly) {
      const expunged = await ctx.mailbox().expunge(folder.name);
      // A shared folder without the `e` right: CLOSE expunges nothing, silently (RFC 4314 §4).
      if (!expunged.ok && expunged.code !== 'NOPERM') return failed(expunged);
    }
    const reply = await ctx.mailbox().unselect();
    ctx.unselect();
    return reply.ok ? ok('CLOSE completed') : failed(reply);
  },
};
