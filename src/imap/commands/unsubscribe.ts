// UNSUBSCRIBE (RFC 3501 §6.3.7).
import { setSubscribed } from './subscribe.js';
import { AUTHENTICATED, type CommandSpec } from './command.js';

export const unsubscribe: CommandSpec = {
  name: 'UNSUBSCRIBE',
  states: AUTHENTICATED,
  handle: (ctx, command) => setSubscribed(ctx, command, false),
};
