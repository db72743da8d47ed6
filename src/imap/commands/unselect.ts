// UNSELECT (RFC 3691): leave the selected folder without expunging.
import { failed, ok, SELECTED, type CommandSpec } from './command.js';

export const unselect: CommandSpec = {
  name: 'UNSELECT',
  states: SELECTED,
  needsSelected: true,
  async handle(ctx) {
    const reply = await ctx.mailbox().unselect();
    ctx.unselect();
    return reply.ok ? ok('UNSELECT completed') : failed(reply);
  },
};
