// The texts a SEARCH reads from one message (bodies, headers, the Date day), decoded
// and case-folded once per command on first use, and each substring key answered once:
// a command repeating TEXT keys costs one decode per message, not one per key.
import { bodyTexts, decodedHeaderValues, foldCase, fullTexts, hasHeader, sentDay } from '../mime/search-text.js';
import { parseAddressList } from '../mime/addresses.js';
import type { ImapDate, SearchKey } from '../protocols/imap/types.js';
import type { MessageContent } from './fetch-items.js';

export interface SearchContent {
  structure: MessageContent['structure'];
  raw: Buffer;
}

/** A substring key (BODY, TEXT, a header key) as the text it searches and the string it looks for. */
export interface TextQuery {
  /** `address`: an address field, searched as written and as parsed (comments and spaces dropped). */
  source: 'body' | 'full' | 'header' | 'address';
  /** Header field name for `header` and `address`; '' otherwise. */
  field: string;
  value: string;
}

function queryId(query: TextQuery): string {
  return `${query.source}\u0000${query.field}\u0000${query.value}`;
}

export function textQueryOf(key: SearchKey): TextQuery | null {
  switch (key.key) {
    case 'BODY': return { source: 'body', field: '', value: key.value };
    case 'TEXT': return { source: 'full', field: '', value: key.value };
    case 'HEADER': return { source: 'header', field: key.field.toLowerCase(), value: key.value };
    case 'BCC': case 'CC': case 'FROM': case 'TO': return { source: 'address', field: key.key.toLowerCase(), value: key.value };
    case 'SUBJECT': return { source: 'header', field: 'subject', value: key.value };
    default: return null;
  }
}

/** One message's searchable texts, decoded and case-folded on first use and then reused by every key. */
export class MessageTexts {
  private body: string[] | undefined;
  private full: string[] | undefined;
  private sent: number | undefined;
  private readonly headers = new Map<string, string[]>();
  private readonly answers = new Map<string, boolean>();

  constructor(private readonly content: SearchContent) {}

  /** Whether the query's text contains its value (computed once, then remembered). */
  answer(query: TextQuery): boolean {
    const id = queryId(query);
    let found = this.answers.get(id);
    if (found === undefined) {
      found = this.contains(query);
      this.answers.set(id, found);
    }
    return found;
  }

  private contains(query: TextQuery): boolean {
    if (query.source === 'body') return anyContains(this.bodyTexts(), query.value);
    if (query.source === 'full') return anyContains(this.fullTexts(), query.value);
    // A `HEADER name ""` matches any message that has the field (RFC 3501 §6.4.4).
    const values = query.source === 'address' ? this.addressTexts(query.field) : this.headerValues(query.field);
    return values.length > 0 && anyContains(values, query.value);
  }

  bodyTexts(): string[] {
    this.body ??= bodyTexts(this.content.raw, this.content.structure).map(foldCase);
    return this.body;
  }

  fullTexts(): string[] {
    this.full ??= fullTexts(this.content.raw, this.content.structure).map(foldCase);
    return this.full;
  }

  /** The decoded values of a top-level header field; empty when the field is absent. */
  headerValues(field: string): string[] {
    const name = field.toLowerCase();
    let values = this.headers.get(name);
    if (values === undefined) {
      const { raw, structure } = this.content;
      values = hasHeader(structure, name) ? decodedHeaderValues(raw, structure, name).map(foldCase) : [];
      this.headers.set(name, values);
    }
    return values;
  }

  /**
   * An address field's decoded values, and each address as `name <mailbox@domain>`: a
   * FROM key finds `<user (comment)@ (comment) domain>` by its address, as Dovecot does.
   */
  addressTexts(field: string): string[] {
    const key = `address:${field}`;
    let texts = this.headers.get(key);
    if (texts === undefined) {
      const { raw, structure } = this.content;
      const decoded = hasHeader(structure, field) ? decodedHeaderValues(raw, structure, field) : [];
      texts = decoded.map(foldCase);
      for (const value of decoded) {
        for (const address of parseAddressList(value) ?? []) texts.push(foldCase(addressText(address)));
      }
      this.headers.set(key, texts);
    }
    return texts;
  }

  /** The Date header's day; a missing or unparsable header counts as 1 Jan 1970 (as Dovecot). */
  sentDayNumber(): number {
    if (this.sent === undefined) {
      const day = sentDay(this.content.raw, this.content.structure);
      this.sent = day === null ? 19700101 : dayNumber(day);
    }
    return this.sent;
  }
}

function addressText(address: { name: string | null; mailbox: string | null; domain: string | null }): string {
  const spec = address.domain === null ? address.mailbox ?? '' : `${address.mailbox ?? ''}@${address.domain}`;
  return address.name === null ? spec : `${address.name} <${spec}>`;
}

/** Substring match over texts already case-folded (search-text.ts containsText's rule). */
function anyContains(foldedTexts: string[], needle: string): boolean {
  if (needle === '') return true;
  const folded = foldCase(needle);
  return foldedTexts.some((text) => text.includes(folded));
}

/** A calendar day as one comparable number, yyyymmdd. */
export function dayNumber(date: ImapDate): number {
  return date.year * 10000 + date.month * 100 + date.day;
}
