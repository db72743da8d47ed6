// Message analysis run once per stored body at delivery: walks the MIME tree
// recording exact byte offsets of every part, parses Content-* fields and the
// ENVELOPE, and indexes the top-level header. Never throws on malformed input.

import { parseAddressList } from './addresses.js';
import { applyContentField, emptyContentFields, type ContentFields } from './content-headers.js';
import { lineEnd, scanHeader, unfoldedValue, type RawField } from './header-block.js';
import {
  defaultMimeLimits, type Envelope, type EnvelopeAddress, type HeaderField, type MessageStructure, type MimeLimitName,
  type MimeLimits, type MimePart, type PartKind,
} from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
const NL_DASH_DASH = Buffer.from('\n--', 'latin1');

/**
 * Boundary matching costs lines × open boundaries × boundary length: nested parts
 * with long, alike boundaries over lines of dashes make it quadratic-like. Ordinary
 * mail compares a few bytes per line; past this budget the structure is opaque.
 */
const WORK_BASE = 1_000_000;
const WORK_PER_BYTE = 4;

/** Thrown inside the walk when a MimeLimits cap is passed; analyzeMessage turns it into an opaque structure. */
class MimeLimitPassed extends Error {
  constructor(readonly limit: MimeLimitName) {
    super(`MIME ${limit} limit passed`);
  }
}

interface ActiveBoundary {
  text: Buffer;
  owner: MimePart;
}

/** A boundary line found while reading a part: the part (and its descendants) end at `cut`. */
interface BoundaryHit {
  entry: ActiveBoundary;
  /** Index of the entry in the active boundary stack. */
  depth: number;
  /** Offset of the line end before the boundary line (or the line itself when first). */
  cut: number;
  /** Offset after the boundary line, including its line end. */
  next: number;
  close: boolean;
}

interface ParentContext {
  depth: number;
  isMultipartChild: boolean;
  isDigestChild: boolean;
  isMessageChild: boolean;
}

class MimeWalker {
  private readonly stack: ActiveBoundary[] = [];
  /** Header fields of the first entity parsed (the message itself). */
  firstHeader: RawField[] | null = null;
  private parts = 0;
  /** Bytes compared while looking for boundaries, and the most allowed (see WORK_PER_BYTE). */
  private work = 0;
  private readonly workBudget: number;

  constructor(private readonly raw: Buffer, private readonly limits: MimeLimits) {
    this.workBudget = WORK_BASE + WORK_PER_BYTE * raw.length;
  }

  /** Parse one entity (header + body) starting at pos. */
  parseEntity(pos: number, path: string, parent: ParentContext): { part: MimePart; hit: BoundaryHit | null } {
    const raw = this.raw;
    if (++this.parts > this.limits.maxParts) throw new MimeLimitPassed('parts');
    if (parent.depth > this.limits.maxDepth) throw new MimeLimitPassed('depth');
    let headerHit: BoundaryHit | null = null;
    const header = scanHeader(raw, pos, raw.length, (lineStart) => {
      headerHit = this.boundaryAt(lineStart, lineStart === pos ? lineStart : lineStart - newlineBefore(raw, lineStart));
      return headerHit !== null;
    }, this.limits.maxHeaders);
    if (header.overflow) throw new MimeLimitPassed('headers');
    this.firstHeader ??= header.fields;
    const content = contentOf(raw, header.fields);
    const isMime = parent.isMultipartChild || hasField(header.fields, 'mime-version') || content.mediaType !== null;
    const kind = partKind(content, isMime, parent.isDigestChild);
    const part = newPart(path, kind, pos, isMime ? content : emptyContentFields());
    const ownBoundary = kind === 'multipart' && isMime ? content.boundary : null;
    const hit = (headerHit as BoundaryHit | null) ?? this.boundaryAfterBlankLine(part, ownBoundary, header.end, header.blankLine);
    if (parent.isMessageChild) part.envelope = envelopeOf(raw, header.fields);
    if (hit) {
      part.bodyStart = part.bodyEnd = hit.cut;
      if (kind === 'message') part.children.push(emptyMessage(hit.cut));
      return { part, hit };
    }
    part.bodyStart = header.end;
    return { part, hit: this.parseBody(part, content, isMime, parent.depth) };
  }

  /**
   * An enclosing boundary right after the header's blank line: Dovecot then
   * gives that blank line to the boundary, so the header ends before it.
   */
  private boundaryAfterBlankLine(part: MimePart, ownBoundary: string | null, headerEnd: number, blankLine: boolean): BoundaryHit | null {
    if (!blankLine || this.stack.length === 0) return null;
    // A multipart's own boundary is already active here, and wins over an equal outer one.
    if (ownBoundary !== null) this.stack.push({ text: Buffer.from(ownBoundary, 'latin1'), owner: part });
    const hit = this.boundaryAt(headerEnd, headerEnd - newlineBefore(this.raw, headerEnd));
    if (ownBoundary !== null) this.stack.pop();
    return hit && hit.entry.owner !== part ? hit : null;
  }

  private parseBody(part: MimePart, content: ContentFields, isMime: boolean, depth: number): BoundaryHit | null {
    if (part.kind === 'multipart' && content.boundary !== null && isMime) return this.parseMultipartBody(part, content.boundary, depth);
    if (part.kind === 'message') return this.parseMessageBody(part, depth);
    const hit = this.stack.length > 0 ? this.findBoundary(part.bodyStart, true) : null;
    part.bodyEnd = hit ? hit.cut : this.raw.length;
    return hit;
  }

  private parseMessageBody(part: MimePart, depth: number): BoundaryHit | null {
    const child = this.parseEntity(part.bodyStart, part.path, { depth: depth + 1, isMultipartChild: false, isDigestChild: false, isMessageChild: true });
    part.children.push(child.part);
    part.bodyEnd = child.hit ? child.hit.cut : this.raw.length;
    return child.hit;
  }

  private parseMultipartBody(part: MimePart, boundary: string, depth: number): BoundaryHit | null {
    const stackDepth = this.stack.length;
    this.stack.push({ text: Buffer.from(boundary, 'latin1'), owner: part });
    let hit = this.findBoundary(part.bodyStart, true);
    while (hit && hit.entry.owner === part) {
      if (hit.close) {
        this.stack.length = stackDepth;
        hit = this.stack.length > 0 ? this.findBoundary(hit.next, this.endsWithLf(hit.next)) : null;
        break;
      }
      this.stack.length = stackDepth + 1;
      const childPath = childPartPath(part.path, part.children.length + 1);
      const isDigest = part.subtype !== null && part.subtype.toLowerCase() === 'digest';
      const child = this.parseEntity(hit.next, childPath, { depth: depth + 1, isMultipartChild: true, isDigestChild: isDigest, isMessageChild: false });
      part.children.push(child.part);
      hit = child.hit;
    }
    part.bodyEnd = hit ? hit.cut : this.raw.length;
    return hit;
  }

  private endsWithLf(pos: number): boolean {
    return pos > 0 && this.raw[pos - 1] === LF;
  }

  /**
   * True when `text` is at `pos`. A byte loop, not Buffer.compare: most candidate lines
   * differ in their first bytes, and a native call per line and boundary costs more
   * than the comparison. Every byte compared is counted against the work budget.
   */
  private matchesAt(pos: number, text: Buffer): boolean {
    const raw = this.raw;
    let i = 0;
    while (i < text.length && raw[pos + i] === text[i]) i++;
    this.work += i + 1;
    if (this.work > this.workBudget) throw new MimeLimitPassed('work');
    return i === text.length;
  }

  /** Next boundary line at or after `from`; the line at `from` itself counts only when firstLine. */
  private findBoundary(from: number, firstLine: boolean): BoundaryHit | null {
    const raw = this.raw;
    if (firstLine) {
      const hit = this.boundaryAt(from, from);
      if (hit) return hit;
    }
    let search = from;
    for (;;) {
      const nl = raw.indexOf(NL_DASH_DASH, search);
      if (nl < 0) return null;
      const cut = nl > from && raw[nl - 1] === CR ? nl - 1 : nl;
      const hit = this.boundaryAt(nl + 1, cut);
      if (hit) return hit;
      search = nl + 1;
    }
  }

  /** The boundary whose delimiter starts the line at lineStart (longest match, innermost first). */
  private boundaryAt(lineStart: number, cut: number): BoundaryHit | null {
    const raw = this.raw;
    if (this.stack.length === 0) return null;
    if (raw[lineStart] !== DASH || raw[lineStart + 1] !== DASH) return null;
    const textStart = lineStart + 2;
    let best: BoundaryHit | null = null;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const entry = this.stack[i]!;
      const len = entry.text.length;
      if (textStart + len > raw.length) continue;
      if (best && best.entry.text.length >= len) continue;
      if (!this.matchesAt(textStart, entry.text)) continue;
      const close = raw[textStart + len] === DASH && raw[textStart + len + 1] === DASH;
      best = { entry, depth: i, cut, next: lineEnd(raw, lineStart, raw.length), close };
    }
    return best;
  }
}

function childPartPath(parentPath: string, index: number): string {
  return parentPath === '' ? `${index}` : `${parentPath}.${index}`;
}

function newlineBefore(raw: Buffer, lineStart: number): number {
  if (lineStart >= 2 && raw[lineStart - 2] === CR) return 2;
  return 1;
}

function hasField(fields: RawField[], lowerName: string): boolean {
  return fields.some((f) => f.name.toLowerCase() === lowerName);
}

function contentOf(raw: Buffer, fields: RawField[]): ContentFields {
  const content = emptyContentFields();
  for (const field of fields) {
    const name = field.name.toLowerCase();
    if (!name.startsWith('content-')) continue;
    applyContentField(content, name, unfoldedValue(raw, field));
  }
  return content;
}

/** Dovecot's part flags: a non-MIME part or one without Content-Type is text (message under digest). */
function partKind(content: ContentFields, isMime: boolean, isDigestChild: boolean): PartKind {
  const media = isMime ? content.mediaType : null;
  if (media === null) return isDigestChild ? 'message' : 'text';
  if (media === 'message/rfc822') return 'message';
  if (media === 'text' || media.startsWith('text/')) return 'text';
  if (media.startsWith('multipart/')) return 'multipart';
  return 'basic';
}

function newPart(path: string, kind: PartKind, headerStart: number, content: ContentFields): MimePart {
  return {
    path,
    kind,
    headerStart,
    bodyStart: headerStart,
    bodyEnd: headerStart,
    lines: 0,
    type: content.type,
    subtype: content.subtype,
    params: content.params,
    id: content.id,
    description: content.description,
    encoding: content.encoding,
    md5: content.md5,
    disposition: content.disposition,
    language: content.language,
    location: content.location,
    boundary: content.boundary,
    children: [],
    envelope: null,
  };
}

function emptyMessage(at: number): MimePart {
  const part = newPart('', 'text', at, emptyContentFields());
  part.envelope = emptyEnvelope();
  return part;
}

export function emptyEnvelope(): Envelope {
  return {
    date: null,
    subject: null,
    from: null,
    sender: null,
    replyTo: null,
    to: null,
    cc: null,
    bcc: null,
    inReplyTo: null,
    messageId: null,
  };
}

type AddressKey = 'from' | 'sender' | 'replyTo' | 'to' | 'cc' | 'bcc';
type StringKey = 'date' | 'subject' | 'inReplyTo' | 'messageId';

const ENVELOPE_ADDRESS_FIELDS: Record<string, AddressKey> = {
  from: 'from',
  sender: 'sender',
  'reply-to': 'replyTo',
  to: 'to',
  cc: 'cc',
  bcc: 'bcc',
};

const ENVELOPE_STRING_FIELDS: Record<string, StringKey> = {
  date: 'date',
  subject: 'subject',
  'in-reply-to': 'inReplyTo',
  'message-id': 'messageId',
};

/** ENVELOPE from header fields: repeated address fields add up, string fields keep the first. */
export function envelopeOf(raw: Buffer, fields: RawField[]): Envelope {
  const env = emptyEnvelope();
  for (const field of fields) {
    const name = field.name.toLowerCase();
    const addressKey = ENVELOPE_ADDRESS_FIELDS[name];
    if (addressKey) {
      env[addressKey] = appendAddresses(env[addressKey], parseAddressList(unfoldedValue(raw, field)));
      continue;
    }
    const stringKey = ENVELOPE_STRING_FIELDS[name];
    if (stringKey && env[stringKey] === null) env[stringKey] = unfoldedValue(raw, field);
  }
  return env;
}

function appendAddresses(list: EnvelopeAddress[] | null, more: EnvelopeAddress[] | null): EnvelopeAddress[] | null {
  if (list === null) return more;
  if (more === null) return list;
  return list.concat(more);
}

function countLines(raw: Buffer, start: number, end: number): number {
  let count = 0;
  let pos = raw.indexOf(LF, start);
  while (pos >= 0 && pos < end) {
    count++;
    pos = raw.indexOf(LF, pos + 1);
  }
  return count;
}

/** Fill in line counts where IMAP needs them (text and message parts). */
function fillLineCounts(raw: Buffer, part: MimePart): void {
  if (part.kind === 'text' || part.kind === 'message') part.lines = countLines(raw, part.bodyStart, part.bodyEnd);
  for (const child of part.children) fillLineCounts(raw, child);
}

function headerIndex(fields: RawField[]): HeaderField[] {
  return fields.map((f) => ({ name: f.name.toLowerCase(), start: f.start, end: f.end, valueStart: f.valueStart }));
}

/**
 * Analyze a raw message (CRLF line ends expected; bare LF tolerated). Past one of
 * the limits the structure is one opaque part (see opaqueStructure).
 */
export function analyzeMessage(raw: Buffer, limits: MimeLimits = defaultMimeLimits): MessageStructure {
  const walker = new MimeWalker(raw, limits);
  let root: MimePart;
  try {
    root = walker.parseEntity(0, '', { depth: 0, isMultipartChild: false, isDigestChild: false, isMessageChild: true }).part;
  } catch (err) {
    if (err instanceof MimeLimitPassed) return opaqueStructure(raw, limits, err.limit);
    throw err;
  }
  fillLineCounts(raw, root);
  const envelope = root.envelope ?? emptyEnvelope();
  root.envelope = null;
  return { version: 1, size: raw.length, root, envelope, headers: headerIndex(walker.firstHeader ?? []) };
}

/**
 * Hostile MIME (too many parts, too deep, too many fields): the message's own header
 * (its first maxHeaders fields) gives ENVELOPE and the header index; the body is one
 * application/octet-stream part. The bytes are untouched, so BODY[] stays exact.
 */
function opaqueStructure(raw: Buffer, limits: MimeLimits, limit: MimeLimitName): MessageStructure {
  const header = scanHeader(raw, 0, raw.length, undefined, limits.maxHeaders);
  const root = newPart('', 'basic', 0, emptyContentFields());
  root.type = 'application';
  root.subtype = 'octet-stream';
  root.bodyStart = header.end;
  root.bodyEnd = raw.length;
  const envelope = envelopeOf(raw, header.fields);
  return { version: 1, size: raw.length, root, envelope, headers: headerIndex(header.fields), limited: limit };
}
