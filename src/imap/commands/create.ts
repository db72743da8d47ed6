// CREATE (RFC 3501 §6.3.3) with CREATE-SPECIAL-USE's USE attribute (RFC 6154);
// a trailing separator is dropped, missing parents are created by the mailbox actor.
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec } from './command.js';
import { invalidFolderName } from './delete.js';

export const create: CommandSpec = {
  name: 'CREATE',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox, specialUse } = commandOf(command, 'CREATE');
    const name = folderName(mailbox.endsWith('/') ? mailbox.slice(0, -1) : mailbox);
    if (name === 'INBOX') return no('INBOX already exists', { code: 'ALREADYEXISTS' });
    const problem = invalidFolderName(name);
    if (problem !== null) return no(problem, { code: 'CANNOT' });
    const use = specialUse?.[0] ?? null;
    const reply = await ctx.mailbox().createFolder(name, use);
    return reply.ok ? ok('CREATE completed') : failed(reply);
  },
};
