// SEARCH and UID SEARCH (RFC 3501 §6.4.4) with ESEARCH RETURN (MIN MAX ALL COUNT) (RFC 4731),
// CONTEXT=SEARCH's PARTIAL and UPDATE (RFC 5267: kept current by search-updates.ts),
// SAVE into `$` (RFC 5182) and the MODSEQ answer (RFC 7162). CHARSET is checked by the parser;
// the number of keys is bounded (imapMaxSearchKeys), each costing a pass over every message.
// Under IMAP4rev2 a SEARCH without RETURN is answered as RETURN (ALL): ESEARCH (RFC 9051 §6.4.4).
import type { ImapResponse, SearchPartial, SearchReturnOption } from '../../protocols/imap/types.js';
import { MAX_SEARCH_UPDATES } from '../search-updates.js';
import { countSearchKeys, searchFolder, usesModseq, type SearchMatch } from '../search-matcher.js';
import { bad, commandOf, no, ok, selectedFolder, SELECTED, type CommandSpec, type ImapContext } from './command.js';

export const search: CommandSpec = {
  name: 'SEARCH',
  states: SELECTED,
  needsSelected: true,
  allowExpungeDuring: 'uid',
  async handle(ctx, command) {
    const cmd = commandOf(command, 'SEARCH');
    const folder = selectedFolder(ctx);
    const limit = ctx.deps.limits.maxSearchKeys;
    if (countSearchKeys(cmd.criteria) > limit) return bad(`Too many search keys (limit ${limit})`, { code: 'LIMIT' });
    const withModseq = usesModseq(cmd.criteria);
    if (withModseq) await ctx.enableCondstore();
    const matches = await searchFolder(folder, cmd.criteria, ctx.mailbox().reader);
    const ids = matches.map((m) => (cmd.uid ? m.uid : m.seq));
    const highest = withModseq && matches.length > 0 ? Math.max(...matches.map((m) => m.modseq)) : undefined;
    const verb = cmd.uid ? 'UID SEARCH' : 'SEARCH';
    if (cmd.returnOptions === undefined && !ctx.rev2) {
      await ctx.send({ type: 'search', ids, ...(highest !== undefined ? { modSeq: highest } : {}) });
      return ok(`${verb} completed`);
    }
    const returnOptions = cmd.returnOptions ?? [];
    if (returnOptions.includes('UPDATE')) {
      if (folder.searchUpdates.length >= MAX_SEARCH_UPDATES) return no(`At most ${MAX_SEARCH_UPDATES} searches kept up to date`, { code: 'LIMIT' });
      folder.searchUpdates.push({ tag: cmd.tag, uid: cmd.uid, criteria: cmd.criteria, uids: matches.map((m) => m.uid) });
    }
    await answerExtended(ctx, cmd.tag, cmd.uid, returnOptions, matches, ids, highest, cmd.partial);
    return ok(`${verb} completed`);
  },
};

async function answerExtended(
  ctx: ImapContext, tag: string, uid: boolean, options: SearchReturnOption[],
  matches: SearchMatch[], ids: number[], highest: number | undefined, partial: SearchPartial | undefined,
): Promise<void> {
  const wanted: SearchReturnOption[] = options.length === 0 && partial === undefined ? ['ALL'] : options;
  if (wanted.includes('SAVE')) saveResult(ctx, wanted, matches);
  const reported = wanted.filter((option) => option !== 'SAVE');
  // RETURN (UPDATE) alone still answers an (empty) ESEARCH: the client learns the tag is live.
  if (reported.length === 0 && partial === undefined) return;
  const response: Extract<ImapResponse, { type: 'esearch' }> = { type: 'esearch', tag, uid };
  if (partial !== undefined) {
    const slice = ids.slice(partial.low - 1, partial.high);
    response.partial = { low: partial.low, high: partial.high, ids: slice.length > 0 ? slice : null };
  }
  if (reported.includes('MIN') && ids.length > 0) response.min = Math.min(...ids);
  if (reported.includes('MAX') && ids.length > 0) response.max = Math.max(...ids);
  if (reported.includes('COUNT')) response.count = ids.length;
  if (reported.includes('ALL')) response.all = ids;
  if (highest !== undefined) response.modSeq = reportedModseq(reported, matches, highest);
  await ctx.send(response);
}

/**
 * RFC 4731 §3.2: with ALL or COUNT the highest mod-sequence of every match; with only MIN
 * and/or MAX, the highest of the messages those return.
 */
function reportedModseq(reported: SearchReturnOption[], matches: SearchMatch[], highest: number): number {
  if (reported.includes('ALL') || reported.includes('COUNT') || matches.length === 0) return highest;
  const returned: SearchMatch[] = [];
  if (reported.includes('MIN')) returned.push(matches[0]!);
  if (reported.includes('MAX')) returned.push(matches[matches.length - 1]!);
  return returned.length === 0 ? highest : Math.max(...returned.map((m) => m.modseq));
}

/** RFC 5182 §2.4: with MIN or MAX only those are saved, otherwise every match. */
function saveResult(ctx: ImapContext, options: SearchReturnOption[], matches: SearchMatch[]): void {
  const folder = selectedFolder(ctx);
  const uids = matches.map((m) => m.uid);
  if (!options.includes('MIN') && !options.includes('MAX')) {
    folder.savedUids = uids;
    return;
  }
  const saved = new Set<number>();
  if (options.includes('MIN') && uids.length > 0) saved.add(uids[0]!);
  if (options.includes('MAX') && uids.length > 0) saved.add(uids[uids.length - 1]!);
  folder.savedUids = [...saved].sort((a, b) => a - b);
}
