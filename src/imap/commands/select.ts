// SELECT (RFC 3501 §6.3.1) with CONDSTORE and QRESYNC parameters (RFC 7162): the folder's
// state, then, for QRESYNC, VANISHED (EARLIER) and the flags changed since the client's modseq.
// Under IMAP4rev2 (RFC 9051 §6.3.2) the answer has no RECENT and no UNSEEN code, and a LIST.
import { fetchFlags, fetchModSeq, fetchNumber } from '../../protocols/imap/writer.js';
import { normalizeRanges, sequenceSetContains } from '../../protocols/imap/sequence-set.js';
import type { ImapCommand, QresyncParameters } from '../../protocols/imap/types.js';
import { newSelectedFolder, permanentFlags, sequenceOf, visibleFlags } from '../view.js';
import { folderListResponse } from './list.js';
import {
  AUTHENTICATED, bad, commandOf, failed, folderName, ok,
  type CommandSpec, type Completion, type ImapContext, type SelectedFolder,
} from './command.js';

export const select: CommandSpec = {
  name: 'SELECT',
  states: AUTHENTICATED,
  handle: (ctx, command) => selectFolder(ctx, command, false),
};

/** SELECT and EXAMINE: the same answer, EXAMINE read-only. */
export async function selectFolder(ctx: ImapContext, command: ImapCommand, readOnly: boolean): Promise<Completion> {
  const { mailbox, condstore, qresync } = commandOf(command, 'SELECT', 'EXAMINE');
  if (qresync !== undefined && !ctx.enabled.has('QRESYNC')) return bad('QRESYNC must be enabled first');
  if (ctx.selected !== null) await leaveSelected(ctx);
  const name = folderName(mailbox);
  const reply = await ctx.mailbox().select(name, readOnly, !ctx.rev2);
  if (!reply.ok) return failed(reply);
  if (condstore || qresync !== undefined) ctx.enabled.add('CONDSTORE');
  // EXAMINE reports the \Recent messages too; it only leaves them \Recent for the next SELECT (RFC 3501 §6.3.2).
  // A shared folder the user may not change is read-only whatever the command (RFC 4314 §4).
  const folder = newSelectedFolder(name, readOnly || reply.readOnly === true, reply.folder, reply.messages, ctx.rev2 ? [] : reply.recentUids);
  if (reply.folder.name !== name) folder.sourceName = reply.folder.name;
  if (reply.flagRights !== undefined) folder.flagRights = reply.flagRights;
  ctx.select(folder);
  await announce(ctx, folder);
  if (qresync !== undefined && qresync.uidValidity === folder.uidValidity) await resynchronize(ctx, folder, qresync);
  return ok(`${readOnly ? 'EXAMINE' : 'SELECT'} completed`, { code: folder.readOnly ? 'READ-ONLY' : 'READ-WRITE' });
}

/** Unselects the current folder before another SELECT; `[CLOSED]` tells a QRESYNC client where the old one ends. */
async function leaveSelected(ctx: ImapContext): Promise<void> {
  await ctx.mailbox().unselect();
  ctx.unselect();
  await ctx.send({ type: 'untagged', status: 'OK', code: { code: 'CLOSED' }, text: 'Previous mailbox closed' });
}

async function announce(ctx: ImapContext, folder: SelectedFolder): Promise<void> {
  const flags = folder.flagList;
  await ctx.send({ type: 'flags', flags });
  await ctx.send({ type: 'untagged', status: 'OK', code: { code: 'PERMANENTFLAGS', flags: permanentFlags(folder) }, text: 'Flags permitted' });
  await ctx.send({ type: 'exists', count: folder.uids.length });
  if (ctx.rev2) {
    // RFC 9051 §6.3.2: LIST with the folder's attributes replaces RECENT and OK [UNSEEN].
    const listed = await folderListResponse(ctx, folder.name);
    if (listed !== null) await ctx.send(listed);
  } else {
    await announceRecentAndUnseen(ctx, folder);
  }
  await ctx.send({ type: 'untagged', status: 'OK', code: { code: 'UIDVALIDITY', value: folder.uidValidity }, text: 'UIDs valid' });
  await ctx.send({ type: 'untagged', status: 'OK', code: { code: 'UIDNEXT', value: folder.uidNext }, text: 'Predicted next UID' });
  await ctx.send({ type: 'untagged', status: 'OK', code: { code: 'HIGHESTMODSEQ', value: folder.highestModseq }, text: 'Highest' });
}

async function announceRecentAndUnseen(ctx: ImapContext, folder: SelectedFolder): Promise<void> {
  await ctx.send({ type: 'recent', count: folder.recent.size });
  const firstUnseen = folder.uids.findIndex((uid) => !folder.messages.get(uid)!.flags.includes('\\Seen'));
  if (firstUnseen >= 0) {
    await ctx.send({ type: 'untagged', status: 'OK', code: { code: 'UNSEEN', value: firstUnseen + 1 }, text: 'First unseen' });
  }
}

/** QRESYNC (RFC 7162 §3.2.5): what vanished and what changed since the client's mod-sequence. */
async function resynchronize(ctx: ImapContext, folder: SelectedFolder, qresync: QresyncParameters): Promise<void> {
  const since = Number(qresync.modSeq);
  const vanished = await vanishedSince(ctx, folder, since, qresync);
  if (vanished.length > 0) await ctx.send({ type: 'vanished', earlier: true, uids: vanished });
  for (const uid of folder.uids) {
    const message = folder.messages.get(uid)!;
    if (message.modseq <= since) continue;
    const items = [fetchNumber('UID', uid), fetchFlags(visibleFlags(folder, message)), fetchModSeq(message.modseq)];
    await ctx.send({ type: 'fetch', seq: sequenceOf(folder, uid), items });
  }
}

/** UIDs expunged since `since`, limited to the client's known UIDs when it sent them. */
export async function vanishedSince(
  ctx: ImapContext, folder: SelectedFolder, since: number, qresync: { knownUids?: QresyncParameters['knownUids'] },
): Promise<number[]> {
  const largest = folder.uidNext - 1;
  const known = qresync.knownUids;
  const reply = await ctx.mailbox().vanished(folder.name, since);
  if (reply.ok) {
    const uids = [...reply.uids].sort((a, b) => a - b);
    return known === undefined ? uids : uids.filter((uid) => sequenceSetContains(known, uid, largest));
  }
  // Without expunge records every UID the client may know and we do not have is reported (RFC 7162 allows extras).
  const ranges = known !== undefined && known.kind === 'ranges' ? normalizeRanges(known.ranges, largest) : [[1, largest] as [number, number]];
  const out: number[] = [];
  for (const [low, high] of ranges) {
    for (let uid = low; uid <= Math.min(high, largest); uid++) if (!folder.messages.has(uid)) out.push(uid);
  }
  return out;
}
