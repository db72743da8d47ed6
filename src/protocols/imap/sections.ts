// FETCH body sections (RFC 3501 §6.4.5): BODY[...] and RFC822.* text sliced
// from the raw message using the stored MIME offsets, with Dovecot 2.3's part
// lookup rules; a part that does not exist yields an empty string.

import { scanHeader, type RawField } from '../../mime/header-block.js';
import type { MessageStructure, MimePart } from '../../mime/types.js';
import { decodeTransferEncoding } from '../../mime/transfer-decoding.js';

export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface SectionSpec {
  /** Part number path; [] for the whole message. */
  part: number[];
  text?: SectionText;
  /** Field names for HEADER.FIELDS / HEADER.FIELDS.NOT. */
  fields?: string[];
}

export interface PartialRange {
  offset: number;
  length: number;
}

export type Rfc822Item = 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT';

const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Walk a part number path the way Dovecot does: a non-multipart part only
 * has part 1 (itself), and a message/rfc822 part is entered when the path goes on.
 */
export function findPart(root: MimePart, path: number[]): MimePart | null {
  let part: MimePart | null = root;
  for (let i = 0; i < path.length && part; i++) {
    const num = path[i]!;
    const more = i + 1 < path.length;
    if (part.kind === 'multipart') {
      part = part.children[num - 1] ?? null;
    } else if (num !== 1 || (more && part.kind !== 'message')) {
      part = null;
    }
    if (part && part.kind === 'message' && more) part = part.children[0] ?? null;
  }
  return part;
}

function slice(raw: Buffer, start: number, end: number): Buffer {
  return raw.subarray(Math.min(start, raw.length), Math.min(end, raw.length));
}

function headerOf(raw: Buffer, part: MimePart): Buffer {
  return slice(raw, part.headerStart, part.bodyStart);
}

function bodyOf(raw: Buffer, part: MimePart): Buffer {
  return slice(raw, part.bodyStart, part.bodyEnd);
}

/** Header fields filtered by name; the blank line is kept when the header had one (or when forced). */
function filteredHeader(raw: Buffer, part: MimePart, names: string[], include: boolean, forceBlankLine: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const scan = scanHeader(raw, part.headerStart, part.bodyStart);
  const pieces: Buffer[] = [];
  for (const field of scan.fields) {
    if (wanted.has(field.name.toLowerCase()) === include) pieces.push(slice(raw, field.start, field.end));
  }
  if (forceBlankLine) pieces.push(CRLF);
  else if (scan.blankLine) pieces.push(slice(raw, lastFieldEnd(scan.fields, part.headerStart), scan.end));
  return Buffer.concat(pieces);
}

function lastFieldEnd(fields: RawField[], headerStart: number): number {
  return fields.length > 0 ? fields[fields.length - 1]!.end : headerStart;
}

/** The section of the message itself (no part number). */
function topLevelSection(raw: Buffer, s: MessageStructure, section: SectionSpec): Buffer {
  const root = s.root;
  switch (section.text) {
    case undefined:
      return raw;
    case 'HEADER':
      return headerOf(raw, root);
    case 'TEXT':
      return slice(raw, root.bodyStart, raw.length);
    case 'HEADER.FIELDS':
      return filteredHeader(raw, root, section.fields ?? [], true, true);
    case 'HEADER.FIELDS.NOT':
      return filteredHeader(raw, root, section.fields ?? [], false, false);
    case 'MIME':
      return EMPTY;
  }
}

/** A section below a part number. */
function partSection(raw: Buffer, part: MimePart, section: SectionSpec): Buffer {
  if (section.text === undefined) return bodyOf(raw, part);
  if (section.text === 'MIME') return headerOf(raw, part);
  if (part.kind !== 'message' || !part.children[0]) return EMPTY;
  const inner = part.children[0];
  switch (section.text) {
    case 'HEADER':
      return headerOf(raw, inner);
    case 'TEXT':
      return bodyOf(raw, inner);
    case 'HEADER.FIELDS':
      return filteredHeader(raw, inner, section.fields ?? [], true, false);
    case 'HEADER.FIELDS.NOT':
      return filteredHeader(raw, inner, section.fields ?? [], false, false);
  }
}

function applyPartial(data: Buffer, partial?: PartialRange): Buffer {
  if (!partial) return data;
  if (partial.offset >= data.length) return EMPTY;
  return data.subarray(partial.offset, partial.offset + partial.length);
}

/** BODY[section]<partial> contents. */
export function extractSection(raw: Buffer, structure: MessageStructure, section: SectionSpec, partial?: PartialRange): Buffer {
  if (section.part.length === 0) return applyPartial(topLevelSection(raw, structure, section), partial);
  const part = findPart(structure.root, section.part);
  if (!part) return EMPTY;
  return applyPartial(partSection(raw, part, section), partial);
}

/**
 * BINARY[part] (RFC 3516): the part's content with its transfer encoding undone; the
 * whole message, a multipart and an encapsulated message as they are. Null when the
 * encoding is unknown (NO [UNKNOWN-CTE]); empty for a part that does not exist.
 */
export function extractBinary(raw: Buffer, structure: MessageStructure, path: number[]): Buffer | null {
  if (path.length === 0) return raw;
  const part = findPart(structure.root, path);
  if (!part) return EMPTY;
  const body = bodyOf(raw, part);
  if (part.kind === 'multipart' || part.kind === 'message') return body;
  return decodeTransferEncoding(body, part.encoding);
}

/** `<offset.length>` applied to content already decoded. */
export function cutPartial(data: Buffer, partial?: PartialRange): Buffer {
  return applyPartial(data, partial);
}

/** RFC822, RFC822.HEADER and RFC822.TEXT (RFC 3501 §6.4.5): BODY[], BODY[HEADER], BODY[TEXT]. */
export function extractRfc822(raw: Buffer, structure: MessageStructure, item: Rfc822Item): Buffer {
  const text = item === 'RFC822.HEADER' ? 'HEADER' : item === 'RFC822.TEXT' ? 'TEXT' : undefined;
  return extractSection(raw, structure, text ? { part: [], text } : { part: [] });
}
