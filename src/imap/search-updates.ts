// CONTEXT=SEARCH's UPDATE (RFC 5267 §4.3): after a command, and while IDLE, each search
// the client asked to keep current is evaluated again over the view and the difference
// sent as ESEARCH REMOVEFROM / ADDTO; messages about to be expunged leave the results
// first, while their sequence numbers still mean something. A search costs one pass
// over the view per command, so a session may keep only a few.
import type { ImapContext, SearchUpdate, SelectedFolder } from './commands/command.js';
import { searchFolder } from './search-matcher.js';
import { sequenceOf } from './view.js';

/** UPDATE searches one session may keep. */
export const MAX_SEARCH_UPDATES = 8;

/** Before `* EXPUNGE`/VANISHED: the expunged messages leave every kept result (REMOVEFROM). */
export async function removeExpungedFromUpdates(ctx: ImapContext, folder: SelectedFolder, uids: number[]): Promise<void> {
  const gone = new Set(uids);
  for (const update of folder.searchUpdates) {
    const removed = update.uids.filter((uid) => gone.has(uid));
    if (removed.length === 0) continue;
    const position = update.uids.indexOf(removed[0]!) + 1;
    update.uids = update.uids.filter((uid) => !gone.has(uid));
    await ctx.send({ type: 'esearch', tag: update.tag, uid: update.uid, removeFrom: { position, ids: idsOf(folder, update, removed) } });
  }
}

/** Evaluates every kept search again and reports what left (REMOVEFROM) and what joined (ADDTO). */
export async function refreshSearchUpdates(ctx: ImapContext, folder: SelectedFolder): Promise<void> {
  for (const update of folder.searchUpdates) {
    const now = (await searchFolder(folder, update.criteria, ctx.mailbox().reader)).map((m) => m.uid);
    const current = new Set(now);
    const before = new Set(update.uids);
    const removed = update.uids.filter((uid) => !current.has(uid));
    const added = now.filter((uid) => !before.has(uid));
    if (removed.length > 0) {
      const position = update.uids.indexOf(removed[0]!) + 1;
      await ctx.send({ type: 'esearch', tag: update.tag, uid: update.uid, removeFrom: { position, ids: idsOf(folder, update, removed) } });
    }
    update.uids = now;
    if (added.length > 0) {
      const position = now.indexOf(added[0]!) + 1;
      await ctx.send({ type: 'esearch', tag: update.tag, uid: update.uid, addTo: { position, ids: idsOf(folder, update, added) } });
    }
  }
}

function idsOf(folder: SelectedFolder, update: SearchUpdate, uids: number[]): number[] {
  return update.uid ? uids : uids.map((uid) => sequenceOf(folder, uid));
}

