// APPEND (RFC 3501 §6.3.11, UIDPLUS APPENDUID): the literal goes to the backend, which
// stores it and files it in the folder (quota checked there: OVERQUOTA; missing folder:
// TRYCREATE; another node's mailbox gets the bytes through the cluster layer).
import { dateTimeToDate } from '../../protocols/imap/dates.js';
import { showOwnAdditions, viewEnd } from './own-additions.js';
import { AUTHENTICATED, commandOf, failed, folderName, no, ok, type CommandSpec } from './command.js';

export const append: CommandSpec = {
  name: 'APPEND',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const cmd = commandOf(command, 'APPEND');
    if (cmd.message.length === 0) return no('Empty message');
    const name = folderName(cmd.mailbox);
    const flags = cmd.flags.filter((flag) => flag.toLowerCase() !== '\\recent');
    const internalDate = cmd.internalDate ? dateTimeToDate(cmd.internalDate).getTime() : Date.now();
    const selected = ctx.selected?.name === name ? ctx.selected : null;
    const reply = await ctx.mailbox().append({
      name, message: cmd.message, flags, internalDate, ...(selected !== null ? { viewUidNext: viewEnd(selected) } : {}),
    });
    if (!reply.ok) return failed(reply);
    if (selected !== null && ctx.selected === selected) await showOwnAdditions(ctx, reply.messages, reply.recent ? [reply.uid] : []);
    return ok('APPEND completed', { code: 'APPENDUID', uidValidity: reply.uidValidity, uids: [reply.uid] });
  },
};
