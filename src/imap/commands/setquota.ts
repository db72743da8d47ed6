// SETQUOTA (RFC 9208 §4.3.3): quotas are set by the administrator, never by the user.
import { AUTHENTICATED, no, type CommandSpec } from './command.js';

export const setquota: CommandSpec = {
  name: 'SETQUOTA',
  states: AUTHENTICATED,
  async handle() {
    return no('Quotas are set by the administrator', { code: 'NOPERM' });
  },
};
