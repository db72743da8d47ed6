// What IMAP SORT and THREAD compare for one message (RFC 5256, RFC 5957), computed from its
// MIME structure and header bytes, and the compact row it is stored as beside the body.
// Bodies never change, so the keys are computed once, when a body is first stored (the
// blob store writes the row in the same batch as the body), and SORT or THREAD over a
// folder reads rows instead of parsing structures.
import { baseSubject } from './base-subject.js';
import { unfoldedValue } from './header-block.js';
import { decodeHeaderValue } from './search-text.js';
import { sentDateMs } from './sent-date.js';
import type { EnvelopeAddress, MessageStructure } from './types.js';

export interface SortKeys {
  /** The Date header's moment, or null (then the internal date stands in, RFC 5256 §2.2). */
  sentMs: number | null;
  /** The base subject, folded for comparing (i;ascii-casemap). */
  subject: string;
  replyOrForward: boolean;
  /** addr-mailbox of the first address, folded. */
  from: string;
  to: string;
  cc: string;
  /** RFC 5957: the first address's display name, or its addr-spec, folded. */
  displayFrom: string;
  displayTo: string;
  /** Message-ID and In-Reply-To as message ids (`<...>`), or null. */
  messageId: string | null;
  inReplyTo: string | null;
  /** The References header's message ids in order, the last ones kept (THREAD=REFERENCES). */
  references: string[];
}

/** Characters of a subject or address kept for comparing: beyond them, hostile headers only cost memory. */
const MAX_KEY_CHARS = 512;
/** References kept per message: the last ones (the parent is the last). */
const MAX_REFERENCES = 64;
/** Characters of References kept per message: a hostile header costs every cache entry little. */
const MAX_REFERENCE_CHARS = 4096;

/** How many leading bytes of the body `sortKeysOf` needs: none without a References field. */
export function sortKeyBytesNeeded(structure: MessageStructure): number {
  return referencesField(structure)?.end ?? 0;
}

/** The keys of a message; `head` holds at least its first `sortKeyBytesNeeded` bytes. */
export function sortKeysOf(structure: MessageStructure, head: Buffer): SortKeys {
  const envelope = structure.envelope;
  const subject = baseSubject(envelope.subject === null ? '' : decodeHeaderValue(envelope.subject.slice(0, 8 * MAX_KEY_CHARS)));
  const from = envelope.from?.[0] ?? null;
  const to = envelope.to?.[0] ?? null;
  const field = referencesField(structure);
  const references = field === undefined || head.length < field.end ? [] : messageIds(unfoldedValue(head, field));
  return {
    sentMs: envelope.date === null ? null : sentDateMs(envelope.date),
    subject: foldAscii(subject.text),
    replyOrForward: subject.replyOrForward,
    // The first address; a group's start marker (its name as mailbox, no domain) counts, as in Dovecot.
    from: foldAscii(from?.mailbox ?? ''),
    to: foldAscii(to?.mailbox ?? ''),
    cc: foldAscii(envelope.cc?.[0]?.mailbox ?? ''),
    displayFrom: foldAscii(displayName(from)),
    displayTo: foldAscii(displayName(to)),
    messageId: envelope.messageId === null ? null : capped(messageIds(envelope.messageId)[0]),
    inReplyTo: envelope.inReplyTo === null ? null : capped(messageIds(envelope.inReplyTo)[0]),
    references: lastReferences(references),
  };
}

/** The last ids, within MAX_REFERENCES ids and MAX_REFERENCE_CHARS characters (the parent is the last). */
function lastReferences(ids: string[]): string[] {
  const kept: string[] = [];
  let chars = 0;
  for (let i = ids.length - 1; i >= 0 && kept.length < MAX_REFERENCES; i--) {
    const id = ids[i]!.slice(0, MAX_KEY_CHARS);
    chars += id.length;
    if (chars > MAX_REFERENCE_CHARS) break;
    kept.push(id);
  }
  return kept.reverse();
}

function referencesField(structure: MessageStructure) {
  return structure.headers.find((f) => f.name === 'references');
}

/** The stored form: a positional array (msgpack keeps it a few dozen bytes over the strings). */
export type SortKeyRow = [number | null, string, boolean, string, string, string, string, string, string | null, string | null, string[]];

export function sortKeyRow(keys: SortKeys): SortKeyRow {
  return [
    keys.sentMs, keys.subject, keys.replyOrForward, keys.from, keys.to, keys.cc,
    keys.displayFrom, keys.displayTo, keys.messageId, keys.inReplyTo, keys.references,
  ];
}

/**
 * A stored row (from `offset` in `row`) back as keys; null when it is not one (written by
 * another version: computed again). Read field by field without building arrays or closures:
 * the first SORT after a start decodes a whole folder's rows at once, 10,000 or more.
 */
export function sortKeysFromRow(row: unknown, offset = 0): SortKeys | null {
  if (!Array.isArray(row) || row.length !== offset + 11) return null;
  const fields = row as unknown[];
  const sentMs = fields[offset];
  const replyOrForward = fields[offset + 2];
  const messageId = fields[offset + 8];
  const inReplyTo = fields[offset + 9];
  const references = fields[offset + 10];
  for (const i of STRING_FIELDS) if (typeof fields[offset + i] !== 'string') return null;
  if (typeof replyOrForward !== 'boolean') return null;
  if (!(sentMs === null || typeof sentMs === 'number') || !Array.isArray(references)) return null;
  if (!(messageId === null || typeof messageId === 'string') || !(inReplyTo === null || typeof inReplyTo === 'string')) return null;
  return {
    sentMs, subject: fields[offset + 1] as string, replyOrForward, from: fields[offset + 3] as string,
    to: fields[offset + 4] as string, cc: fields[offset + 5] as string, displayFrom: fields[offset + 6] as string,
    displayTo: fields[offset + 7] as string, messageId, inReplyTo, references: onlyStrings(references),
  };
}

/** Row positions of subject, from, to, cc, displayFrom, displayTo. */
const STRING_FIELDS = [1, 3, 4, 5, 6, 7] as const;

/** The array itself when it holds only strings (every row written by this version), else its strings. */
function onlyStrings(values: unknown[]): string[] {
  for (const value of values) {
    if (typeof value !== 'string') return values.filter((id): id is string => typeof id === 'string');
  }
  return values as string[];
}

/** RFC 5957 §2: the display name, else the addr-spec; a group is known by its name. */
function displayName(address: EnvelopeAddress | null): string {
  if (address === null) return '';
  if (address.domain === null) return address.mailbox ?? '';
  const name = address.name === null ? '' : decodeHeaderValue(address.name).trim();
  return name !== '' ? name : `${address.mailbox ?? ''}@${address.domain}`;
}

/** i;ascii-casemap: ASCII letters compare without case, everything else as is. */
export function foldAscii(text: string): string {
  return text.slice(0, MAX_KEY_CHARS).replace(/[a-z]+/g, (letters) => letters.toUpperCase());
}

function capped(id: string | undefined): string | null {
  return id === undefined ? null : id.slice(0, MAX_KEY_CHARS);
}

/** The `<...>` message ids of a header value, comments and spaces dropped. */
function messageIds(value: string): string[] {
  const ids: string[] = [];
  for (const match of value.replace(/\([^()]*\)/g, '').matchAll(/<([^<>\s]+)>/g)) ids.push(`<${match[1]}>`);
  return ids;
}
