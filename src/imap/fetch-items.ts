// FETCH rendering: one message's requested items as `* n FETCH (...)` items, from its
// MessageView (flags, dates, size, modseq) and, only when an item needs them, the body
// bytes and MIME structure read from the blob store.
import type { MessageStructure } from '../mime/types.js';
import type { SortKeys } from '../mime/sort-keys.js';
import { renderBodyStructure, renderEnvelope } from '../protocols/imap/render-structure.js';
import { cutPartial, extractBinary, extractRfc822, extractSection } from '../protocols/imap/sections.js';
import {
  fetchBinarySection, fetchBinarySize, fetchBodySection, fetchFlags, fetchInternalDate, fetchLiteral, fetchModSeq, fetchNumber, fetchRendered,
} from '../protocols/imap/writer.js';
import type { FetchItem, FetchResponseItem } from '../protocols/imap/types.js';
import type { MessageView } from '../mailbox/imap-messages.js';
import { emailObjectId } from './object-ids.js';

/** Where message bodies and their MIME structures come from (the blob store, or later the owning node). */
export interface MessageReader {
  readAll(sha: string): Promise<Buffer>;
  structure(sha: string): Promise<MessageStructure>;
  /**
   * SORT/THREAD keys of many bodies (of the folder with `uidValidity`) in one read, null where
   * not stored; absent: computed from structures.
   */
  sortKeys?(shas: string[], uidValidity?: number): Promise<Array<SortKeys | null>>;
}

/** A stored message's parsed structure, and its bytes when an item needs them. */
export interface MessageContent {
  structure: MessageStructure;
  raw: Buffer | null;
}

export async function loadMessageContent(reader: MessageReader, sha: string, withRaw: boolean): Promise<MessageContent> {
  const [structure, raw] = await Promise.all([reader.structure(sha), withRaw ? reader.readAll(sha) : null]);
  return { structure, raw };
}

export type RenderedItem = 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE';

/**
 * ENVELOPE, BODY and BODYSTRUCTURE of a body never change: rendered once, they are
 * kept (within a byte budget, least recently used out) so that `UID FETCH 1:*
 * (ENVELOPE)` on a mailbox seen before needs neither the structure nor a render.
 */
export class RenderedStructures {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly budget: number) {}

  private key(sha: string, item: RenderedItem): string {
    return `${item}:${sha}`;
  }

  get(sha: string, item: RenderedItem): Buffer | undefined {
    const key = this.key(sha, item);
    const value = this.entries.get(key);
    if (value) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  render(sha: string, item: RenderedItem, structure: MessageStructure): Buffer {
    const value = item === 'ENVELOPE' ? renderEnvelope(structure) : renderBodyStructure(structure, item === 'BODYSTRUCTURE');
    const key = this.key(sha, item);
    this.bytes += value.length - (this.entries.get(key)?.length ?? 0);
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.bytes > this.budget) {
      const [oldest, old] = this.entries.entries().next().value ?? [];
      if (oldest === undefined || old === undefined) break;
      this.entries.delete(oldest);
      this.bytes -= old.length;
    }
    return value;
  }
}

/** One per process: shared by every session (bodies are shared by every mailbox). */
export const renderedStructures = new RenderedStructures(32 * 1024 * 1024);

/** The rendered structure items the FETCH asks for, without loading anything when all are known. */
export async function loadRendered(reader: MessageReader, sha: string, items: readonly FetchItem[]): Promise<Map<RenderedItem, Buffer>> {
  const wanted = items.map((i) => i.name).filter((name): name is RenderedItem => STRUCTURE_ITEMS.has(name));
  const out = new Map<RenderedItem, Buffer>();
  let structure: MessageStructure | null = null;
  for (const item of wanted) {
    const known = renderedStructures.get(sha, item);
    if (known) {
      out.set(item, known);
      continue;
    }
    structure ??= await reader.structure(sha);
    out.set(item, renderedStructures.render(sha, item, structure));
  }
  return out;
}

const STRUCTURE_ITEMS = new Set<string>(['ENVELOPE', 'BODY', 'BODYSTRUCTURE']);
const RAW_ITEMS = new Set(['RFC822', 'RFC822.HEADER', 'RFC822.TEXT', 'BODY[]', 'BINARY[]', 'BINARY.SIZE']);

/** What the items need beyond the MessageView: nothing, the structure, or the structure and the bytes. */
export function contentNeeded(items: readonly FetchItem[]): 'none' | 'structure' | 'raw' {
  if (items.some((item) => RAW_ITEMS.has(item.name))) return 'raw';
  if (items.some((item) => STRUCTURE_ITEMS.has(item.name))) return 'structure';
  return 'none';
}

/** True when fetching the items sets \Seen (RFC 3501 §6.4.5: BODY[...] without PEEK, RFC822, RFC822.TEXT). */
export function setsSeen(items: readonly FetchItem[]): boolean {
  return items.some((item) =>
    ((item.name === 'BODY[]' || item.name === 'BINARY[]') && !item.peek) || item.name === 'RFC822' || item.name === 'RFC822.TEXT');
}

/** Every item the parser reads is served. */
export function unsupportedItem(_items: readonly FetchItem[]): string | null {
  return null;
}

/** BINARY of a part whose Content-Transfer-Encoding is not known: the FETCH answers NO [UNKNOWN-CTE] (RFC 3516 §4.3). */
export class UnknownTransferEncodingError extends Error {
  constructor() {
    super('Unknown Content-Transfer-Encoding');
    this.name = 'UnknownTransferEncodingError';
  }
}

export interface FetchRenderOptions {
  /** UID FETCH: UID goes first even when not asked for. */
  includeUid: boolean;
  /** CHANGEDSINCE or CONDSTORE use: MODSEQ goes with every answer. */
  includeModseq: boolean;
  /** FLAGS as the client should see them (with \Recent). */
  flags: string[];
  /** \Seen was just set by this FETCH: report FLAGS even when not asked for. */
  flagsChanged: boolean;
}

/** The items of one message's FETCH response, in the order asked (UID first for UID FETCH). */
export function renderFetchItems(
  message: MessageView, items: readonly FetchItem[], content: MessageContent | null, options: FetchRenderOptions,
  rendered?: Map<RenderedItem, Buffer>,
): FetchResponseItem[] {
  const out: FetchResponseItem[] = [];
  const names = new Set<string>();
  const push = (item: FetchResponseItem): void => {
    if (names.has(item.name)) return;
    names.add(item.name);
    out.push(item);
  };
  if (options.includeUid) push(fetchNumber('UID', message.uid));
  for (const item of items) {
    const known = rendered?.get(item.name as RenderedItem);
    push(known ? fetchRendered(item.name as RenderedItem, known) : renderItem(message, item, content, options));
  }
  if (options.flagsChanged) push(fetchFlags(options.flags));
  if (options.includeModseq) push(fetchModSeq(message.modseq));
  return out;
}

function renderItem(message: MessageView, item: FetchItem, content: MessageContent | null, options: FetchRenderOptions): FetchResponseItem {
  switch (item.name) {
    case 'UID':
      return fetchNumber('UID', message.uid);
    case 'FLAGS':
      return fetchFlags(options.flags);
    case 'INTERNALDATE':
      return internalDate(message.internalDate);
    case 'RFC822.SIZE':
      return fetchNumber('RFC822.SIZE', message.size);
    case 'MODSEQ':
      return fetchModSeq(message.modseq);
    case 'EMAILID':
      return { name: 'EMAILID', value: Buffer.from(`(${emailObjectId(message.blob)})`, 'latin1') };
    case 'THREADID':
      return { name: 'THREADID', value: Buffer.from('NIL', 'latin1') };
    case 'SAVEDATE':
      return { ...internalDate(message.savedAt), name: 'SAVEDATE' };
    default:
      return renderContentItem(item, required(content));
  }
}

function renderContentItem(item: FetchItem, content: MessageContent): FetchResponseItem {
  const { structure } = content;
  switch (item.name) {
    case 'ENVELOPE':
      return fetchRendered('ENVELOPE', renderEnvelope(structure));
    case 'BODY':
      return fetchRendered('BODY', renderBodyStructure(structure, false));
    case 'BODYSTRUCTURE':
      return fetchRendered('BODYSTRUCTURE', renderBodyStructure(structure, true));
    case 'RFC822':
    case 'RFC822.HEADER':
    case 'RFC822.TEXT':
      return fetchLiteral(item.name, extractRfc822(rawOf(content), structure, item.name));
    case 'BODY[]':
      return fetchBodySection(item, extractSection(rawOf(content), structure, item.section, item.partial));
    case 'BINARY[]':
      return fetchBinarySection(item, cutPartial(decodedOrThrow(rawOf(content), structure, item.part), item.partial));
    case 'BINARY.SIZE':
      return fetchBinarySize(item.part, decodedOrThrow(rawOf(content), structure, item.part).length);
    default:
      throw new Error(`FETCH item ${item.name} is not supported`);
  }
}

/**
 * INTERNALDATE in UTC with a two-digit day (`01-Jan-2026`): RFC 3501 allows the
 * space-padded and the two-digit form; Dovecot and most servers send two digits.
 */
function internalDate(millis: number): FetchResponseItem {
  const item = fetchInternalDate(new Date(millis), 0);
  const text = item.value.toString('latin1').replace(/^" /, '"0');
  return { name: 'INTERNALDATE', value: Buffer.from(text, 'latin1') };
}

function decodedOrThrow(raw: Buffer, structure: MessageStructure, part: number[]): Buffer {
  const decoded = extractBinary(raw, structure, part);
  if (decoded === null) throw new UnknownTransferEncodingError();
  return decoded;
}

function rawOf(content: MessageContent): Buffer {
  if (content.raw === null) throw new Error('FETCH item needs the message bytes');
  return content.raw;
}

function required(content: MessageContent | null): MessageContent {
  if (content === null) throw new Error('FETCH item needs the message content');
  return content;
}
