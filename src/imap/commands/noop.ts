// NOOP (RFC 3501 §6.1.2): does nothing; the session reports pending folder events on completion.
import { ANY_STATE, ok, type CommandSpec } from './command.js';

export const noop: CommandSpec = {
  name: 'NOOP',
  states: ANY_STATE,
  async handle() {
    return ok('NOOP completed');
  },
};
