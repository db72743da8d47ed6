// ENVELOPE, BODY and BODYSTRUCTURE responses (RFC 3501 §7.4.2) rendered from
// the stored MessageStructure, byte for byte as Dovecot 2.3 writes them,
// including its string policy (quoted vs literal, whitespace folding for humans).

import type { Envelope, EnvelopeAddress, MessageStructure, MimePart, ParamList } from '../../mime/types.js';

/** More quoted-specials than this and a literal is shorter than a quoted string. */
const QUOTED_MAX_ESCAPES = 4;
const DEFAULT_CHARSET = 'us-ascii';
const EMPTY_BODY = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)';
const EMPTY_BODYSTRUCTURE = '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)';

/** Collects output as byte strings (one char per octet) and returns a Buffer. */
class Out {
  private parts: string[] = [];
  add(s: string): void {
    this.parts.push(s);
  }
  toBuffer(): Buffer {
    return Buffer.from(this.parts.join(''), 'latin1');
  }
}

function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

function literalOf(s: string): string {
  return `{${s.length}}\r\n${s}`;
}

function quotedOf(s: string): string {
  return `"${s.replace(/[\r\n]/g, '').replace(/["\\]/g, '\\$&')}"`;
}

/** Dovecot's nstring: literal for CR, LF, 8-bit octets or many quoted-specials. */
export function nstring(value: string | null): string {
  if (value === null) return 'NIL';
  const s = cString(value);
  let escapes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c) {
      if (escapes++ < QUOTED_MAX_ESCAPES) continue;
      return literalOf(s);
    }
    if (c === 0x0d || c === 0x0a || c >= 0x80) return literalOf(s);
  }
  return quotedOf(s);
}

/** nstring with line ends removed first (a space is kept between joined lines). */
export function nstringNoLf(value: string | null): string {
  if (value === null || !/[\r\n]/.test(value)) return nstring(value);
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c !== '\r' && c !== '\n') {
      out += c;
      continue;
    }
    const next = value[i + 1];
    if (next !== ' ' && next !== '\t' && next !== '\r' && next !== '\n') out += ' ';
  }
  return nstring(out);
}

/** Human-readable text (subject, display name): whitespace runs folded to one space, trimmed. */
export function stringForHumans(value: string): string {
  if (!needsHumanRewrite(value)) return `"${value}"`;
  let out = '';
  let lastSpace = true;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a) continue;
    if (c === 0x20 || c === 0x09) {
      if (!lastSpace) out += ' ';
      lastSpace = true;
      continue;
    }
    out += c === 0 ? '\x80' : value[i];
    lastSpace = false;
  }
  if (out.endsWith(' ')) out = out.slice(0, -1);
  if (out.length === 0) return '""';
  return literalOf(out);
}

function needsHumanRewrite(value: string): boolean {
  if (value.length === 0) return false;
  if (/[\t\r\n"\\\0\x80-\xff]|  /.test(value)) return true;
  return value.startsWith(' ') || value.endsWith(' ');
}

function renderAddresses(list: EnvelopeAddress[] | null): string {
  if (list === null) return 'NIL';
  let out = '(';
  for (const a of list) {
    const name = a.name === null ? 'NIL' : stringForHumans(a.name);
    out += `(${name} ${nstring(a.route)} ${nstring(a.mailbox)} ${nstring(a.domain)})`;
  }
  return out + ')';
}

function envelopeText(env: Envelope): string {
  return [
    nstringNoLf(env.date),
    env.subject === null ? 'NIL' : stringForHumans(env.subject),
    renderAddresses(env.from),
    renderAddresses(env.sender ?? env.from),
    renderAddresses(env.replyTo ?? env.from),
    renderAddresses(env.to),
    renderAddresses(env.cc),
    renderAddresses(env.bcc),
    nstringNoLf(env.inReplyTo),
    nstringNoLf(env.messageId),
  ].join(' ');
}

/** The parenthesized ENVELOPE of the message. */
export function renderEnvelope(s: MessageStructure): Buffer {
  const out = new Out();
  out.add(`(${envelopeText(s.envelope)})`);
  return out.toBuffer();
}

function paramsText(params: ParamList | null, defaultCharset: boolean): string {
  const list = params ?? [];
  if (!defaultCharset && list.length === 0) return 'NIL';
  const items: string[] = [];
  let seenCharset = false;
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (list[i]!.toLowerCase() === 'charset') seenCharset = true;
    items.push(`${nstring(list[i]!)} ${nstring(list[i + 1]!)}`);
  }
  if (defaultCharset && !seenCharset) items.push(`"charset" "${DEFAULT_CHARSET}"`);
  return `(${items.join(' ')})`;
}

function extensionCommon(part: MimePart): string {
  const disposition = part.disposition
    ? `(${nstring(part.disposition.value)} ${paramsText(part.disposition.params, false)})`
    : 'NIL';
  const language = part.language ? `(${part.language.map((l) => nstring(l)).join(' ')})` : 'NIL';
  return ` ${disposition} ${language} ${nstringNoLf(part.location)}`;
}

function siblingsText(parts: MimePart[], extensible: boolean): string {
  return parts.map((p) => `(${partText(p, extensible)})`).join('');
}

function multipartText(part: MimePart, extensible: boolean): string {
  let out = part.children.length > 0 ? siblingsText(part.children, extensible) : extensible ? EMPTY_BODYSTRUCTURE : EMPTY_BODY;
  out += ` ${nstring(part.subtype ?? '')}`;
  if (!extensible) return out;
  return out + ` ${paramsText(part.params, false)}` + extensionCommon(part);
}

function singleText(part: MimePart, extensible: boolean): string {
  let out: string;
  let isText: boolean;
  if (part.kind === 'message') {
    out = '"message" "rfc822"';
    isText = false;
  } else if (part.type === null) {
    out = '"text" "plain"';
    isText = true;
  } else {
    out = `${nstring(part.type)} ${nstring(part.subtype ?? '')}`;
    isText = part.type.toLowerCase() === 'text';
  }
  out += ` ${paramsText(part.params, isText)}`;
  out += ` ${nstringNoLf(part.id)} ${nstringNoLf(part.description)}`;
  out += ` ${part.encoding === null ? '"7bit"' : nstring(part.encoding)}`;
  out += ` ${part.bodyEnd - part.bodyStart}`;
  if (isText) {
    out += ` ${part.lines}`;
  } else if (part.kind === 'message') {
    out += messageTail(part, extensible);
  }
  if (!extensible) return out;
  return out + ` ${nstringNoLf(part.md5)}` + extensionCommon(part);
}

function messageTail(part: MimePart, extensible: boolean): string {
  const inner = part.children[0];
  if (!inner) return ` (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) ${extensible ? EMPTY_BODYSTRUCTURE : EMPTY_BODY} ${part.lines}`;
  const env = inner.envelope ? envelopeText(inner.envelope) : 'NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL';
  return ` (${env}) (${partText(inner, extensible)}) ${part.lines}`;
}

function partText(part: MimePart, extensible: boolean): string {
  return part.kind === 'multipart' ? multipartText(part, extensible) : singleText(part, extensible);
}

/** BODYSTRUCTURE (extensible = true, with extension data) or BODY (false). */
export function renderBodyStructure(s: MessageStructure, extensible: boolean): Buffer {
  const out = new Out();
  out.add(`(${partText(s.root, extensible)})`);
  return out.toBuffer();
}
