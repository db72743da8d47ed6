// LSUB (RFC 3501 §6.3.9): subscribed names matching the pattern, whether or not the folder
// still exists; with `%`, an unsubscribed parent of a subscribed name is returned \Noselect.
import { FolderTree, patternMatcher } from './list.js';
import { AUTHENTICATED, commandOf, failed, ok, type CommandSpec } from './command.js';

export const lsub: CommandSpec = {
  name: 'LSUB',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { reference, pattern } = commandOf(command, 'LSUB');
    const reply = await ctx.mailbox().folders();
    if (!reply.ok) return failed(reply);
    if (pattern === null) return ok('LSUB completed');
    const tree = new FolderTree(reply.folders, reply.subscriptions);
    const matches = patternMatcher(reference, pattern);
    for (const name of tree.namesWithSubscriptions()) {
      if (!matches(name)) continue;
      if (tree.subscribed.has(name)) {
        await ctx.send({ type: 'lsub', attributes: [], delimiter: '/', mailbox: name });
      } else if (tree.subscribedDescendants(name).length > 0 && !tree.subscribedDescendants(name).some(matches)) {
        await ctx.send({ type: 'lsub', attributes: ['\\Noselect'], delimiter: '/', mailbox: name });
      }
    }
    return ok('LSUB completed');
  },
};
