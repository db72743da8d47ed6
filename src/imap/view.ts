// The selected folder's view as the client knows it: sequence number ↔ UID mapping
// (UIDs ascending, `uids[seq - 1]`), sequence-set resolution, and the flag list a
// SELECT announces. Pure functions over SelectedFolder; no I/O.
import { expandSequenceNumbers, expandUids, type SequenceSet } from '../protocols/imap/sequence-set.js';
import type { MessageView } from '../mailbox/imap-messages.js';
import { permittedFlags } from '../mailbox/acl.js';
import type { SelectedFolder } from './commands/command.js';

export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** The message's sequence number, or 0 when the UID is not in the view. */
export function sequenceOf(folder: SelectedFolder, uid: number): number {
  let low = 0;
  let high = folder.uids.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const value = folder.uids[middle]!;
    if (value === uid) return middle + 1;
    if (value < uid) low = middle + 1;
    else high = middle - 1;
  }
  return 0;
}

/** UIDs (ascending) a command's sequence set names, by sequence numbers or by UIDs. */
export function resolveSet(folder: SelectedFolder, set: SequenceSet, byUid: boolean): number[] {
  if (byUid) return expandUids(set, folder.uids, folder.savedUids);
  const savedSeqs = folder.savedUids.map((uid) => sequenceOf(folder, uid)).filter((seq) => seq > 0);
  return expandSequenceNumbers(set, folder.uids.length, savedSeqs).map((seq) => folder.uids[seq - 1]!);
}

/** True when a sequence set (not UID) names numbers beyond the message count: RFC 3501 BAD. */
export function sequenceSetOutOfRange(folder: SelectedFolder, set: SequenceSet): boolean {
  if (set.kind === 'saved') return false;
  return set.ranges.some((range) => [range.from, range.to].some((bound) => bound !== '*' && bound > folder.uids.length));
}

/** Flags as the client sees them: stored flags plus \Recent for this session. */
export function visibleFlags(folder: SelectedFolder, message: MessageView): string[] {
  return folder.recent.has(message.uid) ? [...message.flags, '\\Recent'] : message.flags;
}

/** PERMANENTFLAGS: none read-only; in a shared folder only the flags the user's rights let them change. */
export function permanentFlags(folder: SelectedFolder): string[] {
  if (folder.readOnly) return [];
  const rights = folder.flagRights;
  if (rights === undefined) return [...folder.flagList, '\\*'];
  return [...permittedFlags(folder.flagList, rights), ...(rights.others ? ['\\*'] : [])];
}

/** System flags and every keyword in use, for `* FLAGS` and PERMANENTFLAGS. */
export function flagsInUse(messages: Iterable<MessageView>): string[] {
  const keywords = new Set<string>();
  for (const message of messages) for (const flag of message.flags) if (flag.charCodeAt(0) !== 0x5c) keywords.add(flag);
  return [...SYSTEM_FLAGS, ...[...keywords].sort()];
}

export function newSelectedFolder(
  name: string, readOnly: boolean, info: { uidValidity: number; uidNext: number; highestModseq: number },
  messages: MessageView[], recentUids: number[],
): SelectedFolder {
  const sorted = inUidOrder(messages) ? messages : [...messages].sort((a, b) => a.uid - b.uid);
  // One pass, no [uid, view] pair per message: SELECT of a 480-message folder runs this per session.
  const uids = new Array<number>(sorted.length);
  const byUid = new Map<number, MessageView>();
  for (let i = 0; i < sorted.length; i++) {
    const message = sorted[i]!;
    uids[i] = message.uid;
    byUid.set(message.uid, message);
  }
  return {
    name, readOnly, uidValidity: info.uidValidity, uidNext: info.uidNext, highestModseq: info.highestModseq,
    uids, messages: byUid,
    recent: new Set(recentUids), vanishing: new Set(), savedUids: [], flagList: flagsInUse(sorted), searchUpdates: [],
  };
}

/** True when the views are in ascending UID order already (the mailbox actor keeps a folder's messages so). */
function inUidOrder(messages: readonly MessageView[]): boolean {
  for (let i = 1; i < messages.length; i++) if (messages[i - 1]!.uid >= messages[i]!.uid) return false;
  return true;
}

/** Our own flag changes (the mailbox actor sends no event for them) applied to the view. */
export function applyFlagUpdates(folder: SelectedFolder, updated: MessageView[], highestModseq: number): void {
  for (const update of updated) {
    const known = folder.messages.get(update.uid);
    if (known === undefined) continue;
    folder.messages.set(update.uid, { ...known, flags: update.flags, modseq: update.modseq });
  }
  folder.highestModseq = Math.max(folder.highestModseq, highestModseq);
}

/** Keywords of these messages that the client has not been told about in `* FLAGS`. */
export function unannouncedKeywords(folder: SelectedFolder, messages: readonly MessageView[]): string[] {
  const known = new Set(folder.flagList);
  const fresh = new Set<string>();
  for (const message of messages) for (const flag of message.flags) if (!known.has(flag)) fresh.add(flag);
  return [...fresh];
}
