// IMAP response writer: typed responses (types.ts ImapResponse) → wire bytes,
// plus builders for the items of `* n FETCH (...)` so that callers only supply
// content (flags, dates, section bytes, pre-rendered ENVELOPE/BODYSTRUCTURE).

import { formatDateTime } from './dates.js';
import { compressSequence } from './sequence-set.js';
import { imapNString, imapString, literal, quoted } from './strings.js';
import { encodeModifiedUtf7 } from './utf7.js';
import type {
  BinaryFetch,
  ThreadNode,
  BodySection,
  BodySectionFetch,
  FetchAnswer,
  FetchLiteral,
  FetchResponseItem,
  ImapResponse,
  NamespaceDescriptor,
  PartialRange,
  ResponseCode,
} from './types.js';

export interface WriterOptions {
  /** UTF8=ACCEPT enabled: mailbox names go out as UTF-8, not modified UTF-7. */
  utf8?: boolean;
}

const CRLF = Buffer.from('\r\n');

/** One complete response line (or lines, with literals), CRLF-terminated. */
export function writeResponse(response: ImapResponse, options: WriterOptions = {}): Buffer {
  if (response.type === 'fetch') return fetchLine(response.seq, response.items, true);
  if (response.type === 'fetches') return fetchLines(response.answers);
  // Every command ends with one: a single buffer, no parts to concatenate.
  if (response.type === 'tagged') return text(`${response.tag} ${response.status}${codeAndText(response.code, response.text)}\r\n`);
  if (response.type === 'fetch-lines') return response.bytes;
  return Buffer.concat([...responseParts(response, options.utf8 ?? false), CRLF]);
}

function text(value: string): Buffer {
  return Buffer.from(value, 'utf8');
}

function responseParts(response: ImapResponse, utf8: boolean): Buffer[] {
  switch (response.type) {
    case 'tagged':
      return [text(`${response.tag} ${response.status}${codeAndText(response.code, response.text)}`)];
    case 'untagged':
      return [text(`* ${response.status}${codeAndText(response.code, response.text)}`)];
    case 'continuation':
      return [text(`+ ${sanitizeText(response.text ?? '')}`)];
    case 'capability':
      return [text(['* CAPABILITY', ...response.capabilities].join(' '))];
    case 'exists':
      return [text(`* ${response.count} EXISTS`)];
    case 'recent':
      return [text(`* ${response.count} RECENT`)];
    case 'expunge':
      return [text(`* ${response.seq} EXPUNGE`)];
    case 'flags':
      return [text('* FLAGS '), flagList(response.flags)];
    case 'list':
    case 'lsub':
      return listParts(response, utf8);
    case 'status':
      return [
        text('* STATUS '),
        mailboxName(response.mailbox, utf8),
        text(` (${response.items.map(([item, value]) => `${item} ${typeof value === 'string' ? `(${value})` : value}`).join(' ')})`),
      ];
    case 'search':
      return [text(searchLine(response.ids, response.modSeq))];
    case 'esearch':
      return [esearchLine(response)];
    case 'metadata':
      return [
        text('* METADATA '),
        mailboxName(response.mailbox, utf8),
        text(' ('),
        ...response.entries.flatMap(([entry, value], i) => [
          text(i > 0 ? ' ' : ''), imapString(entry), text(' '), value === null ? text('NIL') : metadataValue(value),
        ]),
        text(')'),
      ];
    case 'sort':
      return [text(searchLine(response.ids, response.modSeq).replace('* SEARCH', '* SORT'))];
    case 'thread':
      return [text(threadLine(response.threads))];
    case 'vanished':
      return [text(`* VANISHED ${response.earlier ? '(EARLIER) ' : ''}${uidSet(response.uids)}`)];
    case 'namespace':
      return [
        text('* NAMESPACE '),
        namespaceList(response.personal, utf8),
        text(' '),
        namespaceList(response.otherUsers, utf8),
        text(' '),
        namespaceList(response.shared, utf8),
      ];
    case 'id':
      return [text('* ID '), idParameters(response.parameters)];
    case 'enabled':
      return [text(['* ENABLED', ...response.capabilities].join(' '))];
    case 'quota':
      return [
        text('* QUOTA '),
        imapString(response.root),
        text(` (${response.resources.map((r) => `${r.name} ${r.usage} ${r.limit}`).join(' ')})`),
      ];
    case 'quotaroot':
      return [
        text('* QUOTAROOT '),
        mailboxName(response.mailbox, utf8),
        ...response.roots.flatMap((root) => [text(' '), imapString(root)]),
      ];
    case 'acl':
      return [
        text('* ACL '), mailboxName(response.mailbox, utf8),
        ...response.entries.flatMap(([identifier, rights]) => [text(' '), imapString(identifier), text(' '), imapString(rights)]),
      ];
    case 'listrights':
      return [
        text('* LISTRIGHTS '), mailboxName(response.mailbox, utf8), text(' '), imapString(response.identifier), text(' '),
        imapString(response.required), ...response.optional.flatMap((group) => [text(' '), imapString(group)]),
      ];
    case 'myrights':
      return [text('* MYRIGHTS '), mailboxName(response.mailbox, utf8), text(' '), imapString(response.rights)];
    case 'fetch':
      return fetchParts(response.seq, response.items);
    case 'fetches':
      return [fetchLines(response.answers).subarray(0, -2)];
    case 'fetch-lines':
      return [response.bytes.subarray(0, -2)];
  }
}

/** Response text may not contain CR or LF. */
function sanitizeText(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

function codeAndText(code: ResponseCode | undefined, value: string): string {
  const parts: string[] = [];
  if (code !== undefined) parts.push(`[${formatResponseCode(code)}]`);
  if (value !== '') parts.push(sanitizeText(value));
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

function uidSet(uids: number[] | string): string {
  return typeof uids === 'string' ? uids : compressSequence(uids);
}

/** The inside of `[...]`. */
export function formatResponseCode(code: ResponseCode): string {
  switch (code.code) {
    case 'UIDNEXT':
    case 'UIDVALIDITY':
    case 'UNSEEN':
    case 'HIGHESTMODSEQ':
      return `${code.code} ${code.value}`;
    case 'PERMANENTFLAGS':
      return `PERMANENTFLAGS (${code.flags.join(' ')})`;
    case 'MAILBOXID':
      return `MAILBOXID (${code.id})`;
    case 'METADATA':
      return `METADATA ${code.problem}${code.value !== undefined ? ` ${code.value}` : ''}`;
    case 'BADEVENT':
      return `BADEVENT (${code.events.join(' ')})`;
    case 'BADURL':
      return `BADURL ${code.url.replace(/[\]\r\n]/g, '')}`;
    case 'BADCHARSET':
      return code.charsets && code.charsets.length > 0 ? `BADCHARSET (${code.charsets.join(' ')})` : 'BADCHARSET';
    case 'CAPABILITY':
      return ['CAPABILITY', ...code.capabilities].join(' ');
    case 'APPENDUID':
      return `APPENDUID ${code.uidValidity} ${uidSet(code.uids)}`;
    case 'COPYUID':
      return `COPYUID ${code.uidValidity} ${uidSet(code.sourceUids)} ${uidSet(code.destinationUids)}`;
    case 'MODIFIED':
      return `MODIFIED ${uidSet(code.set)}`;
    default:
      return code.code;
  }
}

/** A mailbox name as a string: modified UTF-7 unless UTF-8 is enabled. */
export function mailboxName(name: string, utf8: boolean): Buffer {
  if (!utf8) return imapString(encodeModifiedUtf7(name));
  const bytes = Buffer.from(name, 'utf8');
  // RFC 6855 allows UTF-8 in quoted strings once UTF8=ACCEPT is enabled.
  return bytes.some((byte) => byte < 0x20 || byte === 0x7f) ? literal(bytes) : quoted(bytes);
}

/** `(\Seen \Answered $Label)`. */
export function flagList(flags: readonly string[]): Buffer {
  return text(`(${flags.join(' ')})`);
}

type ListResponse = Extract<ImapResponse, { type: 'list' | 'lsub' }>;

function listParts(response: ListResponse, utf8: boolean): Buffer[] {
  const delimiter = response.delimiter === null ? text('NIL') : quoted(text(response.delimiter));
  const parts = [
    text(`* ${response.type.toUpperCase()} (${response.attributes.join(' ')}) `),
    delimiter,
    text(' '),
    mailboxName(response.mailbox, utf8),
  ];
  const extended: Buffer[] = [];
  if (response.childInfo && response.childInfo.length > 0) {
    extended.push(text(`"CHILDINFO" (${response.childInfo.map((item) => `"${item}"`).join(' ')})`));
  }
  if (response.oldName !== undefined) {
    extended.push(Buffer.concat([text('"OLDNAME" ('), mailboxName(response.oldName, utf8), text(')')]));
  }
  if (extended.length > 0) parts.push(text(' ('), joinBuffers(extended, ' '), text(')'));
  return parts;
}

/** A METADATA value: a string when it can be one, a literal8 when it holds NUL bytes (RFC 5464 §5). */
function metadataValue(value: Buffer): Buffer {
  return value.includes(0) ? Buffer.concat([text(`~{${value.length}}\r\n`), value]) : imapString(value);
}

/**
 * `* THREAD` and every thread as RFC 5256 §4 writes it: a chain of single children in one
 * list `(1 2 3)`, a branch as one sub-list per child `(1 (2)(3 4))`. Written with an explicit
 * stack (a thread may nest as deep as the folder is large) into one list of pieces joined once.
 */
function threadLine(threads: ThreadNode[]): string {
  const out: string[] = [threads.length > 0 ? '* THREAD ' : '* THREAD'];
  const stack: Array<ThreadNode | null> = [];
  for (let t = threads.length - 1; t >= 0; t--) stack.push(threads[t]!);
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item === null) {
      out.push(')');
      continue;
    }
    out.push('(');
    let current: ThreadNode = item;
    let words = 0;
    for (;;) {
      if (current.id !== 0) {
        if (words > 0) out.push(' ');
        out.push(String(current.id));
        words++;
      }
      if (current.children.length !== 1) break;
      current = current.children[0]!;
    }
    if (current.children.length > 0 && words > 0) out.push(' ');
    stack.push(null);
    for (let i = current.children.length - 1; i >= 0; i--) stack.push(current.children[i]!);
  }
  return out.join('');
}

function searchLine(ids: number[], modSeq: number | bigint | undefined): string {
  const words = ['* SEARCH', ...ids.map(String)];
  if (modSeq !== undefined) words.push(`(MODSEQ ${modSeq})`);
  return words.join(' ');
}

type EsearchResponse = Extract<ImapResponse, { type: 'esearch' }>;

function esearchLine(response: EsearchResponse): Buffer {
  const parts: Buffer[] = [text('* ESEARCH')];
  if (response.tag !== undefined) parts.push(text(' (TAG '), imapString(response.tag), text(')'));
  if (response.uid) parts.push(text(' UID'));
  if (response.min !== undefined) parts.push(text(` MIN ${response.min}`));
  if (response.max !== undefined) parts.push(text(` MAX ${response.max}`));
  if (response.count !== undefined) parts.push(text(` COUNT ${response.count}`));
  if (response.all !== undefined && response.all.length > 0) parts.push(text(` ALL ${compressSequence(response.all)}`));
  if (response.modSeq !== undefined) parts.push(text(` MODSEQ ${response.modSeq}`));
  if (response.partial !== undefined) {
    const { low, high, ids } = response.partial;
    parts.push(text(` PARTIAL (${low}:${high} ${ids === null || ids.length === 0 ? 'NIL' : compressSequence(ids)})`));
  }
  if (response.addTo !== undefined) parts.push(text(` ADDTO (${response.addTo.position} ${compressSequence(response.addTo.ids)})`));
  if (response.removeFrom !== undefined) parts.push(text(` REMOVEFROM (${response.removeFrom.position} ${compressSequence(response.removeFrom.ids)})`));
  return Buffer.concat(parts);
}

function namespaceList(namespaces: NamespaceDescriptor[] | null, utf8: boolean): Buffer {
  if (namespaces === null || namespaces.length === 0) return text('NIL');
  const entries = namespaces.map((namespace) =>
    Buffer.concat([
      text('('),
      mailboxName(namespace.prefix, utf8),
      text(' '),
      namespace.delimiter === null ? text('NIL') : quoted(text(namespace.delimiter)),
      text(')'),
    ]),
  );
  return Buffer.concat([text('('), ...entries, text(')')]);
}

function idParameters(parameters: Array<[string, string | null]> | null): Buffer {
  if (parameters === null || parameters.length === 0) return text('NIL');
  const pairs = parameters.map(([field, value]) => Buffer.concat([imapString(field), text(' '), imapNString(value)]));
  return Buffer.concat([text('('), joinBuffers(pairs, ' '), text(')')]);
}

function joinBuffers(buffers: Buffer[], separator: string): Buffer {
  const parts: Buffer[] = [];
  buffers.forEach((buffer, index) => {
    if (index > 0) parts.push(text(separator));
    parts.push(buffer);
  });
  return Buffer.concat(parts);
}

/**
 * `* seq FETCH (name value name value)` in one buffer, sized first: a FETCH of a hundred
 * messages answers a hundred of these, and the small buffers and concatenations of a
 * part-by-part assembly were much of the kept-sessions profile's garbage collection.
 */
function fetchParts(seq: number, items: FetchResponseItem[]): Buffer[] {
  return [fetchLine(seq, items, false)];
}

function fetchLine(seq: number, items: FetchResponseItem[], crlf: boolean): Buffer {
  const writer = new LineWriter(fetchLineSize(seq, items, false) - (crlf ? 0 : 2), false);
  writer.line(seq, items, crlf);
  return writer.finish()[0]!;
}

/**
 * The `* n FETCH (...)` lines of many messages in one buffer, CRLF after each: a FETCH of
 * 500 messages is one allocation and one socket write instead of 500 of each.
 */
export function fetchLines(answers: readonly FetchAnswer[]): Buffer {
  return fetchLineParts(answers, false)[0]!;
}

/** Literals from this size on go out as their own buffer (`fetchLineParts`); smaller ones are copied into the line. */
const SEPARATE_LITERAL_BYTES = 4096;

/**
 * The lines of `fetchLines` as buffers to write in order: the text of all lines in one
 * allocation, cut where a large literal's bytes go out as they are (with `separate`), so
 * a `BODY.PEEK[]` of a 16 KiB body is neither concatenated nor copied before the socket.
 */
export function fetchLineParts(answers: readonly FetchAnswer[], separate = true): Buffer[] {
  let size = 0;
  for (let i = 0; i < answers.length; i++) size += fetchLineSize(answers[i]!.seq, answers[i]!.items, separate);
  const writer = new LineWriter(size, separate);
  for (let i = 0; i < answers.length; i++) writer.line(answers[i]!.seq, answers[i]!.items, true);
  return writer.finish();
}

/** Bytes of a line with its CRLF; with `separate`, without the bytes of the large literals sent beside it. */
function fetchLineSize(seq: number, items: FetchResponseItem[], separate: boolean): number {
  let size = FETCH_HEAD_BYTES + decimalDigits(seq) + 1 + 2;
  for (let i = 0; i < items.length; i++) {
    const value = items[i]!.value;
    const external = separate && isLiteral(value) && value.literal.length >= SEPARATE_LITERAL_BYTES ? value.literal.length : 0;
    size += (i > 0 ? 1 : 0) + textBytes(items[i]!.name) + 1 + fetchValueBytes(value) - external;
  }
  return size;
}

/** Bytes of an item's value as written. */
export function fetchValueBytes(value: Buffer | string | FetchLiteral): number {
  if (typeof value === 'string') return textBytes(value);
  if (isLiteral(value)) return literalPrefix(value).length + value.literal.length;
  return value.length;
}

function isLiteral(value: Buffer | string | FetchLiteral): value is FetchLiteral {
  return typeof value === 'object' && !Buffer.isBuffer(value);
}

function literalPrefix(value: FetchLiteral): string {
  return `${value.binary ? '~' : ''}{${value.literal.length}}\r\n`;
}

/** Short texts are copied by hand: below this length a loop is cheaper than a call into `Buffer.write`. */
const SHORT_TEXT = 64;

/**
 * Writes `value` as UTF-8 at `at` and returns the new end. The numbers, flags and item names
 * of a FETCH line are short ASCII: copied char by char, without the call into C++ that
 * `Buffer.write` makes per piece (four to six pieces per message, 480 messages per W3 `UID
 * FETCH 1:*`); anything longer or not ASCII goes through `Buffer.write`.
 */
function writeText(out: Buffer, at: number, value: string): number {
  const length = value.length;
  if (length <= SHORT_TEXT) {
    let i = 0;
    for (; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      out[at + i] = code;
    }
    if (i === length) return at + length;
  }
  return at + out.write(value, at, 'utf8');
}

/** `* ` and ` FETCH (` around the sequence number. */
const FETCH_HEAD_BYTES = 2 + 8;

/** Digits of a non-negative integer (a sequence number). */
function decimalDigits(value: number): number {
  let digits = 1;
  while (value >= 10) {
    value = Math.floor(value / 10);
    digits++;
  }
  return digits;
}

/** Writes a non-negative integer's digits at `at`; returns the new end. */
function writeDecimal(out: Buffer, at: number, value: number): number {
  const end = at + decimalDigits(value);
  let i = end;
  do {
    out[--i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  } while (value > 0);
  return end;
}

/** UTF-8 length of `value`: counted by hand for short ASCII (as `writeText` writes it). */
function textBytes(value: string): number {
  const length = value.length;
  if (length > SHORT_TEXT) return Buffer.byteLength(value, 'utf8');
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) >= 0x80) return Buffer.byteLength(value, 'utf8');
  return length;
}

/** Writes lines into one buffer sized beforehand, cutting it where a large literal goes out separately. */
class LineWriter {
  private readonly out: Buffer;
  private at = 0;
  private cut = 0;
  private readonly parts: Buffer[] = [];

  constructor(size: number, private readonly separate: boolean) {
    this.out = Buffer.allocUnsafe(size);
  }

  /** `* seq FETCH (items)`, with CRLF when `crlf`. */
  line(seq: number, items: FetchResponseItem[], crlf: boolean): void {
    const out = this.out;
    out[this.at++] = 0x2a;
    out[this.at++] = 0x20;
    this.at = writeDecimal(out, this.at, seq);
    this.at = writeText(out, this.at, ' FETCH (');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i > 0) out[this.at++] = 0x20;
      this.at = writeText(out, this.at, item.name);
      out[this.at++] = 0x20;
      this.value(item.value);
    }
    out[this.at++] = 0x29;
    if (crlf) {
      out[this.at++] = 0x0d;
      out[this.at++] = 0x0a;
    }
  }

  finish(): Buffer[] {
    if (this.at > this.cut || this.parts.length === 0) this.parts.push(this.out.subarray(this.cut, this.at));
    return this.parts;
  }

  private value(value: Buffer | string | FetchLiteral): void {
    if (typeof value === 'string') {
      this.at = writeText(this.out, this.at, value);
      return;
    }
    if (!isLiteral(value)) {
      this.out.set(value, this.at);
      this.at += value.length;
      return;
    }
    this.at = writeText(this.out, this.at, literalPrefix(value));
    if (!this.separate || value.literal.length < SEPARATE_LITERAL_BYTES) {
      this.out.set(value.literal, this.at);
      this.at += value.literal.length;
      return;
    }
    this.parts.push(this.out.subarray(this.cut, this.at), value.literal);
    this.cut = this.at;
  }
}

// ---------------------------------------------------------------- FETCH items

/** `FLAGS (\Seen)`. */
export function fetchFlags(flags: readonly string[]): FetchResponseItem {
  return { name: 'FLAGS', value: `(${flags.join(' ')})` };
}

/** `INTERNALDATE "17-Jul-1996 02:44:25 -0700"`, shown in the zone `zoneMinutes` east of UTC. */
export function fetchInternalDate(date: Date, zoneMinutes = 0): FetchResponseItem {
  return { name: 'INTERNALDATE', value: quoted(text(formatDateTime(date, zoneMinutes))) };
}

/** `UID n`, `RFC822.SIZE n`. */
export function fetchNumber(name: 'UID' | 'RFC822.SIZE', value: number): FetchResponseItem {
  return { name, value: String(value) };
}

/** `MODSEQ (n)`. */
export function fetchModSeq(modSeq: number | bigint): FetchResponseItem {
  return { name: 'MODSEQ', value: `(${modSeq})` };
}

/** An item whose value is already rendered: ENVELOPE, BODY, BODYSTRUCTURE. */
export function fetchRendered(name: 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE', value: Buffer | string): FetchResponseItem {
  return { name, value: typeof value === 'string' ? text(value) : value };
}

/** RFC822, RFC822.HEADER, RFC822.TEXT: the content as a literal (NIL when null). */
export function fetchLiteral(name: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT', content: Buffer | null): FetchResponseItem {
  return { name, value: content === null ? 'NIL' : { literal: content } };
}

/**
 * `BODY[1.2]<0> {n}` + bytes. `content` is what goes on the wire: for a
 * partial request it is already cut (sections.ts extractSection does that;
 * otherwise use cutPartial).
 */
export function fetchBodySection(item: BodySectionFetch, content: Buffer | null): FetchResponseItem {
  const name = `BODY[${formatSection(item.section)}]${partialOrigin(item.partial)}`;
  if (content === null) return { name, value: 'NIL' };
  return { name, value: { literal: content } };
}

/** `BINARY[1]<0> {n}` + bytes, as literal8 `~{n}` when the content has NUL bytes; content already cut. */
export function fetchBinarySection(item: BinaryFetch, content: Buffer | null): FetchResponseItem {
  const name = `BINARY[${item.part.join('.')}]${partialOrigin(item.partial)}`;
  if (content === null) return { name, value: 'NIL' };
  return { name, value: content.includes(0) ? { literal: content, binary: true } : { literal: content } };
}

/** `BINARY.SIZE[1] n`. */
export function fetchBinarySize(part: number[], size: number): FetchResponseItem {
  return { name: `BINARY.SIZE[${part.join('.')}]`, value: text(String(size)) };
}

/** The section spec as it goes inside `BODY[...]`: `1.2.HEADER.FIELDS (DATE FROM)`. */
export function formatSection(section: BodySection): string {
  const pieces: string[] = section.part.map(String);
  if (section.text !== undefined) pieces.push(section.text);
  let spec = pieces.join('.');
  if (section.fields !== undefined) spec += ` (${section.fields.map(headerFieldName).join(' ')})`;
  return spec;
}

function headerFieldName(field: string): string {
  return /^[\x21-\x7e]+$/.test(field) && !/[(){%*"\\\]]/.test(field) ? field : imapString(field).toString('latin1');
}

function partialOrigin(partial: PartialRange | undefined): string {
  return partial === undefined ? '' : `<${partial.offset}>`;
}

/** The bytes a `<offset.length>` request selects; an origin past the end gives an empty string. */
export function cutPartial(content: Buffer, partial: PartialRange | undefined): Buffer {
  if (partial === undefined) return content;
  if (partial.offset >= content.length) return Buffer.alloc(0);
  return content.subarray(partial.offset, partial.offset + partial.length);
}
