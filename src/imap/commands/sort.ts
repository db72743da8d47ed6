// SORT and UID SORT (RFC 5256, SORT=DISPLAY RFC 5957): SEARCH's matches in the order of
// the sort criteria, answered `* SORT` with sequence numbers or UIDs; with MODSEQ in the
// criteria the highest mod-sequence of the matches follows (RFC 7162 §3.1.5). ESORT
// (RFC 5267): `RETURN (...)` answers ESEARCH, MIN and MAX being the first and last in
// sort order and ALL the matches in sort order.
import type { ImapResponse } from '../../protocols/imap/types.js';
import { countSearchKeys, searchFolder, usesModseq } from '../search-matcher.js';
import { sortMatches } from '../sorting.js';
import { bad, commandOf, ok, selectedFolder, SELECTED, type CommandSpec } from './command.js';

export const sort: CommandSpec = {
  name: 'SORT',
  states: SELECTED,
  needsSelected: true,
  allowExpungeDuring: 'uid',
  async handle(ctx, command) {
    const cmd = commandOf(command, 'SORT');
    if (cmd.returnOptions?.includes('SAVE') || cmd.returnOptions?.includes('UPDATE')) return bad('SORT RETURN (SAVE/UPDATE) is not supported');
    const folder = selectedFolder(ctx);
    const limit = ctx.deps.limits.maxSearchKeys;
    if (countSearchKeys(cmd.search) > limit) return bad(`Too many search keys (limit ${limit})`, { code: 'LIMIT' });
    const withModseq = usesModseq(cmd.search);
    if (withModseq) await ctx.enableCondstore();
    const reader = ctx.mailbox().reader;
    const matches = await searchFolder(folder, cmd.search, reader);
    const sorted = await sortMatches(matches, folder, cmd.criteria, reader);
    const ids = sorted.map((m) => (cmd.uid ? m.uid : m.seq));
    const modSeq = withModseq && matches.length > 0 ? Math.max(...matches.map((m) => m.modseq)) : undefined;
    if (cmd.returnOptions === undefined) {
      await ctx.send({ type: 'sort', ids, ...(modSeq !== undefined ? { modSeq } : {}) });
    } else {
      const response: Extract<ImapResponse, { type: 'esearch' }> = { type: 'esearch', tag: cmd.tag, uid: cmd.uid };
      if (cmd.returnOptions.includes('MIN') && ids.length > 0) response.min = ids[0]!;
      if (cmd.returnOptions.includes('MAX') && ids.length > 0) response.max = ids[ids.length - 1]!;
      if (cmd.returnOptions.includes('COUNT')) response.count = ids.length;
      if (cmd.returnOptions.includes('ALL')) response.all = ids;
      if (modSeq !== undefined) response.modSeq = modSeq;
      await ctx.send(response);
    }
    return ok(`${cmd.uid ? 'UID SORT' : 'SORT'} completed`);
  },
};
