// RENAME (RFC 3501 §6.3.5): children move along; renaming INBOX moves its messages.
// When this session's selected folder (or an ancestor) is renamed, it stays selected
// under its new name: the folder keeps its UIDs and UIDVALIDITY.
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec, type ImapContext } from './command.js';
import { invalidFolderName } from './delete.js';
import { announceRespelled } from './list.js';

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
    const reply = await ctx.mailbox().renameFolder(from, to);
    if (!reply.ok) return failed(reply);
    if (from !== 'INBOX') await followSelection(ctx, from, to);
    await announceRespelled(ctx, to, cmd.to);
    return ok('RENAME completed');
  },
};

/** Re-selects the renamed selected folder under its new name (the mailbox actor dropped the old selection). */
async function followSelection(ctx: ImapContext, from: string, to: string): Promise<void> {
  const folder = ctx.selected;
  if (folder === null || (folder.name !== from && !folder.name.startsWith(`${from}/`))) return;
  const name = to + folder.name.slice(from.length);
  const reply = await ctx.mailbox().select(name, folder.readOnly);
  if (!reply.ok || reply.folder.uidValidity !== folder.uidValidity) {
    ctx.unselect();
    return;
  }
  folder.name = name;
}
