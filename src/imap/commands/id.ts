// ID (RFC 2971): the server's name and version; the client's parameters are only logged.
import { ANY_STATE, commandOf, ok, type CommandSpec } from './command.js';

export const id: CommandSpec = {
  name: 'ID',
  states: ANY_STATE,
  async handle(ctx, command) {
    const { parameters } = commandOf(command, 'ID');
    ctx.deps.log.debug({ client: parameters }, 'imap client id');
    await ctx.send({ type: 'id', parameters: [['name', 'ternmail'], ['vendor', 'ternmail']] });
    return ok('ID completed');
  },
};
