// Reads RFC 3501 tokens (atoms, numbers, quoted strings, literals, astrings,
// nstrings) from one command frame. Syntax errors are thrown as
// CommandSyntaxError and turned into a BAD/NO event by the parser.

import type { CommandFrame } from './framer.js';
import type { ParseErrorEvent } from './types.js';

/** Thrown inside the parser; never escapes ImapParser.next(). */
export class CommandSyntaxError extends Error {
  constructor(
    message: string,
    readonly response: 'BAD' | 'NO' = 'BAD',
    readonly code?: ParseErrorEvent['code'],
  ) {
    super(message);
    this.name = 'CommandSyntaxError';
  }
}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const LITERAL_SPEC = /^(~?)\{(\d{1,12})([+-]?)\}$/;

/** ATOM-CHAR: CHAR except atom-specials `(){ %*"\]`, SP and CTL. */
export function isAtomChar(byte: number): boolean {
  if (byte <= 0x20 || byte >= 0x7f) return false;
  return !'(){%*"\\]'.includes(String.fromCharCode(byte));
}

/** ASTRING-CHAR: ATOM-CHAR or `]`. */
export function isAstringChar(byte: number): boolean {
  return isAtomChar(byte) || byte === 0x5d;
}

/** list-char: ATOM-CHAR, `%`, `*` or `]`. */
export function isListChar(byte: number): boolean {
  return isAstringChar(byte) || byte === 0x25 || byte === 0x2a;
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

export interface LiteralValue {
  data: Buffer;
  /** literal8 `~{n}`. */
  binary: boolean;
}

export class TokenReader {
  private segment = 0;
  private pos = 0;

  constructor(private readonly frame: CommandFrame) {}

  private get text(): Buffer {
    return this.frame.texts[this.segment]!;
  }

  /** The byte at the cursor, undefined at the end of a text segment. */
  peek(): number | undefined {
    return this.text[this.pos];
  }

  peekChar(): string {
    const byte = this.peek();
    return byte === undefined ? '' : String.fromCharCode(byte);
  }

  atEnd(): boolean {
    return this.segment === this.frame.texts.length - 1 && this.pos >= this.text.length;
  }

  expectEnd(): void {
    if (!this.atEnd()) throw new CommandSyntaxError('Unexpected characters at end of command');
  }

  /** True (and consumed) when the next byte is `char`. */
  consume(char: string): boolean {
    if (this.peek() !== char.charCodeAt(0)) return false;
    this.pos++;
    return true;
  }

  expect(char: string, what = `"${char}"`): void {
    if (!this.consume(char)) throw new CommandSyntaxError(`Expected ${what}`);
  }

  space(): void {
    this.expect(' ', 'a space');
  }

  /** The longest run of bytes matching `accept`, as latin1 text (may be empty). */
  readWhile(accept: (byte: number) => boolean): string {
    const start = this.pos;
    while (this.pos < this.text.length && accept(this.text[this.pos]!)) this.pos++;
    return this.text.toString('latin1', start, this.pos);
  }

  /** The atom at the cursor, without consuming it ('' if none). */
  peekAtom(): string {
    let end = this.pos;
    while (end < this.text.length && isAtomChar(this.text[end]!)) end++;
    return this.text.toString('latin1', this.pos, end);
  }

  readAtom(what = 'an atom'): string {
    const atom = this.readWhile(isAtomChar);
    if (atom === '') throw new CommandSyntaxError(`Expected ${what}`);
    return atom;
  }

  /** An atom compared case-insensitively. */
  readKeyword(what = 'a keyword'): string {
    return this.readAtom(what).toUpperCase();
  }

  /** A decimal number up to `max` (default: 32-bit). */
  readNumber(what = 'a number', max = 0xffffffff): number {
    const digits = this.readWhile((byte) => isDigit(byte));
    if (digits === '' || digits.length > 20) throw new CommandSyntaxError(`Expected ${what}`);
    const value = Number(digits);
    if (value > max) throw new CommandSyntaxError(`${what} out of range`);
    return value;
  }

  readNonZeroNumber(what = 'a non-zero number'): number {
    const value = this.readNumber(what);
    if (value === 0) throw new CommandSyntaxError(`Expected ${what}`);
    return value;
  }

  /** A 63-bit value (modseq, quota), limited to what a JS number holds exactly. */
  readNumber64(what = 'a number'): number {
    return this.readNumber(what, Number.MAX_SAFE_INTEGER);
  }

  isQuotedAhead(): boolean {
    return this.peek() === DQUOTE;
  }

  isLiteralAhead(): boolean {
    const byte = this.peek();
    return byte === 0x7b || (byte === 0x7e && this.text[this.pos + 1] === 0x7b);
  }

  readQuoted(): Buffer {
    this.expect('"', 'a quoted string');
    const out: number[] = [];
    for (;;) {
      const byte = this.text[this.pos++];
      if (byte === undefined) throw new CommandSyntaxError('Unterminated quoted string');
      if (byte === DQUOTE) return Buffer.from(out);
      if (byte === 0) throw new CommandSyntaxError('NUL in quoted string');
      if (byte === BACKSLASH) {
        const escaped = this.text[this.pos++];
        if (escaped !== DQUOTE && escaped !== BACKSLASH) throw new CommandSyntaxError('Invalid escape in quoted string');
        out.push(escaped);
        continue;
      }
      out.push(byte);
    }
  }

  /** `{n}` / `{n+}` / `{n-}` (and `~{n}` when binary is allowed) ending this text segment. */
  readLiteral(allowBinary = false): LiteralValue {
    const spec = this.text.toString('latin1', this.pos);
    const match = LITERAL_SPEC.exec(spec);
    if (!match) throw new CommandSyntaxError('Invalid literal');
    const binary = match[1] === '~';
    if (binary && !allowBinary) throw new CommandSyntaxError('literal8 not allowed here');
    const data = this.frame.literals[this.segment];
    if (data === undefined || data.length !== Number(match[2])) throw new CommandSyntaxError('Invalid literal');
    if (!binary && data.includes(0)) throw new CommandSyntaxError('NUL in literal');
    this.segment++;
    this.pos = 0;
    return { data, binary };
  }

  /** string = quoted / literal. */
  readString(what = 'a string'): Buffer {
    if (this.isQuotedAhead()) return this.readQuoted();
    if (this.isLiteralAhead()) return this.readLiteral().data;
    throw new CommandSyntaxError(`Expected ${what}`);
  }

  /** astring = 1*ASTRING-CHAR / string. */
  readAstring(what = 'a string'): Buffer {
    if (this.isQuotedAhead() || this.isLiteralAhead()) return this.readString(what);
    const start = this.pos;
    const atom = this.readWhile(isAstringChar);
    if (atom === '') throw new CommandSyntaxError(`Expected ${what}`);
    return this.text.subarray(start, this.pos);
  }

  /** nstring = string / NIL. */
  readNString(what = 'a string or NIL'): Buffer | null {
    if (this.isQuotedAhead() || this.isLiteralAhead()) return this.readString(what);
    if (this.readAtom(what).toUpperCase() !== 'NIL') throw new CommandSyntaxError(`Expected ${what}`);
    return null;
  }

  /** list-mailbox = 1*list-char / string. */
  readListMailbox(): Buffer {
    if (this.isQuotedAhead() || this.isLiteralAhead()) return this.readString('a mailbox pattern');
    const start = this.pos;
    if (this.readWhile(isListChar) === '') throw new CommandSyntaxError('Expected a mailbox pattern');
    return this.text.subarray(start, this.pos);
  }

  /** `(` item *(SP item) `)`; `allowEmpty` for `()`. */
  readList<T>(readItem: () => T, allowEmpty = true): T[] {
    this.expect('(');
    const items: T[] = [];
    if (this.consume(')')) {
      if (!allowEmpty) throw new CommandSyntaxError('Empty list');
      return items;
    }
    for (;;) {
      items.push(readItem());
      if (this.consume(')')) return items;
      this.space();
    }
  }

  /** True when a space follows (and consumes it). */
  spaceFollows(): boolean {
    if (this.peek() !== SP) return false;
    this.pos++;
    return true;
  }
}
