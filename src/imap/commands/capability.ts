// CAPABILITY (RFC 3501 §6.1.1): what this session can do now.
import { ANY_STATE, ok, type CommandSpec } from './command.js';

export const capability: CommandSpec = {
  name: 'CAPABILITY',
  states: ANY_STATE,
  async handle(ctx) {
    await ctx.send({ type: 'capability', capabilities: ctx.capabilities() });
    return ok('CAPABILITY completed');
  },
};
