// The writing half of an IMAP session: responses go to the socket, or through the
// DEFLATE stream once COMPRESS is active, batched into as few sends as possible (the
// socket corked while a command runs, or until the event loop is idle) and bounded: a
// client that stops reading is given `outputStallMs` once the buffer passes
// `outputBufferBytes`, then disconnected rather than buffered for.
import type net from 'node:net';
import zlib from 'node:zlib';
import { holdWritesUntilIdle } from '../core/write-batching.js';

/** Thrown to unwind a command when the connection is gone. */
export class SessionClosedError extends Error {
  constructor() {
    super('IMAP session closed');
  }
}

const COMMAND_CORK_BYTES = 256 * 1024;

export interface OutputLimits {
  outputBufferBytes: number;
  outputStallMs: number;
}

export class ImapOutput {
  /** Set once COMPRESS=DEFLATE is active: responses are written through it. */
  private deflate: zlib.DeflateRaw | null = null;
  /** A compressor flush is scheduled for when the event loop is idle. */
  private flushPending = false;
  /** The socket corked for the running command or input, uncorked when the last hold ends. */
  private commandCork: net.Socket | null = null;
  /** Nested holds (the input being run, the command in it); the cork goes with the last. */
  private holds = 0;
  /** A flush of what completed commands left held is scheduled for the next check of the event loop. */
  private flushScheduled = false;

  /** `onStall` closes the session when the client stopped reading (the buffered byte count given). */
  constructor(private socket: net.Socket, private readonly limits: OutputLimits, private readonly onStall: (buffered: number) => void) {}

  get compressing(): boolean {
    return this.deflate !== null;
  }

  /** After STARTTLS: responses go to the TLS socket. */
  useSocket(socket: net.Socket): void {
    this.socket = socket;
  }

  /** After COMPRESS: responses are deflated into the socket (RFC 4978). */
  compress(deflate: zlib.DeflateRaw): void {
    deflate.pipe(this.socket);
    this.deflate = deflate;
  }

  async write(bytes: Buffer): Promise<void> {
    if (this.commandCork === null) this.holdUntilIdle();
    if (this.deflate === null) this.socket.write(bytes);
    else this.deflate.write(bytes);
    this.flushLargeCommandOutput();
    if (this.buffered() > this.limits.outputBufferBytes) await this.waitForDrain();
  }

  /** Ends the output after the last response (LOGOUT, BYE). */
  end(): void {
    if (this.deflate !== null) this.deflate.end();
    else this.socket.end();
  }

  /**
   * A command's responses (a FETCH of 500 messages) leave in as few sends as possible:
   * the socket stays corked until the command completes, or until a quarter MiB waits.
   */
  holdForCommand(): void {
    this.hold();
  }

  /** The command completed: its answer leaves now, or with the next ones of the same read that complete in this turn. */
  releaseCommand(): void {
    this.release();
    if (this.holds > 0) this.flushSoon();
  }

  /**
   * The commands a client pipelined in one read (imaptest sends four or five at a time)
   * answer in as few sends as possible: the socket stays corked while the session runs
   * them, and what is held leaves when the event loop next checks (`setImmediate`), so
   * commands answered in the same turn share a send, and no answer waits for a later
   * command's synced write (one for the mailbox actor takes a turn at least).
   */
  holdForInput(): void {
    this.hold();
  }

  releaseInput(): void {
    this.release();
  }

  /** Sends whatever is held now, whatever holds remain (before handing the socket to another worker). */
  flushHeld(): void {
    const socket = this.commandCork;
    this.commandCork = null;
    socket?.uncork();
  }

  private hold(): void {
    this.holds += 1;
    if (this.commandCork !== null || this.deflate !== null) return;
    this.commandCork = this.socket;
    this.socket.cork();
  }

  private release(): void {
    this.holds = Math.max(0, this.holds - 1);
    if (this.holds === 0) this.flushHeld();
  }

  private flushSoon(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushHeld();
    });
  }

  buffered(): number {
    const compressing = this.deflate === null ? 0 : this.deflate.writableLength + this.deflate.readableLength;
    return this.socket.writableLength + compressing;
  }

  private flushLargeCommandOutput(): void {
    const socket = this.commandCork;
    if (socket === null || socket.writableLength < COMMAND_CORK_BYTES) return;
    socket.uncork();
    socket.cork();
  }

  /**
   * The responses written while handling one event leave in as few sends as possible:
   * the socket is corked (or the compressor not flushed) until the event loop is idle.
   */
  private holdUntilIdle(): void {
    const deflate = this.deflate;
    if (deflate === null) {
      holdWritesUntilIdle(this.socket);
      return;
    }
    if (this.flushPending) return;
    this.flushPending = true;
    setImmediate(() => {
      this.flushPending = false;
      if (!deflate.destroyed) deflate.flush(zlib.constants.Z_SYNC_FLUSH);
    });
  }

  /** Bounded output: a client that stops reading is disconnected, never buffered for. */
  private waitForDrain(): Promise<void> {
    const socket = this.socket;
    const output: NodeJS.EventEmitter = this.deflate ?? socket;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error): void => {
        clearTimeout(timer);
        output.off('drain', onDrain);
        socket.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = (): void => done();
      const onClose = (): void => done(new SessionClosedError());
      const timer = setTimeout(() => {
        this.onStall(this.buffered());
        done(new SessionClosedError());
      }, this.limits.outputStallMs);
      output.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }
}
