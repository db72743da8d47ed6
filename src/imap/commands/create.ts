// CREATE (RFC 3501 §6.3.3) with CREATE-SPECIAL-USE's USE attribute (RFC 6154);
// a trailing separator is dropped, missing parents are created by the mailbox actor.
// Under IMAP4rev2 a name the server spelled otherwise (`inbox/x` filed as `INBOX/x`) is
// announced with `* LIST ... ("OLDNAME" (...))` (RFC 9051 §6.3.4).
import { mailboxObjectId } from '../object-ids.js';
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec } from './command.js';
import { invalidFolderName } from './delete.js';
import { announceRespelled } from './list.js';

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
    if (!reply.ok) return failed(reply);
    await announceRespelled(ctx, name, mailbox);
    // OBJECTID (RFC 8474 §4): the new folder's MAILBOXID in the tagged OK.
    const created = await ctx.mailbox().folderStatus(name);
    return created.ok ? ok('CREATE completed', { code: 'MAILBOXID', id: mailboxObjectId(created.folder) }) : ok('CREATE completed');
  },
};
