// Splits the client's byte stream into command lines (CRLF, bare LF tolerated)
// with a hard length limit: an over-long line is reported once and the rest of
// it is discarded as it arrives, so memory stays bounded by the limit. Pure.

export type InputLine = { kind: 'line'; text: string } | { kind: 'too-long' };

const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private discarding = false;

  /** @param maxLineLength octets allowed in one line, counting its CRLF */
  constructor(private readonly maxLineLength: number) {}

  /** Feeds bytes; returns the lines they complete, in order. */
  push(chunk: Buffer): InputLine[] {
    const lines: InputLine[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        this.keepPartial(chunk.subarray(start), lines);
        break;
      }
      this.completeLine(chunk.subarray(start, lf), lines);
      start = lf + 1;
    }
    return lines;
  }

  /** The bytes of a line not yet terminated; null while an over-long line is being dropped. */
  partialLine(): Buffer | null {
    return this.discarding ? null : Buffer.concat(this.pending);
  }

  /** Octets held for a line not yet terminated (never more than the limit). */
  get bufferedLength(): number {
    return this.pendingLength;
  }

  private completeLine(tail: Buffer, lines: InputLine[]): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const bytes = this.takePending(tail);
    const withoutCr = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, -1) : bytes;
    if (withoutCr.length + 2 > this.maxLineLength) {
      lines.push({ kind: 'too-long' });
      return;
    }
    lines.push({ kind: 'line', text: withoutCr.toString('utf8') });
  }

  private keepPartial(part: Buffer, lines: InputLine[]): void {
    if (this.discarding) return;
    // A CR may still be followed by LF, so the limit counts only the line's content.
    if (this.pendingLength + part.length > this.maxLineLength - 1) {
      this.pending = [];
      this.pendingLength = 0;
      this.discarding = true;
      lines.push({ kind: 'too-long' });
      return;
    }
    this.pending.push(Buffer.from(part));
    this.pendingLength += part.length;
  }

  private takePending(tail: Buffer): Buffer {
    if (this.pending.length === 0) return tail;
    const bytes = Buffer.concat([...this.pending, tail]);
    this.pending = [];
    this.pendingLength = 0;
    return bytes;
  }
}
