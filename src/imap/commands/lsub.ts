// LSUB (RFC 3501 §6.3.9): subscribed folders matching the pattern.
import { FolderTree, patternMatcher } from './list.js';
import { AUTHENTICATED, commandOf, failed, ok, type CommandSpec } from './command.js';

export const lsub: CommandSpec = {
  name: 'LSUB',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { reference, pattern } = commandOf(command, 'LSUB');
    const reply = await ctx.mailbox().folders();
    if (!reply.ok) return failed(reply);
    const tree = new FolderTree(reply.folders);
    const matches = patternMatcher(reference, pattern);
    for (const name of tree.allNames()) {
      const folder = tree.byName.get(name);
      if (!folder?.subscribed || !matches(name)) continue;
      await ctx.send({ type: 'lsub', attributes: [], delimiter: '/', mailbox: name });
    }
    return ok('LSUB completed');
  },
};
