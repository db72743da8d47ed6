// The reading side of one POP3 connection: turns socket bytes into a queue of
// command lines, pauses the socket when the client runs far ahead, and stops
// waiting on end of input, on the idle (autologout) timer or on request.

import type { Duplex } from 'node:stream';
import { LineReader, type InputLine } from './line-reader.js';

/** Lines read ahead of the command being processed before the socket is paused. */
const MAX_QUEUED_LINES = 64;

export type InputStop = 'idle' | 'interrupted';

export class CommandInput {
  private socket: Duplex;
  private reader: LineReader;
  private queue: InputLine[] = [];
  private ended = false;
  private ignoring = false;
  private stop: InputStop | undefined;
  private wake: (() => void) | undefined;
  /** When next() began waiting for the client; 0 while a command is being processed. */
  private waitingSince = 0;
  /**
   * One timer for the idle timeout, armed when a wait begins and none is pending; when it
   * fires early (the client sent commands meanwhile) it is armed again for the rest.
   * A timer per command would cost a set-up and a clear for every RETR.
   */
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    socket: Duplex,
    private readonly maxLineLength: number,
    private idleTimeoutMs: number,
    private readonly onSocketError: (error: Error) => void,
  ) {
    this.socket = socket;
    this.reader = new LineReader(maxLineLength);
    this.attachTo(socket);
  }

  /** The autologout time from now on (the session shortens it before login). */
  setIdleTimeout(ms: number): void {
    this.idleTimeoutMs = ms;
    // A pending timer was armed for the old timeout; the next wait arms one for the new.
    this.stopIdleTimer();
    if (this.waitingSince !== 0) this.armIdleTimer(Math.max(0, this.waitingSince + ms - Date.now()));
  }

  /** Command lines read and not yet taken: the client pipelined them. */
  hasQueued(): boolean {
    return this.queue.length > 0;
  }

  /** Why next() stopped returning lines, if not end of input. */
  get stoppedBy(): InputStop | undefined {
    return this.stop;
  }

  /**
   * The next command line, or undefined when input ended, the client was idle
   * for the idle timeout while a line was awaited, or interrupt() was called.
   */
  async next(): Promise<InputLine | undefined> {
    for (;;) {
      if (this.stop !== undefined) return undefined;
      const line = this.queue.shift();
      if (line !== undefined) {
        if (this.queue.length < MAX_QUEUED_LINES / 4) this.socket.resume();
        return line;
      }
      if (this.ended) return undefined;
      await this.waitForInput();
    }
  }

  /**
   * The lines read ahead and the partial line, as the client sent them (CRLF ended);
   * null when an over-long line is among them, since its bytes are gone.
   */
  unreadBytes(): Buffer | null {
    const partial = this.reader.partialLine();
    if (partial === null || this.queue.some((line) => line.kind === 'too-long')) return null;
    const lines = this.queue.map((line) => (line.kind === 'line' ? Buffer.from(`${line.text}\r\n`, 'utf8') : Buffer.alloc(0)));
    return Buffer.concat([...lines, partial]);
  }

  /** Feeds bytes another process read from this connection, ahead of the socket's. */
  feed(bytes: Buffer): void {
    this.onData(bytes);
  }

  /** Makes next() return undefined from now on, as after the idle timeout (login deadline passed). */
  expire(): void {
    this.stop ??= 'idle';
    this.wakeUp();
  }

  /** Makes next() return undefined from now on (server shutdown). */
  interrupt(): void {
    this.stop ??= 'interrupted';
    this.wakeUp();
  }

  /** The session is closing: whatever still arrives is read and dropped. */
  ignoreFurtherInput(): void {
    this.ignoring = true;
    this.queue = [];
    this.stopIdleTimer();
    this.wakeUp();
  }

  /**
   * Hands the plain socket over for STLS: stops reading it and drops everything
   * already read ahead, since it was sent in the clear (RFC 2595 §4).
   */
  releaseForTls(): Duplex {
    const plain = this.socket;
    plain.pause();
    plain.off('data', this.onData);
    plain.off('end', this.onEnd);
    plain.off('close', this.onEnd);
    // Keep a listener: an 'error' with none attached would crash the process.
    plain.off('error', this.onSocketError);
    plain.on('error', () => undefined);
    this.queue = [];
    this.reader = new LineReader(this.maxLineLength);
    return plain;
  }

  /** Reads from this socket (at construction, and the TLS socket after STLS). */
  attachTo(socket: Duplex): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onSocketError);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.ignoring) return;
    this.queue.push(...this.reader.push(chunk));
    if (this.queue.length >= MAX_QUEUED_LINES) this.socket.pause();
    this.wakeUp();
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    this.wakeUp();
  };

  private waitForInput(): Promise<void> {
    return new Promise((resolve) => {
      this.waitingSince = Date.now();
      this.armIdleTimer(this.idleTimeoutMs);
      this.wake = () => {
        this.waitingSince = 0;
        resolve();
      };
    });
  }

  private armIdleTimer(ms: number): void {
    if (this.idleTimer !== undefined) return;
    this.idleTimer = setTimeout(this.onIdleTimer, ms);
    this.idleTimer.unref();
  }

  private readonly onIdleTimer = (): void => {
    this.idleTimer = undefined;
    // Not waiting: the next wait arms the timer again.
    if (this.waitingSince === 0 || this.stop !== undefined) return;
    const left = this.waitingSince + this.idleTimeoutMs - Date.now();
    if (left > 0) {
      this.armIdleTimer(left);
      return;
    }
    this.stop = 'idle';
    this.wakeUp();
  };

  private stopIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
