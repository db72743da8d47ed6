// SEARCH evaluation (RFC 3501 §6.4.4, CONDSTORE MODSEQ): the criteria tree evaluated
// over the selected folder's view; header, body and Date keys read the message text
// (decoded as Dovecot does, see src/mime/search-text.ts) only when the tree needs it,
// once per message (imap-search-texts.ts), sharing the event loop during long searches.
import { sequenceSetContains } from '../protocols/imap/sequence-set.js';
import type { SearchKey, SequenceSet } from '../protocols/imap/types.js';
import type { MessageView } from '../mailbox/imap-messages.js';
import type { SelectedFolder } from './commands/command.js';
import { loadMessageContent, type MessageReader } from './fetch-items.js';
import { emailObjectId } from './object-ids.js';
import { dayNumber, MessageTexts, textQueryOf, type SearchContent } from './search-texts.js';

export interface SearchMatch {
  uid: number;
  seq: number;
  modseq: number;
}

interface Candidate {
  message: MessageView;
  seq: number;
  texts: MessageTexts | null;
}

/**
 * Lets other connections run during a long SEARCH: after each slice of work the command
 * waits for the next turn of the event loop (1000 keys over a 50 MB text are seconds of work).
 */
class EventLoopSlices {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs: number) {}

  async yieldIfDue(): Promise<void> {
    if (performance.now() - this.sliceStart < this.sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.sliceStart = performance.now();
  }
}

const SEARCH_SLICE_MS = 20;

/** Search keys in the tree, OR and NOT included; a parenthesised list is only its keys (imapMaxSearchKeys bounds it). */
export function countSearchKeys(key: SearchKey): number {
  switch (key.key) {
    case 'NOT': return 1 + countSearchKeys(key.operand);
    case 'OR': return 1 + countSearchKeys(key.left) + countSearchKeys(key.right);
    case 'AND': return key.operands.reduce((sum, operand) => sum + countSearchKeys(operand), 0);
    default: return 1;
  }
}

/** The messages matching `criteria`, in sequence order; messages expunged meanwhile never match. */
export async function searchFolder(folder: SelectedFolder, criteria: SearchKey, reader: MessageReader): Promise<SearchMatch[]> {
  if (matchesEverything(criteria)) return everyMessage(folder);
  const withContent = needsContent(criteria);
  const slices = new EventLoopSlices(SEARCH_SLICE_MS);
  const matches: SearchMatch[] = [];
  for (let index = 0; index < folder.uids.length; index++) {
    const uid = folder.uids[index]!;
    const message = folder.messages.get(uid);
    if (message === undefined || folder.vanishing.has(uid)) continue;
    const content = withContent ? await loadOrNull(reader, message.blob) : null;
    if (withContent && content === null) continue;
    const candidate = { message, seq: index + 1, texts: content === null ? null : new MessageTexts(content) };
    const matched = withContent ? await matchesContentKey(folder, candidate, criteria, slices) : matchesKey(folder, candidate, criteria);
    if (matched) matches.push({ uid, seq: index + 1, modseq: message.modseq });
  }
  return matches;
}

/** True for ALL, alone or as the only keys of a list: SORT and THREAD over a folder ask this most. */
function matchesEverything(key: SearchKey): boolean {
  if (key.key === 'ALL') return true;
  return key.key === 'AND' && key.operands.length > 0 && key.operands.every(matchesEverything);
}

/** Every message of the view not expunged meanwhile: ALL without evaluating a key per message. */
function everyMessage(folder: SelectedFolder): SearchMatch[] {
  const matches: SearchMatch[] = [];
  for (let index = 0; index < folder.uids.length; index++) {
    const uid = folder.uids[index]!;
    const message = folder.messages.get(uid);
    if (message === undefined || folder.vanishing.has(uid)) continue;
    matches.push({ uid, seq: index + 1, modseq: message.modseq });
  }
  return matches;
}

async function loadOrNull(reader: MessageReader, sha: string): Promise<SearchContent | null> {
  try {
    const content = await loadMessageContent(reader, sha, true);
    return content.raw === null ? null : { structure: content.structure, raw: content.raw };
  } catch (err) {
    // A body gone since the view was taken does not match; a read the user lost the right
    // to (IMAP ACL) ends the command in NO [NOPERM].
    if ((err as { imapCode?: unknown } | null)?.imapCode === 'NOPERM') throw err;
    return null;
  }
}

const CONTENT_KEYS = new Set(['BCC', 'BODY', 'CC', 'FROM', 'SUBJECT', 'TEXT', 'TO', 'HEADER', 'SENTBEFORE', 'SENTON', 'SENTSINCE']);

function needsContent(key: SearchKey): boolean {
  switch (key.key) {
    case 'NOT': return needsContent(key.operand);
    case 'OR': return needsContent(key.left) || needsContent(key.right);
    case 'AND': return key.operands.some(needsContent);
    default: return CONTENT_KEYS.has(key.key);
  }
}

/** True when the tree uses MODSEQ: the answer then carries the highest mod-sequence (RFC 7162 §3.1.5). */
export function usesModseq(key: SearchKey): boolean {
  switch (key.key) {
    case 'NOT': return usesModseq(key.operand);
    case 'OR': return usesModseq(key.left) || usesModseq(key.right);
    case 'AND': return key.operands.some(usesModseq);
    default: return key.key === 'MODSEQ';
  }
}

function hasFlag(message: MessageView, flag: string): boolean {
  const wanted = flag.toLowerCase();
  return message.flags.some((f) => f.toLowerCase() === wanted);
}

/**
 * The tree evaluated with the message text: like matchesKey (same short-circuits), but each
 * substring key may wait for the next turn of the event loop, so a long search shares the process.
 */
async function matchesContentKey(folder: SelectedFolder, candidate: Candidate, key: SearchKey, slices: EventLoopSlices): Promise<boolean> {
  switch (key.key) {
    case 'AND':
      for (const operand of key.operands) if (!(await matchesContentKey(folder, candidate, operand, slices))) return false;
      return true;
    case 'OR':
      return (await matchesContentKey(folder, candidate, key.left, slices)) || matchesContentKey(folder, candidate, key.right, slices);
    case 'NOT':
      return !(await matchesContentKey(folder, candidate, key.operand, slices));
    default: {
      await slices.yieldIfDue();
      return matchesKey(folder, candidate, key);
    }
  }
}

function matchesKey(folder: SelectedFolder, candidate: Candidate, key: SearchKey): boolean {
  const { message } = candidate;
  switch (key.key) {
    case 'AND': return key.operands.every((operand) => matchesKey(folder, candidate, operand));
    case 'OR': return matchesKey(folder, candidate, key.left) || matchesKey(folder, candidate, key.right);
    case 'NOT': return !matchesKey(folder, candidate, key.operand);
    case 'UID': return inSet(key.set, message.uid, lastUid(folder), folder.savedUids);
    case 'SEQUENCE': return inSet(key.set, candidate.seq, folder.uids.length, folder.savedUids.includes(message.uid) ? [candidate.seq] : []);
    case 'KEYWORD': return hasFlag(message, key.flag);
    case 'UNKEYWORD': return !hasFlag(message, key.flag);
    case 'LARGER': return message.size > key.size;
    case 'SMALLER': return message.size < key.size;
    case 'MODSEQ': return BigInt(message.modseq) >= key.modSeq;
    case 'EMAILID': return emailObjectId(message.blob) === key.id;
    // No thread ids are kept (THREADID NIL): none matches.
    case 'THREADID': return false;
    case 'BEFORE': return internalDay(message) < dayNumber(key.date);
    case 'ON': return internalDay(message) === dayNumber(key.date);
    case 'SINCE': return internalDay(message) >= dayNumber(key.date);
    case 'SAVEDBEFORE': return utcDay(message.savedAt) < dayNumber(key.date);
    case 'SAVEDON': return utcDay(message.savedAt) === dayNumber(key.date);
    case 'SAVEDSINCE': return utcDay(message.savedAt) >= dayNumber(key.date);
    case 'SENTBEFORE': return textsOf(candidate).sentDayNumber() < dayNumber(key.date);
    case 'SENTON': return textsOf(candidate).sentDayNumber() === dayNumber(key.date);
    case 'SENTSINCE': return textsOf(candidate).sentDayNumber() >= dayNumber(key.date);
    case 'HEADER': case 'BCC': case 'CC': case 'FROM': case 'SUBJECT': case 'TO': case 'BODY': case 'TEXT':
      return textsOf(candidate).answer(textQueryOf(key)!);
    default: return matchesFlagKey(folder, message, key.key);
  }
}

function matchesFlagKey(folder: SelectedFolder, message: MessageView, key: string): boolean {
  const recent = folder.recent.has(message.uid);
  switch (key) {
    case 'ALL': return true;
    case 'SAVEDATESUPPORTED': return true;
    case 'ANSWERED': return hasFlag(message, '\\Answered');
    case 'UNANSWERED': return !hasFlag(message, '\\Answered');
    case 'DELETED': return hasFlag(message, '\\Deleted');
    case 'UNDELETED': return !hasFlag(message, '\\Deleted');
    case 'DRAFT': return hasFlag(message, '\\Draft');
    case 'UNDRAFT': return !hasFlag(message, '\\Draft');
    case 'FLAGGED': return hasFlag(message, '\\Flagged');
    case 'UNFLAGGED': return !hasFlag(message, '\\Flagged');
    case 'SEEN': return hasFlag(message, '\\Seen');
    case 'UNSEEN': return !hasFlag(message, '\\Seen');
    case 'RECENT': return recent;
    case 'OLD': return !recent;
    case 'NEW': return recent && !hasFlag(message, '\\Seen');
    default: throw new Error(`unknown SEARCH key ${key}`);
  }
}

function textsOf(candidate: Candidate): MessageTexts {
  if (candidate.texts === null) throw new Error('SEARCH key needs the message content');
  return candidate.texts;
}

function inSet(set: SequenceSet, n: number, largest: number, saved: readonly number[]): boolean {
  if (set.kind === 'saved') return saved.includes(n);
  return sequenceSetContains(set, n, largest);
}

function lastUid(folder: SelectedFolder): number {
  return folder.uids.length > 0 ? folder.uids[folder.uids.length - 1]! : 0;
}

/** Internal dates compare by their UTC day. */
function internalDay(message: MessageView): number {
  return utcDay(message.internalDate);
}

function utcDay(millis: number): number {
  const date = new Date(millis);
  return dayNumber({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() });
}
