// What SORT and THREAD compare for one message (RFC 5256, RFC 5957), taken from its stored
// structure once and kept by body hash: bodies never change, so the keys of a message
// seen before cost a map lookup, and sorting 10,000 messages is sorting, not parsing.
// The References list (THREAD=REFERENCES only) needs the header bytes and is kept apart.
import { baseSubject } from '../mime/base-subject.js';
import { unfoldedValue } from '../mime/header-block.js';
import { decodeHeaderValue } from '../mime/search-text.js';
import { sentDateMs } from '../mime/sent-date.js';
import type { EnvelopeAddress, MessageStructure } from '../mime/types.js';
import type { MessageReader } from './fetch-items.js';

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
}

/** Entries kept per cache: a few hundred bytes each, since every string below is capped. */
const MAX_ENTRIES = 100_000;
/** Characters of a subject or address kept for comparing: beyond them, hostile headers only cost memory. */
const MAX_KEY_CHARS = 512;
/** References kept per message: the last ones (the parent is the last). */
const MAX_REFERENCES = 64;
const keysByBlob = new Map<string, SortKeys>();
const referencesByBlob = new Map<string, string[]>();

/** The keys of the message stored as `sha`, from the cache or its structure. */
export async function sortKeysOf(reader: MessageReader, sha: string): Promise<SortKeys> {
  const cached = keysByBlob.get(sha);
  if (cached !== undefined) return cached;
  const keys = keysFromStructure(await reader.structure(sha));
  remember(keysByBlob, sha, keys);
  return keys;
}

/** The References header's message ids, in order (THREAD=REFERENCES). */
export async function referencesOf(reader: MessageReader, sha: string): Promise<string[]> {
  const cached = referencesByBlob.get(sha);
  if (cached !== undefined) return cached;
  const structure = await reader.structure(sha);
  const field = structure.headers.find((f) => f.name === 'references');
  const references = field === undefined ? [] : messageIds(unfoldedValue(await reader.readAll(sha), field)).slice(-MAX_REFERENCES);
  remember(referencesByBlob, sha, references);
  return references;
}

/**
 * Loads the keys (and References) of many bodies into the caches, a few reads at a time:
 * the store answers reads from its thread pool, so overlapping them costs a fraction of
 * reading one after another. A body gone meanwhile (expunged elsewhere) is skipped.
 */
export async function warmSortKeys(reader: MessageReader, shas: string[], withReferences: boolean): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < shas.length; i = next++) {
      const sha = shas[i]!;
      try {
        if (!keysByBlob.has(sha)) await sortKeysOf(reader, sha);
        if (withReferences && !referencesByBlob.has(sha)) await referencesOf(reader, sha);
      } catch {
        // Left out here; the caller meets the same error for this body and handles it.
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, shas.length) }, worker));
}

const PARALLEL_READS = 32;

function remember<T>(map: Map<string, T>, sha: string, value: T): void {
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  map.set(sha, value);
}

function keysFromStructure(structure: MessageStructure): SortKeys {
  const envelope = structure.envelope;
  const subject = baseSubject(envelope.subject === null ? '' : decodeHeaderValue(envelope.subject.slice(0, 8 * MAX_KEY_CHARS)));
  const from = firstAddress(envelope.from);
  const to = firstAddress(envelope.to);
  return {
    sentMs: envelope.date === null ? null : sentDateMs(envelope.date),
    subject: foldAscii(subject.text),
    replyOrForward: subject.replyOrForward,
    from: foldAscii(from?.mailbox ?? ''),
    to: foldAscii(to?.mailbox ?? ''),
    cc: foldAscii(firstAddress(envelope.cc)?.mailbox ?? ''),
    displayFrom: foldAscii(displayName(from)),
    displayTo: foldAscii(displayName(to)),
    messageId: envelope.messageId === null ? null : capped(messageIds(envelope.messageId)[0]),
    inReplyTo: envelope.inReplyTo === null ? null : capped(messageIds(envelope.inReplyTo)[0]),
  };
}

/** The first address; a group's start marker (its name as mailbox, no domain) counts, as in Dovecot. */
function firstAddress(list: EnvelopeAddress[] | null): EnvelopeAddress | null {
  return list?.[0] ?? null;
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
