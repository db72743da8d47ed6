// Splits the client's byte stream into command frames: the text lines of one
// command and the literals between them. Enforces the line and literal limits,
// and skips oversized input without buffering it. Used by ImapParser only.

import type { ContinuationEvent, ParseErrorEvent } from './types.js';

/** One command: text segments (without CRLF), literal i sits between text i and i+1. */
export interface CommandFrame {
  texts: Buffer[];
  literals: Buffer[];
}

export interface FramerLimits {
  maxLineLength: number;
  maxLiteralSize: number;
  maxAppendSize: number;
  /** Also report non-synchronizing literals as they are announced (the session budgets them). */
  reportNonSynchronizing?: boolean;
  /**
   * LITERAL- (RFC 7888 §4): the largest non-synchronizing literal accepted; a larger one is
   * answered tagged `BAD [TOOBIG]` and its bytes skipped. Unbounded (LITERAL+) when absent.
   */
  maxNonSyncLiteral?: number;
}

export type FramerOutput = { type: 'frame'; frame: CommandFrame } | ContinuationEvent | ParseErrorEvent;

type FramerState =
  | { kind: 'line' }
  | { kind: 'literal'; remaining: number; chunks: Buffer[] }
  | { kind: 'skip-literal'; remaining: number }
  /** Drop bytes up to LF; when `followLiterals`, a line ending in `{n+}` means more to skip. */
  | { kind: 'skip-line'; tail: string; followLiterals: boolean };

interface LiteralAnnouncement {
  size: number;
  synchronizing: boolean;
}

const LF = 0x0a;
const CR = 0x0d;
const LITERAL_AT_END = /~?\{(\d{1,12})([+-]?)\}$/;
const TAIL_KEEP = 24;

export class CommandFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private incoming: Buffer[] = [];
  private state: FramerState = { kind: 'line' };
  private frame: CommandFrame = emptyFrame();
  private frameTextBytes = 0;
  private frameLiteralBytes = 0;
  /** Bytes of the current line already scanned for LF. */
  private scanned = 0;

  constructor(private readonly limits: FramerLimits) {}

  /** Bytes received and not yet framed. */
  get bufferedBytes(): number {
    return this.buffer.length + this.incoming.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.incoming.push(chunk);
    // Oversized input is dropped as it arrives, even if nobody pulls.
    if (this.state.kind === 'skip-literal' || this.state.kind === 'skip-line') this.skip();
  }

  /**
   * The next frame, continuation request or error; undefined when more bytes
   * are needed. With `rawLine`, a line starting a new command is returned as a
   * frame of one text, without looking for a literal.
   */
  next(rawLine = false): FramerOutput | undefined {
    this.takeIncoming();
    for (;;) {
      switch (this.state.kind) {
        case 'skip-literal':
        case 'skip-line':
          if (!this.skip()) return undefined;
          break;
        case 'literal':
          if (!this.readLiteral(this.state)) return undefined;
          break;
        case 'line': {
          const output = this.readLine(rawLine);
          if (output !== null) return output;
          if (this.state.kind === 'line') return undefined;
          break;
        }
      }
    }
  }

  /**
   * Input received and not yet framed, when no command is half framed (between two
   * commands); null otherwise. The bytes stay buffered here.
   */
  unconsumed(): Buffer | null {
    if (this.state.kind !== 'line' || this.frame.texts.length > 0) return null;
    return Buffer.concat([this.buffer, ...this.incoming]);
  }

  /** Forget the command being framed (the session refused its literal). */
  abortCommand(): void {
    this.resetFrame();
    this.state = { kind: 'line' };
  }

  private takeIncoming(): void {
    if (this.incoming.length === 0) return;
    this.buffer = this.buffer.length === 0 && this.incoming.length === 1
      ? this.incoming[0]!
      : Buffer.concat([this.buffer, ...this.incoming]);
    this.incoming = [];
  }

  private resetFrame(): void {
    this.frame = emptyFrame();
    this.frameTextBytes = 0;
    this.frameLiteralBytes = 0;
    this.scanned = 0;
  }

  /** Returns an output, or null when it needs more bytes or changed state. */
  private readLine(rawLine: boolean): FramerOutput | null {
    const lf = this.buffer.indexOf(LF, this.scanned);
    if (lf < 0) {
      this.scanned = this.buffer.length;
      if (this.frameTextBytes + this.buffer.length > this.limits.maxLineLength + 1) return this.lineTooLong(false);
      return null;
    }
    const end = lf > 0 && this.buffer[lf - 1] === CR ? lf - 1 : lf;
    if (this.frameTextBytes + end > this.limits.maxLineLength) return this.lineTooLong(true, lf);
    const line = this.buffer.subarray(0, end);
    this.buffer = this.buffer.subarray(lf + 1);
    this.scanned = 0;
    this.frame.texts.push(line);
    this.frameTextBytes += line.length;
    const announcement = rawLine && this.frame.texts.length === 1 ? null : literalAnnouncement(line);
    if (announcement === null) return this.completeFrame();
    return this.startLiteral(announcement);
  }

  private completeFrame(): FramerOutput {
    const frame = this.frame;
    this.resetFrame();
    return { type: 'frame', frame };
  }

  private startLiteral(announcement: LiteralAnnouncement): FramerOutput | null {
    const head = commandHead(this.frame.texts[0]!);
    const limit = head.command === 'APPEND' ? this.limits.maxAppendSize : this.limits.maxLiteralSize;
    if (head.tag === null) return this.refuseLiteral(announcement, invalidCommand(head));
    const nonSyncLimit = this.limits.maxNonSyncLiteral;
    if (!announcement.synchronizing && nonSyncLimit !== undefined && announcement.size > nonSyncLimit) {
      return this.refuseLiteral(announcement, nonSyncTooBig(head, nonSyncLimit));
    }
    if (this.frameLiteralBytes + announcement.size > limit) {
      return this.refuseLiteral(announcement, literalTooBig(head, limit));
    }
    this.frameLiteralBytes += announcement.size;
    this.state = { kind: 'literal', remaining: announcement.size, chunks: [] };
    const event: ContinuationEvent = { type: 'continuation', tag: head.tag ?? '', command: head.command, size: announcement.size };
    if (announcement.synchronizing) return event;
    return this.limits.reportNonSynchronizing === true ? { ...event, nonSynchronizing: true } : null;
  }

  /** Drop the command; a literal the client sends without waiting is skipped. */
  private refuseLiteral(announcement: LiteralAnnouncement, error: ParseErrorEvent): ParseErrorEvent {
    this.resetFrame();
    if (announcement.synchronizing) {
      this.state = { kind: 'line' };
      return error;
    }
    this.state = { kind: 'skip-literal', remaining: announcement.size };
    return { ...error, skippedLiteral: announcement.size };
  }

  /** True when the literal is complete. */
  private readLiteral(state: { remaining: number; chunks: Buffer[] }): boolean {
    const take = Math.min(state.remaining, this.buffer.length);
    if (take > 0) {
      state.chunks.push(this.buffer.subarray(0, take));
      this.buffer = this.buffer.subarray(take);
      state.remaining -= take;
    }
    if (state.remaining > 0) return false;
    this.frame.literals.push(Buffer.concat(state.chunks));
    this.state = { kind: 'line' };
    return true;
  }

  private lineTooLong(lineComplete: boolean, lf = -1): FramerOutput {
    const head = commandHead(this.frame.texts[0] ?? this.buffer);
    this.resetFrame();
    if (lineComplete) {
      this.buffer = this.buffer.subarray(lf + 1);
    } else {
      this.buffer = Buffer.alloc(0);
      this.state = { kind: 'skip-line', tail: '', followLiterals: false };
    }
    return {
      type: 'error',
      tag: head.tag,
      command: head.command,
      response: 'BAD',
      code: 'LIMIT',
      text: `Command line too long (limit ${this.limits.maxLineLength} bytes)`,
    };
  }

  /** Drop skipped bytes; true when skipping ended and framing can resume. */
  private skip(): boolean {
    this.takeIncoming();
    for (;;) {
      const state = this.state;
      if (state.kind === 'skip-literal') {
        const take = Math.min(state.remaining, this.buffer.length);
        this.buffer = this.buffer.subarray(take);
        state.remaining -= take;
        if (state.remaining > 0) return false;
        this.state = { kind: 'skip-line', tail: '', followLiterals: true };
        continue;
      }
      if (state.kind !== 'skip-line') return true;
      const lf = this.buffer.indexOf(LF);
      if (lf < 0) {
        state.tail = (state.tail + this.buffer.toString('latin1')).slice(-TAIL_KEEP);
        this.buffer = Buffer.alloc(0);
        return false;
      }
      const tail = (state.tail + this.buffer.subarray(Math.max(0, lf - TAIL_KEEP), lf).toString('latin1'))
        .replace(/\r$/, '');
      this.buffer = this.buffer.subarray(lf + 1);
      const announcement = state.followLiterals ? literalAnnouncement(Buffer.from(tail, 'latin1')) : null;
      this.state = announcement && !announcement.synchronizing
        ? { kind: 'skip-literal', remaining: announcement.size }
        : { kind: 'line' };
    }
  }
}

function emptyFrame(): CommandFrame {
  return { texts: [], literals: [] };
}

function literalAnnouncement(line: Buffer): LiteralAnnouncement | null {
  if (line.length === 0 || line[line.length - 1] !== 0x7d) return null;
  const match = LITERAL_AT_END.exec(line.subarray(-TAIL_KEEP).toString('latin1'));
  if (!match) return null;
  return { size: Number(match[1]), synchronizing: match[2] === '' };
}

function invalidCommand(head: CommandHead): ParseErrorEvent {
  return { type: 'error', tag: head.tag, command: head.command, response: 'BAD', text: 'Invalid tag' };
}

function literalTooBig(head: CommandHead, limit: number): ParseErrorEvent {
  return {
    type: 'error',
    tag: head.tag,
    command: head.command,
    response: head.command === 'APPEND' ? 'NO' : 'BAD',
    code: 'TOOBIG',
    text: `Literal too big (limit ${limit} bytes)`,
  };
}

/** RFC 7888 §4: a LITERAL- server answers a larger non-synchronizing literal with BAD, TOOBIG advised. */
function nonSyncTooBig(head: CommandHead, limit: number): ParseErrorEvent {
  return {
    type: 'error', tag: head.tag, command: head.command, response: 'BAD', code: 'TOOBIG',
    text: `Non-synchronizing literal over ${limit} bytes (LITERAL-); use a synchronizing literal`,
  };
}

export interface CommandHead {
  tag: string | null;
  /** Upper-cased command name, `UID ` prefix removed; '' when unreadable. */
  command: string;
}

const TAG_PATTERN = /^[\x21\x23\x24\x26\x27\x2c-\x5b\x5d-\x7a\x7c-\x7e]+$/;
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]*$/;

/** The tag and command name at the start of a command line, as far as readable. */
export function commandHead(line: Buffer): CommandHead {
  const words = line.subarray(0, 256).toString('latin1').split(' ');
  const tag = words[0] !== undefined && TAG_PATTERN.test(words[0]) ? words[0] : null;
  if (tag === null) return { tag: null, command: '' };
  let name = (words[1] ?? '').toUpperCase();
  if (name === 'UID') name = (words[2] ?? '').toUpperCase();
  return { tag, command: NAME_PATTERN.test(name) ? name : '' };
}
