// SEARCH evaluation (RFC 3501 §6.4.4, CONDSTORE MODSEQ): the criteria tree evaluated
// over the selected folder's view; header, body and Date keys read the message text
// (decoded as Dovecot does, see store/mime/search-text.ts) only when the tree needs it,
// and each message's texts are decoded and case-folded once per command, however many keys read them.
import { bodyTexts, decodedHeaderValues, foldCase, fullTexts, hasHeader, sentDay } from '../store/mime/search-text.js';
import { sequenceSetContains } from '../protocols/imap/sequence-set.js';
import type { ImapDate, SearchKey, SequenceSet } from '../protocols/imap/types.js';
import type { MessageView } from './mailbox-imap-messages.js';
import type { SelectedFolder } from './imap-commands/command.js';
import { loadMessageContent, type MessageContent, type MessageReader } from './imap-fetch.js';

export interface SearchMatch {
  uid: number;
  seq: number;
  modseq: number;
}

interface SearchContent {
  structure: MessageContent['structure'];
  raw: Buffer;
}

interface Candidate {
  message: MessageView;
  seq: number;
  texts: MessageTexts | null;
}

/** A substring key (BODY, TEXT, a header key) as the text it searches and the string it looks for. */
interface TextQuery {
  source: 'body' | 'full' | 'header';
  /** Header field name for `header`; '' otherwise. */
  field: string;
  value: string;
}

function queryId(query: TextQuery): string {
  return `${query.source}\u0000${query.field}\u0000${query.value}`;
}

function textQueryOf(key: SearchKey): TextQuery | null {
  switch (key.key) {
    case 'BODY': return { source: 'body', field: '', value: key.value };
    case 'TEXT': return { source: 'full', field: '', value: key.value };
    case 'HEADER': return { source: 'header', field: key.field.toLowerCase(), value: key.value };
    case 'BCC': case 'CC': case 'FROM': case 'SUBJECT': case 'TO': return { source: 'header', field: key.key.toLowerCase(), value: key.value };
    default: return null;
  }
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

/** One message's searchable texts, decoded and case-folded on first use and then reused by every key. */
class MessageTexts {
  private body: string[] | undefined;
  private full: string[] | undefined;
  private sent: number | undefined;
  private readonly headers = new Map<string, string[]>();
  private readonly answers = new Map<string, boolean>();

  constructor(private readonly content: SearchContent) {}

  /** Whether the query's text contains its value (computed once, then remembered). */
  answer(query: TextQuery): boolean {
    const id = queryId(query);
    let found = this.answers.get(id);
    if (found === undefined) {
      found = this.contains(query);
      this.answers.set(id, found);
    }
    return found;
  }

  private contains(query: TextQuery): boolean {
    if (query.source === 'body') return anyContains(this.bodyTexts(), query.value);
    if (query.source === 'full') return anyContains(this.fullTexts(), query.value);
    // A `HEADER name ""` matches any message that has the field (RFC 3501 §6.4.4).
    const values = this.headerValues(query.field);
    return values.length > 0 && anyContains(values, query.value);
  }

  bodyTexts(): string[] {
    this.body ??= bodyTexts(this.content.raw, this.content.structure).map(foldCase);
    return this.body;
  }

  fullTexts(): string[] {
    this.full ??= fullTexts(this.content.raw, this.content.structure).map(foldCase);
    return this.full;
  }

  /** The decoded values of a top-level header field; empty when the field is absent. */
  headerValues(field: string): string[] {
    const name = field.toLowerCase();
    let values = this.headers.get(name);
    if (values === undefined) {
      const { raw, structure } = this.content;
      values = hasHeader(structure, name) ? decodedHeaderValues(raw, structure, name).map(foldCase) : [];
      this.headers.set(name, values);
    }
    return values;
  }

  /** The Date header's day; a missing or unparsable header counts as 1 Jan 1970 (as Dovecot). */
  sentDayNumber(): number {
    if (this.sent === undefined) {
      const day = sentDay(this.content.raw, this.content.structure);
      this.sent = day === null ? 19700101 : dayNumber(day);
    }
    return this.sent;
  }
}

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

async function loadOrNull(reader: MessageReader, sha: string): Promise<SearchContent | null> {
  try {
    const content = await loadMessageContent(reader, sha, true);
    return content.raw === null ? null : { structure: content.structure, raw: content.raw };
  } catch {
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
    case 'BEFORE': return internalDay(message) < dayNumber(key.date);
    case 'ON': return internalDay(message) === dayNumber(key.date);
    case 'SINCE': return internalDay(message) >= dayNumber(key.date);
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

/** Substring match over texts already case-folded (search-text.ts containsText's rule). */
function anyContains(foldedTexts: string[], needle: string): boolean {
  if (needle === '') return true;
  const folded = foldCase(needle);
  return foldedTexts.some((text) => text.includes(folded));
}

function inSet(set: SequenceSet, n: number, largest: number, saved: readonly number[]): boolean {
  if (set.kind === 'saved') return saved.includes(n);
  return sequenceSetContains(set, n, largest);
}

function lastUid(folder: SelectedFolder): number {
  return folder.uids.length > 0 ? folder.uids[folder.uids.length - 1]! : 0;
}

function dayNumber(date: ImapDate): number {
  return date.year * 10000 + date.month * 100 + date.day;
}

/** Internal dates compare by their UTC day. */
function internalDay(message: MessageView): number {
  const date = new Date(message.internalDate);
  return dayNumber({ year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() });
}
