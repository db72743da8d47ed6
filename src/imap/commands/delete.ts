// DELETE (RFC 3501 §6.3.4): the mailbox actor refuses INBOX; the folder's messages go with it.
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec } from './command.js';

export const deleteFolder: CommandSpec = {
  name: 'DELETE',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const name = folderName(commandOf(command, 'DELETE').mailbox);
    if (name === 'INBOX') return no('INBOX cannot be deleted', { code: 'CANNOT' });
    const reply = await ctx.mailbox().deleteFolder(name);
    if (reply.ok && ctx.selected?.name === name) ctx.unselect();
    return reply.ok ? ok('DELETE completed') : failed(reply);
  },
};

/** Why a folder name cannot be created, or null: empty levels, wildcards, control characters. */
export function invalidFolderName(name: string): string | null {
  if (name === '' || name.split('/').some((level) => level === '')) return 'Empty hierarchy level in mailbox name';
  if (/[*%]/.test(name)) return 'Mailbox names cannot contain * or %';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'Mailbox names cannot contain control characters';
  return null;
}
