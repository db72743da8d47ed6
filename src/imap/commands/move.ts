// MOVE and UID MOVE (RFC 6851): COPY plus expunge of the sources, atomically in the mailbox actor.
import { copyMessages } from './copy.js';
import { SELECTED, type CommandSpec } from './command.js';

export const move: CommandSpec = {
  name: 'MOVE',
  states: SELECTED,
  needsSelected: true,
  handle: (ctx, command) => copyMessages(ctx, command, true),
};
