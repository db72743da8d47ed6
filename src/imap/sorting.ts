// SORT's ordering (RFC 5256 §3, RFC 5957): the matches compared key by key, REVERSE
// turning one key around, and ties broken by sequence number as the RFC asks. The
// per-message keys come from sort-keys.ts (kept by body, read from the store's rows); ARRIVAL and SIZE need none.
import type { SortCriterion } from '../protocols/imap/types.js';
import type { MessageView } from '../mailbox/imap-messages.js';
import type { MessageReader } from './fetch-items.js';
import type { SearchMatch } from './search-matcher.js';
import { knownSortKeys, sortKeysOf, warmSortKeys, type SortKeys } from './sort-keys.js';

interface Sortable {
  match: SearchMatch;
  message: MessageView;
  keys: SortKeys | null;
}

const NEEDS_NO_KEYS = new Set(['ARRIVAL', 'SIZE']);

/** The folder sorted in: its messages, and its UIDVALIDITY that names its stored keys. */
export interface SortedFolder {
  messages: ReadonlyMap<number, MessageView>;
  uidValidity: number;
}

/** The matches in the order the criteria give. */
export async function sortMatches(
  matches: SearchMatch[], folder: SortedFolder, criteria: SortCriterion[], reader: MessageReader,
): Promise<SearchMatch[]> {
  const messages = folder.messages;
  const needsKeys = criteria.some((c) => !NEEDS_NO_KEYS.has(c.key));
  if (needsKeys) await warmFolderKeys(reader, folder);
  const items: Sortable[] = [];
  for (const match of matches) {
    const message = messages.get(match.uid);
    if (message === undefined) continue;
    // Known after the warm-up; awaiting 10,000 lookups would cost more than the sort.
    const keys = needsKeys ? (knownSortKeys(message.blob) ?? await keysOrNull(reader, message.blob)) : null;
    items.push({ match, message, keys });
  }
  items.sort((a, b) => compareItems(a, b, criteria));
  return items.map((item) => item.match);
}

/** Keys of the whole folder, whatever matched: a folder's keys are read (or kept) together. */
export function warmFolderKeys(reader: MessageReader, folder: SortedFolder): Promise<void> {
  return warmSortKeys(reader, [...folder.messages.values()].map((m) => m.blob), folder.uidValidity);
}

/** A body gone meanwhile (expunged by another session) sorts as a message with empty keys. */
export async function keysOrNull(reader: MessageReader, sha: string): Promise<SortKeys | null> {
  try {
    return await sortKeysOf(reader, sha);
  } catch {
    return null;
  }
}

function compareItems(a: Sortable, b: Sortable, criteria: SortCriterion[]): number {
  for (const criterion of criteria) {
    const order = compareBy(a, b, criterion.key);
    if (order !== 0) return criterion.reverse ? -order : order;
  }
  return a.match.seq - b.match.seq;
}

function compareBy(a: Sortable, b: Sortable, key: SortCriterion['key']): number {
  switch (key) {
    case 'ARRIVAL': return a.message.internalDate - b.message.internalDate;
    case 'SIZE': return a.message.size - b.message.size;
    case 'DATE': return sentOrArrival(a) - sentOrArrival(b);
    case 'SUBJECT': return compareText(a.keys?.subject, b.keys?.subject);
    case 'FROM': return compareText(a.keys?.from, b.keys?.from);
    case 'TO': return compareText(a.keys?.to, b.keys?.to);
    case 'CC': return compareText(a.keys?.cc, b.keys?.cc);
    case 'DISPLAYFROM': return compareText(a.keys?.displayFrom, b.keys?.displayFrom);
    case 'DISPLAYTO': return compareText(a.keys?.displayTo, b.keys?.displayTo);
  }
}

/** RFC 5256 §2.2: a missing or unparsable Date counts as the internal date. */
export function sentOrArrival(item: { message: MessageView; keys: SortKeys | null }): number {
  return item.keys?.sentMs ?? item.message.internalDate;
}

function compareText(a = '', b = ''): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
