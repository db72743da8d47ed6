// LOGOUT (RFC 3501 §6.1.3): BYE, the tagged OK, then the connection closes.
import { ANY_STATE, ok, type CommandSpec } from './command.js';

export const logout: CommandSpec = {
  name: 'LOGOUT',
  states: ANY_STATE,
  reportsChanges: false,
  async handle(ctx) {
    await ctx.send({ type: 'untagged', status: 'BYE', text: 'Logging out' });
    return { ...ok('LOGOUT completed'), after: () => ctx.close() };
  },
};
