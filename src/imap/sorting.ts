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

/** One criterion's value for every item, read once before sorting: numbers or folded text. */
interface Column {
  reverse: boolean;
  numbers: Float64Array | null;
  texts: string[] | null;
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
  return sortedByColumns(items, criteria);
}

/**
 * The items' matches in criteria order: each criterion's values taken out once (not in
 * every comparison), then positions sorted. Ties go by sequence number, so the order is
 * fully determined.
 */
function sortedByColumns(items: Sortable[], criteria: SortCriterion[]): SearchMatch[] {
  const columns = criteria.map((criterion) => columnOf(items, criterion));
  const seqs = new Float64Array(items.length);
  const order = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) {
    seqs[i] = items[i]!.match.seq;
    order[i] = i;
  }
  order.sort((a, b) => {
    for (const column of columns) {
      const result = column.numbers !== null ? column.numbers[a]! - column.numbers[b]! : compareText(column.texts![a], column.texts![b]);
      if (result !== 0) return column.reverse ? -result : result;
    }
    return seqs[a]! - seqs[b]!;
  });
  return order.map((i) => items[i]!.match);
}

function columnOf(items: Sortable[], criterion: SortCriterion): Column {
  const numeric = NUMERIC_KEYS.has(criterion.key);
  const numbers = numeric ? new Float64Array(items.length) : null;
  const texts = numeric ? null : new Array<string>(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    if (numbers !== null) numbers[i] = numberOf(item, criterion.key);
    else texts![i] = textOf(item.keys, criterion.key);
  }
  return { reverse: criterion.reverse, numbers, texts };
}

const NUMERIC_KEYS = new Set(['ARRIVAL', 'SIZE', 'DATE']);

function numberOf(item: Sortable, key: SortCriterion['key']): number {
  if (key === 'ARRIVAL') return item.message.internalDate;
  if (key === 'SIZE') return item.message.size;
  return sentOrArrival(item);
}

function textOf(keys: SortKeys | null, key: SortCriterion['key']): string {
  if (keys === null) return '';
  switch (key) {
    case 'SUBJECT': return keys.subject ?? '';
    case 'FROM': return keys.from ?? '';
    case 'TO': return keys.to ?? '';
    case 'CC': return keys.cc ?? '';
    case 'DISPLAYFROM': return keys.displayFrom ?? '';
    case 'DISPLAYTO': return keys.displayTo ?? '';
    default: return '';
  }
}

/** Keys of the whole folder, whatever matched: a folder's keys are read (or kept) together. */
export function warmFolderKeys(reader: MessageReader, folder: SortedFolder): Promise<void> {
  const shas: string[] = [];
  for (const message of folder.messages.values()) shas.push(message.blob);
  return warmSortKeys(reader, shas, folder.uidValidity);
}

/** A body gone meanwhile (expunged by another session) sorts as a message with empty keys. */
export async function keysOrNull(reader: MessageReader, sha: string): Promise<SortKeys | null> {
  try {
    return await sortKeysOf(reader, sha);
  } catch {
    return null;
  }
}

/** RFC 5256 §2.2: a missing or unparsable Date counts as the internal date. */
export function sentOrArrival(item: { message: MessageView; keys: SortKeys | null }): number {
  return item.keys?.sentMs ?? item.message.internalDate;
}

function compareText(a = '', b = ''): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
