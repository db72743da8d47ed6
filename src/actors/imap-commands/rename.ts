// RENAME (RFC 3501 §6.3.5): children move along; renaming INBOX moves its messages.
import type { ImapDoneReply } from '../mailbox-imap-messages.js';
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec } from './command.js';
import { invalidFolderName } from './delete.js';

export const rename: CommandSpec = {
  name: 'RENAME',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'RENAME');
    const from = folderName(cmd.from);
    const to = folderName(cmd.to.endsWith('/') ? cmd.to.slice(0, -1) : cmd.to);
    if (to === 'INBOX') return no('INBOX already exists', { code: 'ALREADYEXISTS' });
    const problem = invalidFolderName(to);
    if (problem !== null) return no(problem, { code: 'CANNOT' });
    const reply = await ctx.ask<ImapDoneReply>((replyTo) => ({ type: 'folder-rename', from, to, replyTo }));
    return reply.ok ? ok('RENAME completed') : failed(reply);
  },
};
