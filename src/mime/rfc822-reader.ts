// Lexical reader for structured header values (RFC 5322 atoms, quoted strings,
// comments, domains; RFC 2045 tokens and parameters with RFC 2231 merging).
// Lenient like Dovecot's rfc822-parser: every method returns a status, never throws.

const ATEXT = 1;
const TSPECIAL_IN_ATEXT = 2;

/** Per-octet classes: atext, and atext that is a MIME tspecial ("/", "=", "?"). */
const charClass = buildCharClass();

function buildCharClass(): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0x21; c < 0x7f; c++) table[c] = ATEXT;
  for (const c of '()<>[]:;@\\,."') table[c.charCodeAt(0)] = 0;
  for (const c of '/=?') table[c.charCodeAt(0)] = ATEXT | TSPECIAL_IN_ATEXT;
  for (let c = 0x80; c < 0x100; c++) table[c] = ATEXT;
  return table;
}

export function isAtext(code: number): boolean {
  return code < 256 && (charClass[code]! & ATEXT) !== 0;
}

function isMimeTokenChar(code: number): boolean {
  if (code === 0x2e) return true;
  return code < 256 && charClass[code] === ATEXT;
}

/**
 * Status values follow one convention: -1 malformed, 0 end of input reached,
 * 1 more input follows.
 */
export type ReadStatus = -1 | 0 | 1;

export class Rfc822Reader {
  pos = 0;
  /** Text of the last comment skipped, when tracking is on (for "addr (Name)"). */
  lastComment: string | null;

  constructor(readonly text: string, trackComments = false) {
    this.lastComment = trackComments ? '' : null;
  }

  get atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1;
  }

  private status(): ReadStatus {
    return this.atEnd ? 0 : 1;
  }

  skipComment(): ReadStatus {
    const s = this.text;
    let level = 1;
    let piece = '';
    let start = ++this.pos;
    for (; this.pos < s.length; this.pos++) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x28) {
        level++;
      } else if (c === 0x29) {
        if (--level === 0) {
          if (this.lastComment !== null) this.lastComment = piece + s.slice(start, this.pos);
          this.pos++;
          return this.status();
        }
      } else if (c === 0x5c) {
        piece += s.slice(start, this.pos);
        start = this.pos + 1;
        this.pos++;
        if (this.pos >= s.length) return -1;
      }
    }
    return -1;
  }

  /** Skip whitespace, line ends and comments. */
  skipLwsp(): ReadStatus {
    const s = this.text;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
        this.pos++;
        continue;
      }
      if (c !== 0x28) break;
      if (this.skipComment() < 0) return -1;
    }
    return this.status();
  }

  readAtom(out: string[]): ReadStatus {
    if (this.atEnd || !isAtext(this.peek())) return -1;
    const start = this.pos++;
    while (this.pos < this.text.length && isAtext(this.text.charCodeAt(this.pos))) this.pos++;
    out.push(this.text.slice(start, this.pos));
    return this.atEnd ? 0 : this.skipLwsp();
  }

  /** dot-atom, allowing whitespace around the dots as RFC 822 did. */
  readDotAtom(out: string[]): ReadStatus {
    if (this.atEnd || !isAtext(this.peek())) return -1;
    let start = this.pos++;
    for (;;) {
      while (this.pos < this.text.length && isAtext(this.text.charCodeAt(this.pos))) this.pos++;
      out.push(this.text.slice(start, this.pos));
      if (this.atEnd) return 0;
      const st = this.skipLwsp();
      if (st <= 0) return st;
      if (this.peek() !== 0x2e) return 1;
      this.pos++;
      out.push('.');
      const st2 = this.skipLwsp();
      if (st2 <= 0) return st2;
      start = this.pos;
    }
  }

  readMimeToken(out: string[]): ReadStatus {
    const start = this.pos;
    while (this.pos < this.text.length && isMimeTokenChar(this.text.charCodeAt(this.pos))) this.pos++;
    out.push(this.text.slice(start, this.pos));
    return this.atEnd ? 0 : this.skipLwsp();
  }

  /** Quoted string content (quotes and backslashes removed, folding line ends dropped). */
  readQuotedString(out: string[]): ReadStatus {
    const s = this.text;
    this.pos++;
    let start = this.pos;
    for (; this.pos < s.length; this.pos++) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out.push(s.slice(start, this.pos));
        this.pos++;
        return this.skipLwsp();
      }
      if (c === 0x0a) {
        let end = this.pos;
        if (end > start && s.charCodeAt(end - 1) === 0x0d) end--;
        out.push(s.slice(start, end));
        start = this.pos + 1;
      } else if (c === 0x5c) {
        this.pos++;
        if (this.pos >= s.length) return -1;
        out.push(s.slice(start, this.pos - 1));
        start = this.pos;
      }
    }
    return -1;
  }

  private readAtomOrDot(out: string[]): ReadStatus {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (!isAtext(c) && c !== 0x2e) break;
      this.pos++;
    }
    out.push(this.text.slice(start, this.pos));
    return this.atEnd ? 0 : this.skipLwsp();
  }

  /** phrase (display name): words joined by single spaces. */
  readPhrase(out: string[]): ReadStatus {
    if (this.atEnd) return 0;
    if (this.peek() === 0x2e) return -1;
    for (;;) {
      const st = this.peek() === 0x22 ? this.readQuotedString(out) : this.readAtomOrDot(out);
      if (st <= 0) return st;
      const c = this.peek();
      if (!isAtext(c) && c !== 0x22 && c !== 0x2e) break;
      out.push(' ');
    }
    return this.skipLwsp();
  }

  private readDomainLiteral(out: string[]): ReadStatus {
    const s = this.text;
    const start = this.pos;
    for (; this.pos < s.length; this.pos++) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x5c) {
        this.pos++;
        if (this.pos >= s.length) break;
      } else if (c === 0x5d) {
        this.pos++;
        out.push(s.slice(start, this.pos));
        return this.skipLwsp();
      }
    }
    return -1;
  }

  /** "@" domain; the reader is on the "@". */
  readDomain(out: string[]): ReadStatus {
    this.pos++;
    if (this.skipLwsp() <= 0) return -1;
    if (this.peek() === 0x5b) return this.readDomainLiteral(out);
    return this.readDotAtom(out);
  }

  /** type "/" subtype; on any error the result is "" (as Dovecot 2.3 reports it). */
  readContentType(): { value: string; status: ReadStatus } {
    const failed = { value: '', status: -1 as ReadStatus };
    if (this.skipLwsp() <= 0) return failed;
    const main: string[] = [];
    if (this.readMimeToken(main) <= 0 || main[0] === '') return failed;
    if (this.peek() !== 0x2f) return failed;
    this.pos++;
    if (this.skipLwsp() <= 0) return failed;
    const sub: string[] = [];
    const st = this.readMimeToken(sub);
    if (st < 0 || sub[0] === '' || (!this.atEnd && this.peek() !== 0x3b)) return failed;
    return { value: `${main[0]}/${sub[0]}`, status: st };
  }

  /** One ";" name "=" value parameter. */
  readParam(): { status: ReadStatus; name: string; value: string } {
    const none = { status: -1 as ReadStatus, name: '', value: '' };
    if (this.atEnd) return { status: 0, name: '', value: '' };
    if (this.peek() !== 0x3b) return none;
    this.pos++;
    if (this.skipLwsp() <= 0) return none;
    const name: string[] = [];
    if (this.readMimeToken(name) <= 0) return none;
    if (this.peek() !== 0x3d) return none;
    this.pos++;
    const value: string[] = [];
    let st = this.skipLwsp();
    if (st > 0) {
      if (this.peek() === 0x22) st = this.readQuotedString(value);
      else if (this.peek() === 0x3d) this.readBrokenEncodedValue(value);
      else st = this.readMimeToken(value);
    }
    return { status: st < 0 ? -1 : 1, name: name.join(''), value: value.join('') };
  }

  /** Workaround for name==?utf-8?b?...?= : take everything up to ";" or whitespace. */
  private readBrokenEncodedValue(out: string[]): void {
    const start = this.pos;
    while (this.pos < this.text.length && !' \t\r\n;'.includes(this.text[this.pos]!)) this.pos++;
    out.push(this.text.slice(start, this.pos));
  }
}

interface Rfc2231Piece {
  key: string;
  index: number;
  extended: boolean;
  value: string;
}

/**
 * All parameters after the current position, RFC 2231 continuations merged:
 * plain parameters first in their order, then merged ones sorted by name.
 */
export function readParameters(reader: Rfc822Reader): ParamResult {
  const plain: string[] = [];
  const pieces: Rfc2231Piece[] = [];
  let broken = false;
  for (;;) {
    const p = reader.readParam();
    if (p.status === 0) break;
    if (p.status < 0) {
      broken = true;
      if (reader.atEnd) break;
      reader.pos++;
      continue;
    }
    const piece = splitRfc2231Name(p.name, p.value);
    if (piece) pieces.push(piece);
    else plain.push(p.name, p.value);
  }
  return { params: plain.concat(mergeRfc2231(pieces)), broken };
}

export interface ParamResult {
  params: string[];
  broken: boolean;
}

function splitRfc2231Name(name: string, value: string): Rfc2231Piece | null {
  const star = name.indexOf('*');
  if (star < 0) return null;
  // "name*" alone is an extended value without index; "name*N" and "name*N*" are sections.
  let p = star;
  let index = 0;
  if (p + 1 < name.length) {
    p++;
    while (p < name.length && name.charCodeAt(p) >= 0x30 && name.charCodeAt(p) <= 0x39) {
      index = index * 10 + (name.charCodeAt(p) - 0x30);
      p++;
    }
  }
  let extended = false;
  if (name[p] === '*') {
    extended = true;
    p++;
  }
  if (p !== name.length) return null;
  return { key: name.slice(0, star), index, extended, value };
}

function mergeRfc2231(pieces: Rfc2231Piece[]): string[] {
  pieces.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index));
  const out: string[] = [];
  let i = 0;
  while (i < pieces.length) {
    let j = i;
    let complete = true;
    let extended = false;
    const key = pieces[i]!.key.toLowerCase();
    for (; j < pieces.length && pieces[j]!.key.toLowerCase() === key; j++) {
      if (pieces[j]!.index !== j - i) complete = false;
      if (pieces[j]!.extended) extended = true;
    }
    if (complete) out.push(...mergedPiece(pieces.slice(i, j), extended));
    else out.push(...unmergedPieces(pieces.slice(i, j)));
    i = j;
  }
  return out;
}

function mergedPiece(group: Rfc2231Piece[], extended: boolean): string[] {
  let value = !group[0]!.extended && extended ? "''" : '';
  for (const piece of group) {
    value += !piece.extended && extended ? piece.value.replace(/%/g, '%25') : piece.value;
  }
  return [extended ? `${group[0]!.key}*` : group[0]!.key, value];
}

function unmergedPieces(group: Rfc2231Piece[]): string[] {
  const out: string[] = [];
  for (const piece of group) {
    out.push(`${piece.key}*${piece.index}${piece.extended ? '*' : ''}`, piece.value);
  }
  return out;
}
