// GETQUOTA (RFC 9208 §4.3.1): only the root "" exists.
import { sendQuota } from './getquotaroot.js';
import { AUTHENTICATED, commandOf, no, type CommandSpec } from './command.js';

export const getquota: CommandSpec = {
  name: 'GETQUOTA',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { root } = commandOf(command, 'GETQUOTA');
    if (root !== '') return no('No such quota root', { code: 'NONEXISTENT' });
    return sendQuota(ctx, 'GETQUOTA');
  },
};
