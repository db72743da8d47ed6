// FETCH rendering: one message's requested items as `* n FETCH (...)` items, from its
// MessageView (flags, dates, size, modseq) and, only when an item needs them, the body
// bytes and MIME structure read from the blob store. What never changes for a body is
// kept per process (bounded by bytes, least recently used out): its rendered ENVELOPE,
// BODY and BODYSTRUCTURE, and the fields of its header, so that the FETCH of a client
// going through a folder again (imaptest's kept sessions: ENVELOPE, BODYSTRUCTURE and
// BODY.PEEK[HEADER.FIELDS (...)] of ranges of a hundred) neither renders nor scans again.
import type { MessageStructure } from '../mime/types.js';
import type { SortKeys } from '../mime/sort-keys.js';
import { renderBodyStructure, renderEnvelope } from '../protocols/imap/render-structure.js';
import { cutPartial, extractBinary, extractRfc822, extractSection } from '../protocols/imap/sections.js';
import { scanHeader } from '../mime/header-block.js';
import {
  fetchBinarySection, fetchBinarySize, fetchBodySection, fetchFlags, fetchInternalDate, fetchLiteral, fetchModSeq, fetchNumber, fetchRendered,
} from '../protocols/imap/writer.js';
import type { FetchItem, FetchResponseItem } from '../protocols/imap/types.js';
import type { MessageView } from '../mailbox/imap-messages.js';
import type { PlannedItem } from '../protocols/imap/planned-fetch.js';
import { emailObjectId } from './object-ids.js';

/** Where message bodies and their MIME structures come from (the blob store, or later the owning node). */
export interface MessageReader {
  readAll(sha: string): Promise<Buffer>;
  /** The whole body when this process holds it in memory now (nothing awaited); else undefined: use readAll. */
  cachedBody?(sha: string): Buffer | undefined;
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

/** What a FETCH renders from: the structure is left out (null) when every item is answered from the bytes alone. */
export interface FetchContent {
  structure: MessageStructure | null;
  raw: Buffer | null;
}

/** The bytes, and the structure only when `withStructure` (a `BODY.PEEK[]` of the whole message needs none). */
export async function loadFetchContent(reader: MessageReader, sha: string, withStructure: boolean): Promise<FetchContent> {
  if (withStructure) return loadMessageContent(reader, sha, true);
  return { structure: null, raw: await reader.readAll(sha) };
}

/**
 * What `loadFetchContent` would give, when it needs only the bytes and they are in memory:
 * a `BODY.PEEK[]` of a small body (W3 sends twenty per session) is then answered without a
 * read through the store's async generator and its promises; undefined otherwise.
 */
export function fetchContentIfCached(reader: MessageReader, sha: string, withStructure: boolean): FetchContent | undefined {
  if (withStructure) return undefined;
  const raw = reader.cachedBody?.(sha);
  return raw === undefined ? undefined : { structure: null, raw };
}

/** Items that need nothing but the message's own fields (the view). */
const VIEW_ITEMS = new Set(['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ', 'EMAILID', 'THREADID', 'SAVEDATE']);

/**
 * False when every item is answered from the view or from the whole message's bytes
 * (RFC822, BODY[] and BINARY[] without a section, BINARY.SIZE of the whole message): the
 * W3 mix's 20 `FETCH n (BODY.PEEK[])` per session then read no MIME structure.
 */
export function structureNeeded(items: readonly FetchItem[]): boolean {
  return !items.every((item) => VIEW_ITEMS.has(item.name) || wholeMessage(item));
}

function wholeMessage(item: FetchItem): boolean {
  switch (item.name) {
    case 'RFC822':
      return true;
    case 'BODY[]':
      return item.section.part.length === 0 && item.section.text === undefined;
    case 'BINARY[]':
    case 'BINARY.SIZE':
      return item.part.length === 0;
    default:
      return false;
  }
}

export type RenderedItem = 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE';

/** Per-body entries kept within a byte budget, the oldest evicted first with a second chance. */
abstract class ByteBudgetCache<T extends { bytes: number; used: boolean }> {
  protected readonly entries = new Map<string, T>();
  private held = 0;

  constructor(private readonly budget: number) {}

  /** Bodies and bytes kept (for tests and stats). */
  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.held;
  }

  /** Counts `growth` more bytes held by an entry already in the map, then evicts past the budget. */
  protected grew(growth: number): void {
    this.held += growth;
    evictSecondChance(this.entries, () => this.held > this.budget, (gone) => (this.held -= gone.bytes));
  }
}

/**
 * ENVELOPE, BODY and BODYSTRUCTURE of a body never change: rendered once, they are
 * kept (within a byte budget, the oldest not used since going first) so that `UID FETCH 1:*
 * (ENVELOPE)` on a mailbox seen before needs neither the structure nor a render.
 */
export class RenderedStructures extends ByteBudgetCache<RenderedEntry> {
  get(sha: string, item: RenderedItem): Buffer | undefined {
    const entry = this.entries.get(sha);
    const value = entry?.items[item];
    if (value) entry!.used = true;
    return value;
  }

  /**
   * The entry's items when every one of `wanted` is there (the caller reads only those; the
   * object is the cache's own and must not be changed), else undefined.
   */
  entryFor(sha: string, wanted: readonly RenderedItem[]): RenderedItems | undefined {
    const entry = this.entries.get(sha);
    if (entry === undefined) return undefined;
    for (const item of wanted) if (entry.items[item] === undefined) return undefined;
    entry.used = true;
    return entry.items;
  }

  render(sha: string, item: RenderedItem, structure: MessageStructure): Buffer {
    const value = item === 'ENVELOPE' ? renderEnvelope(structure) : renderBodyStructure(structure, item === 'BODYSTRUCTURE');
    let entry = this.entries.get(sha);
    if (!entry) {
      entry = { items: {}, bytes: 0, used: false };
      this.entries.set(sha, entry);
    }
    const growth = value.length - (entry.items[item]?.length ?? 0);
    entry.items[item] = value;
    entry.bytes += growth;
    this.grew(growth);
    return value;
  }
}

interface RenderedEntry {
  items: RenderedItems;
  bytes: number;
  used: boolean;
}

/**
 * Eviction of the oldest entries while `over()`, with a second chance: an entry used since
 * it last reached the front goes to the back once instead. A hit only sets a flag (the
 * least-recently-used order by a delete and set per hit was 2 % of the kept-sessions
 * profile, a hundred hits per FETCH).
 */
function evictSecondChance<T extends { used: boolean }>(entries: Map<string, T>, over: () => boolean, gone: (entry: T) => void): void {
  while (over()) {
    const oldest = entries.entries().next().value;
    if (oldest === undefined) return;
    const [key, entry] = oldest;
    entries.delete(key);
    if (entry.used) {
      entry.used = false;
      entries.set(key, entry);
      continue;
    }
    gone(entry);
  }
}

/** One per process: shared by every session (bodies are shared by every mailbox). */
export const renderedStructures = new RenderedStructures(32 * 1024 * 1024);

function renderedItem(sha: string, item: RenderedItem, structure: MessageStructure): Buffer {
  return renderedStructures.get(sha, item) ?? renderedStructures.render(sha, item, structure);
}

/** One field of a message's top-level header: its name in lower case, its bytes (name to line end). */
interface IndexedField {
  name: string;
  bytes: Buffer;
}

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * The fields of top-level headers, scanned once per body: `BODY[HEADER.FIELDS (...)]`
 * picks from them. Each entry holds a copy of the header block only (not the body), and
 * the budget counts those bytes.
 */
export class HeaderFieldIndexes extends ByteBudgetCache<{ fields: IndexedField[]; bytes: number; used: boolean }> {
  fields(sha: string, raw: Buffer, structure: MessageStructure): IndexedField[] {
    const known = this.entries.get(sha);
    if (known) {
      known.used = true;
      return known.fields;
    }
    const { headerStart, bodyStart } = structure.root;
    const start = Math.min(headerStart, raw.length);
    const block = Buffer.from(raw.subarray(start, Math.min(bodyStart, raw.length)));
    const scan = scanHeader(raw, headerStart, bodyStart);
    const fields = scan.fields.map((field) => ({
      name: field.name.toLowerCase(),
      bytes: block.subarray(Math.min(field.start, raw.length) - start, Math.min(field.end, raw.length) - start),
    }));
    this.entries.set(sha, { fields, bytes: block.length, used: false });
    this.grew(block.length);
    return fields;
  }

  /** The named fields in header order, then the blank line: `BODY[HEADER.FIELDS (names)]` of the message itself. */
  select(sha: string, raw: Buffer, structure: MessageStructure, names: readonly string[]): Buffer {
    const wanted = new Set(names.map((n) => n.toLowerCase()));
    const pieces: Buffer[] = [];
    for (const field of this.fields(sha, raw, structure)) if (wanted.has(field.name)) pieces.push(field.bytes);
    pieces.push(CRLF);
    return Buffer.concat(pieces);
  }
}

/** One per process, as the rendered structures. */
export const headerFieldIndexes = new HeaderFieldIndexes(16 * 1024 * 1024);

/** Rendered ENVELOPE / BODY / BODYSTRUCTURE of one body, by item. */
export type RenderedItems = Partial<Record<RenderedItem, Buffer>>;

const PLANNABLE = new Set<string>(['UID', 'FLAGS', 'RFC822.SIZE', 'MODSEQ', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE']);

/**
 * The items of each answer in the order `renderFetchItems` gives them (UID first for UID
 * FETCH, each name once, MODSEQ last when CONDSTORE adds it) when every one can be written
 * from the view and the rendered structures (planned-fetch.ts); else null. Only for a
 * FETCH that sets no \Seen (the FLAGS it would add are not planned).
 */
export function plannedItems(items: readonly FetchItem[], includeUid: boolean, includeModseq: boolean): PlannedItem[] | null {
  const plan: PlannedItem[] = includeUid ? ['UID'] : [];
  for (const item of items) {
    if (!PLANNABLE.has(item.name)) return null;
    if (!plan.includes(item.name as PlannedItem)) plan.push(item.name as PlannedItem);
  }
  if (includeModseq && !plan.includes('MODSEQ')) plan.push('MODSEQ');
  return plan;
}

/** Which of the items are rendered structure items (ENVELOPE, BODY, BODYSTRUCTURE): once per FETCH, not per message. */
export function renderedItemsOf(items: readonly FetchItem[]): RenderedItem[] {
  return items.map((i) => i.name).filter((name): name is RenderedItem => STRUCTURE_ITEMS.has(name));
}

/** The rendered items of a body when every one of `wanted` is cached (one lookup, nothing awaited), else undefined. */
export function renderedIfKnown(sha: string, wanted: readonly RenderedItem[]): RenderedItems | undefined {
  return renderedStructures.entryFor(sha, wanted);
}

/** The rendered structure items wanted, loading the structure only when one is not cached. */
export async function loadRendered(reader: MessageReader, sha: string, wanted: readonly RenderedItem[]): Promise<RenderedItems> {
  const out: RenderedItems = {};
  let structure: MessageStructure | null = null;
  for (const item of wanted) {
    const known = renderedStructures.get(sha, item);
    if (known) {
      out[item] = known;
      continue;
    }
    structure ??= await reader.structure(sha);
    out[item] = renderedStructures.render(sha, item, structure);
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

/** The items of one message's FETCH response, in the order asked (UID first for UID FETCH), each name once. */
export function renderFetchItems(
  message: MessageView, items: readonly FetchItem[], content: FetchContent | null, options: FetchRenderOptions,
  rendered?: RenderedItems,
): FetchResponseItem[] {
  const out: FetchResponseItem[] = [];
  if (options.includeUid) out.push(fetchNumber('UID', message.uid));
  for (const item of items) {
    const known = rendered?.[item.name as RenderedItem];
    pushOnce(out, known ? fetchRendered(item.name as RenderedItem, known) : renderItem(message, item, content, options));
  }
  if (options.flagsChanged) pushOnce(out, fetchFlags(options.flags));
  if (options.includeModseq) pushOnce(out, fetchModSeq(message.modseq));
  return out;
}

/** Adds the item unless one of that name is there (a FETCH asks for a handful: a scan is cheaper than a Set per message). */
function pushOnce(out: FetchResponseItem[], item: FetchResponseItem): void {
  for (const present of out) if (present.name === item.name) return;
  out.push(item);
}

function renderItem(message: MessageView, item: FetchItem, content: FetchContent | null, options: FetchRenderOptions): FetchResponseItem {
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
      return renderContentItem(message.blob, item, required(content));
  }
}

function renderContentItem(sha: string, item: FetchItem, content: FetchContent): FetchResponseItem {
  switch (item.name) {
    case 'ENVELOPE':
    case 'BODY':
    case 'BODYSTRUCTURE':
      return fetchRendered(item.name, renderedItem(sha, item.name, structureOf(content)));
    case 'RFC822':
    case 'RFC822.HEADER':
    case 'RFC822.TEXT':
      return fetchLiteral(item.name, item.name === 'RFC822' ? rawOf(content) : extractRfc822(rawOf(content), structureOf(content), item.name));
    case 'BODY[]':
      if (wholeMessage(item)) return fetchBodySection(item, cutPartial(rawOf(content), item.partial));
      if (item.section.part.length === 0 && item.section.text === 'HEADER.FIELDS') {
        return fetchBodySection(item, cutPartial(headerFieldIndexes.select(sha, rawOf(content), structureOf(content), item.section.fields ?? []), item.partial));
      }
      return fetchBodySection(item, extractSection(rawOf(content), structureOf(content), item.section, item.partial));
    case 'BINARY[]':
      return fetchBinarySection(item, cutPartial(decodedOrThrow(content, item.part), item.partial));
    case 'BINARY.SIZE':
      return fetchBinarySize(item.part, decodedOrThrow(content, item.part).length);
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

function decodedOrThrow(content: FetchContent, part: number[]): Buffer {
  if (part.length === 0) return rawOf(content);
  const decoded = extractBinary(rawOf(content), structureOf(content), part);
  if (decoded === null) throw new UnknownTransferEncodingError();
  return decoded;
}

function structureOf(content: FetchContent): MessageStructure {
  if (content.structure === null) throw new Error('FETCH item needs the message structure');
  return content.structure;
}

function rawOf(content: FetchContent): Buffer {
  if (content.raw === null) throw new Error('FETCH item needs the message bytes');
  return content.raw;
}

function required(content: FetchContent | null): FetchContent {
  if (content === null) throw new Error('FETCH item needs the message content');
  return content;
}
