// Text views of a stored message for IMAP SEARCH (RFC 3501 §6.4.4): decoded
// header values, decoded text of body parts, and the Date header parsed the
// way Dovecot does for SENTBEFORE / SENTON / SENTSINCE.

import libmime from 'libmime';
import { scanHeader, unfoldedValue } from './header-block.js';
import { hexValue } from './transfer-decoding.js';
import type { MessageStructure, MimePart } from './types.js';

/** Header field values with RFC 2047 words decoded (raw 8-bit read as UTF-8), unfolded. */
export function decodedHeaderValues(raw: Buffer, s: MessageStructure, name: string): string[] {
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const field of s.headers) {
    if (field.name !== wanted) continue;
    out.push(decodeHeaderValue(unfoldedValue(raw, field)));
  }
  return out;
}

/** True when the top-level header has at least one field of that name (HEADER name ""). */
export function hasHeader(s: MessageStructure, name: string): boolean {
  const wanted = name.toLowerCase();
  return s.headers.some((f) => f.name === wanted);
}

const ENCODED_WORD = /=\?([^?*\s]+)(?:\*[^?\s]*)?\?[bBqQ]\?[^?\s]*\?=/g;

/** Dovecot cannot translate a word in an unknown charset, so its text never matches: use U+FFFD. */
function replaceUnknownCharsetWord(word: string, charset: string): string {
  return isKnownCharset(charset) ? word : '\uFFFD';
}

function isKnownCharset(charset: string): boolean {
  try {
    new TextDecoder(charset.trim().toLowerCase());
    return true;
  } catch {
    return false;
  }
}

/** Decode an unfolded byte-string header value to a JS string. */
export function decodeHeaderValue(byteString: string): string {
  const text = bytesToText(Buffer.from(byteString, 'latin1'), 'utf-8');
  if (!text.includes('=?')) return text;
  try {
    return libmime.decodeWords(text.replace(ENCODED_WORD, replaceUnknownCharsetWord));
  } catch {
    return text;
  }
}

/** Decoded text of every text/* body part, nested messages included (SEARCH BODY). */
export function bodyTexts(raw: Buffer, s: MessageStructure): string[] {
  const out: string[] = [];
  collectBodyTexts(raw, s.root, out);
  return out;
}

function collectBodyTexts(raw: Buffer, part: MimePart, out: string[]): void {
  if (part.kind === 'text') out.push(decodedPartText(raw, part));
  for (const child of part.children) collectBodyTexts(raw, child, out);
}

/** Everything SEARCH TEXT looks at: all header blocks (decoded) and all body texts. */
export function fullTexts(raw: Buffer, s: MessageStructure): string[] {
  const out: string[] = [];
  collectFullTexts(raw, s.root, out);
  return out;
}

function collectFullTexts(raw: Buffer, part: MimePart, out: string[]): void {
  const header = scanHeader(raw, part.headerStart, part.bodyStart);
  for (const field of header.fields) out.push(`${field.name}: ${decodeHeaderValue(unfoldedValue(raw, field))}`);
  if (part.kind === 'text') out.push(decodedPartText(raw, part));
  for (const child of part.children) collectFullTexts(raw, child, out);
}

/** A text part's body with its transfer encoding and charset decoded. */
export function decodedPartText(raw: Buffer, part: MimePart): string {
  const body = raw.subarray(part.bodyStart, part.bodyEnd);
  const encoding = (part.encoding ?? '7bit').toLowerCase();
  const octets = encoding === 'base64' ? Buffer.from(body.toString('latin1'), 'base64') : encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : body;
  return bytesToText(octets, charsetOf(part));
}

function charsetOf(part: MimePart): string {
  const params = part.params ?? [];
  for (let i = 0; i + 1 < params.length; i += 2) {
    if (params[i]!.toLowerCase() === 'charset') return params[i + 1]!;
  }
  return 'us-ascii';
}

/** Charset bytes to text; unknown charsets are read as UTF-8 (invalid octets become U+FFFD). */
export function bytesToText(octets: Buffer, charset: string): string {
  const label = charset.trim().toLowerCase();
  const decoderLabel = label === 'us-ascii' || label === 'ascii' ? 'utf-8' : label;
  try {
    return new TextDecoder(decoderLabel).decode(octets);
  } catch {
    return new TextDecoder('utf-8').decode(octets);
  }
}

/** RFC 2045 §6.7 decoding, lenient: a malformed "=" sequence is kept as is. */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.alloc(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    const softBreak = softLineBreakLength(input, i + 1);
    if (softBreak >= 0) {
      i += softBreak;
      continue;
    }
    const hi = hexValue(input[i + 1]);
    const lo = hexValue(input[i + 2]);
    if (hi < 0 || lo < 0) {
      out[n++] = c;
      continue;
    }
    out[n++] = hi * 16 + lo;
    i += 2;
  }
  return out.subarray(0, n);
}

/** Length of "[blanks] CRLF" after a "=" (a soft line break), or -1. */
function softLineBreakLength(input: Buffer, from: number): number {
  let j = from;
  while (input[j] === 0x20 || input[j] === 0x09) j++;
  if (input[j] === 0x0d && input[j + 1] === 0x0a) return j + 2 - from;
  if (input[j] === 0x0a) return j + 1 - from;
  if (j >= input.length) return j - from;
  return -1;
}

/** Case-insensitive substring test used by SEARCH string keys. */
export function containsText(haystack: string, needle: string): boolean {
  if (needle === '') return true;
  return foldCase(haystack).includes(foldCase(needle));
}

/** The case folding containsText applies to both sides (exported so callers can fold a text once). */
export function foldCase(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

// ---------------------------------------------------------------- Date header

/** Calendar day of a message's Date header, in the sender's own time zone. */
export interface SentDay {
  year: number;
  month: number;
  day: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * The Date header's day for SENT* keys; null when the header is missing or
 * unparsable (Dovecot then compares as if the date were 1970-01-01).
 */
export function sentDay(raw: Buffer, s: MessageStructure): SentDay | null {
  const field = s.headers.find((f) => f.name === 'date');
  if (!field) return null;
  return parseDateDay(unfoldedValue(raw, field));
}

/** Day of an RFC 5322 date-time: [weekday ","] day month year hour ":" minute [":" second] [zone]. */
export function parseDateDay(value: string): SentDay | null {
  const tokens = value.replace(/\([^)]*\)/g, ' ').split(/[\s,]+/).filter(Boolean);
  let i = 0;
  if (tokens[i] && /^[a-z]+$/i.test(tokens[i]!)) i++;
  const day = Number(tokens[i++]);
  const month = MONTHS.indexOf((tokens[i++] ?? '').toLowerCase());
  const yearToken = tokens[i++] ?? '';
  if (!Number.isInteger(day) || day < 1 || day > 31 || month < 0 || !/^\d{2,4}$/.test(yearToken)) return null;
  if (!/^\d{1,2}:\d{1,2}(:\d{1,2})?$/.test(tokens[i] ?? '')) return null;
  return { year: fullYear(Number(yearToken), yearToken.length), month: month + 1, day };
}

function fullYear(year: number, digits: number): number {
  if (digits > 2) return year;
  return year < 70 ? 2000 + year : 1900 + year;
}
