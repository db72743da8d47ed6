// CANCELUPDATE (RFC 5267 §4.3): the named SEARCH RETURN (UPDATE) searches stop being kept
// current; a tag that names none is fine (the search may have ended with its folder).
import { commandOf, ok, selectedFolder, SELECTED, type CommandSpec } from './command.js';

export const cancelupdate: CommandSpec = {
  name: 'CANCELUPDATE',
  states: SELECTED,
  needsSelected: true,
  async handle(ctx, command) {
    const { tags } = commandOf(command, 'CANCELUPDATE');
    const folder = selectedFolder(ctx);
    folder.searchUpdates = folder.searchUpdates.filter((update) => !tags.includes(update.tag));
    return ok('CANCELUPDATE completed');
  },
};
