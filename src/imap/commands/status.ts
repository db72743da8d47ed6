// STATUS (RFC 3501 §6.3.10) with HIGHESTMODSEQ (RFC 7162), SIZE (RFC 8438), DELETED and
// APPENDLIMIT (RFC 7889: the same limit for every folder, the one in CAPABILITY). IMAP4rev2
// has no RECENT (RFC 9051 §6.3.11): asking for it after ENABLE IMAP4rev2 is BAD.
import type { StatusItem } from '../../protocols/imap/types.js';
import type { FolderInfo } from '../../mailbox/imap-messages.js';
import { mailboxObjectId } from '../object-ids.js';
import { AUTHENTICATED, bad, commandOf, failed, folderName, ok, type CommandSpec } from './command.js';

export const status: CommandSpec = {
  name: 'STATUS',
  states: AUTHENTICATED,
  async handle(ctx, command) {
    const { mailbox, items } = commandOf(command, 'STATUS');
    const name = folderName(mailbox);
    if (ctx.rev2 && items.includes('RECENT')) return bad('STATUS RECENT is not part of IMAP4rev2');
    if (items.includes('HIGHESTMODSEQ')) await ctx.enableCondstore();
    const reply = await ctx.mailbox().folderStatus(name);
    if (!reply.ok) return failed(reply);
    await ctx.send({ type: 'status', mailbox: name, items: statusItems(reply.folder, items, ctx.deps.limits.maxAppendSize) });
    return ok('STATUS completed');
  },
};

export function statusItems(folder: FolderInfo, items: StatusItem[], appendLimit: number): Array<[StatusItem, number | string]> {
  return items.map((item): [StatusItem, number | string] => [item, statusValue(folder, item, appendLimit)]);
}

function statusValue(folder: FolderInfo, item: StatusItem, appendLimit: number): number | string {
  switch (item) {
    case 'MESSAGES': return folder.messages;
    case 'RECENT': return folder.recent;
    case 'UIDNEXT': return folder.uidNext;
    case 'UIDVALIDITY': return folder.uidValidity;
    case 'UNSEEN': return folder.unseen;
    case 'HIGHESTMODSEQ': return folder.highestModseq;
    case 'SIZE': return folder.bytes;
    case 'DELETED': return folder.deleted;
    case 'APPENDLIMIT': return appendLimit;
    case 'MAILBOXID': return mailboxObjectId(folder);
  }
}
