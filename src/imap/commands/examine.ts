// EXAMINE (RFC 3501 §6.3.2): SELECT, read-only.
import { selectFolder } from './select.js';
import { AUTHENTICATED, type CommandSpec } from './command.js';

export const examine: CommandSpec = {
  name: 'EXAMINE',
  states: AUTHENTICATED,
  handle: (ctx, command) => selectFolder(ctx, command, true),
};
