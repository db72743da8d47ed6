// Streaming transforms for RETR and TOP: byte-stuffing of lines that start with
// "." (RFC 1939 §3) and the "headers + blank line + n body lines" cut of TOP.
// Both keep only a few bytes of state across chunks, never the message. Pure.

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const DOT_BYTE = Buffer.from('.');
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

/**
 * Dot-stuffs a message as it streams. A "line start" is the start of the message
 * or any byte after LF: stuffing after a bare LF as well keeps an LF-tolerant
 * client from seeing a premature end of the message.
 */
export class DotStuffer {
  private atLineStart = true;
  private lastTwo: [number, number] = [-1, -1];
  private sawBytes = false;

  /** The stuffed bytes for one chunk, as pieces to write in order. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    const pieces: Buffer[] = [];
    let start = 0;
    // One native search per "." (memchr), not one per line: a search for "LF ." stops at
    // every LF. Most lines do not start with a dot, and base64 has none at all.
    let at = chunk.indexOf(DOT);
    while (at !== -1) {
      if (at === 0 ? this.atLineStart : chunk[at - 1] === LF) {
        if (at > start) pieces.push(chunk.subarray(start, at));
        pieces.push(DOT_BYTE);
        start = at;
      }
      at = chunk.indexOf(DOT, at + 1);
    }
    pieces.push(start === 0 ? chunk : chunk.subarray(start));
    this.remember(chunk);
    return pieces;
  }

  /** The end of the multi-line response: a CRLF if the message lacked one, then ".". */
  finish(): Buffer {
    const endsWithCrlf = this.lastTwo[0] === CR && this.lastTwo[1] === LF;
    if (!this.sawBytes || endsWithCrlf) return TERMINATOR;
    return Buffer.concat([CRLF, TERMINATOR]);
  }

  private remember(chunk: Buffer): void {
    this.sawBytes = true;
    const last = chunk[chunk.length - 1]!;
    const beforeLast = chunk.length >= 2 ? chunk[chunk.length - 2]! : this.lastTwo[1];
    this.lastTwo = [beforeLast, last];
    this.atLineStart = last === LF;
  }
}

/**
 * Passes the header section, the blank line after it, and then at most
 * `bodyLines` lines of the body; reports when nothing more will pass.
 */
export class TopLimiter {
  private inBody = false;
  private bodyLinesLeft: number;
  private lineLength = 0;
  private lineFirstByte = -1;

  constructor(bodyLines: number) {
    this.bodyLinesLeft = bodyLines;
  }

  get done(): boolean {
    return this.inBody && this.bodyLinesLeft === 0;
  }

  /** The part of the chunk to send; empty once done. */
  push(chunk: Buffer): Buffer {
    let position = 0;
    while (position < chunk.length && !this.done) {
      const lf = chunk.indexOf(LF, position);
      if (lf === -1) {
        this.extendLine(chunk, position, chunk.length);
        return chunk;
      }
      this.extendLine(chunk, position, lf);
      this.endLine();
      position = lf + 1;
    }
    return chunk.subarray(0, position);
  }

  private extendLine(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.lineLength === 0) this.lineFirstByte = chunk[from]!;
    this.lineLength += to - from;
  }

  private endLine(): void {
    const blank = this.lineLength === 0 || (this.lineLength === 1 && this.lineFirstByte === CR);
    if (this.inBody) this.bodyLinesLeft -= 1;
    else if (blank) this.inBody = true;
    this.lineLength = 0;
    this.lineFirstByte = -1;
  }
}
