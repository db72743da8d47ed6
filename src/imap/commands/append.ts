// APPEND (RFC 3501 §6.3.11, UIDPLUS APPENDUID) and MULTIAPPEND (RFC 3502): the literals go
// to the backend, which stores them and files them in the folder (quota checked there:
// OVERQUOTA; missing folder: TRYCREATE; another node's mailbox gets a single message's
// bytes through the cluster layer). Several messages are filed in one batch, or none.
import { dateTimeToDate } from '../../protocols/imap/dates.js';
import type { AppendMessage } from '../../protocols/imap/types.js';
import { showOwnAdditions, viewEnd } from './own-additions.js';
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec, type Completion, type ImapContext } from './command.js';

export const append: CommandSpec = {
  name: 'APPEND',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'APPEND');
    const all = [cmd, ...(cmd.more ?? [])];
    if (all.some((m) => m.message.length === 0)) return no('Empty message');
    const name = folderName(cmd.mailbox);
    const messages = all.map(asRequest);
    const selected = ctx.selected?.name === name ? ctx.selected : null;
    const viewUidNext = selected !== null ? viewEnd(selected) : undefined;
    if (messages.length > 1) return appendMany(ctx, name, messages, viewUidNext);
    const reply = await ctx.mailbox().append({ name, ...messages[0]!, ...(viewUidNext !== undefined ? { viewUidNext } : {}) });
    if (!reply.ok) return failed(reply);
    if (selected !== null && ctx.selected === selected) await showOwnAdditions(ctx, reply.messages, reply.recent ? [reply.uid] : []);
    return ok('APPEND completed', { code: 'APPENDUID', uidValidity: reply.uidValidity, uids: [reply.uid] });
  },
};

function asRequest(message: AppendMessage): { message: Buffer; flags: string[]; internalDate: number } {
  const flags = message.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
  const internalDate = message.internalDate ? dateTimeToDate(message.internalDate).getTime() : Date.now();
  return { message: message.message, flags, internalDate };
}

async function appendMany(
  ctx: ImapContext, name: string, messages: ReturnType<typeof asRequest>[], viewUidNext: number | undefined,
): Promise<Completion> {
  const selected = ctx.selected;
  const reply = await ctx.mailbox().appendMany(name, messages, viewUidNext);
  if (!reply.ok) return failed(reply);
  if (viewUidNext !== undefined && ctx.selected === selected) await showOwnAdditions(ctx, reply.messages, reply.recentUids);
  return ok('APPEND completed', { code: 'APPENDUID', uidValidity: reply.uidValidity, uids: reply.uids });
}
