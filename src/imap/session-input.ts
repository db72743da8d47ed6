// The reading half of an IMAP session: the bytes that arrived from the client (from the
// socket, or from the inflater once COMPRESS is active) wait here for the session actor,
// which takes one chunk per message. The queue is bounded: past `inputQueueBytes` the
// source is paused, and resumed when the actor has caught up, so a client pipelining
// faster than its commands run (or a small compressed bomb) never fills memory. After
// the session closed, input is read on only to see the client's FIN.
import type net from 'node:net';
import zlib from 'node:zlib';

/** Input read and dropped after the session closed, before the socket is no longer read. */
const DISCARD_AFTER_CLOSE_BYTES = 64 * 1024;

export class ImapInput {
  /** Where input comes from: the socket, or the inflater under COMPRESS; paused when too much waits. */
  private source: NodeJS.ReadableStream;
  /** COMPRESS: the client's compressed input is inflated here, paused while its output waits. */
  private inflate: zlib.InflateRaw | null = null;
  private readonly chunks: Buffer[] = [];
  private queued = 0;
  private bytesAfterClose = 0;

  constructor(socket: net.Socket, private readonly queueBytes: number) {
    this.source = socket;
  }

  get compressed(): boolean {
    return this.inflate !== null;
  }

  /** Input now comes from this socket (the connection's, or the TLS one after STARTTLS). */
  readFrom(socket: net.Socket): void {
    this.source = socket;
  }

  /** Queues client bytes; the source pauses while too much waits. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued > this.queueBytes) this.source.pause();
  }

  /** The next chunk for the parser, resuming the source once the queue is short again. */
  next(): Buffer | undefined {
    const chunk = this.chunks.shift();
    if (chunk === undefined) return undefined;
    this.queued -= chunk.length;
    if (this.source.isPaused() && this.queued < this.queueBytes / 4) this.source.resume();
    return chunk;
  }

  /** What is queued and not yet parsed (a handoff passes it on). */
  pending(): Buffer[] {
    return [...this.chunks];
  }

  /** Drops everything queued (input sent before STARTTLS or COMPRESS took effect); returns its size. */
  drop(): number {
    const dropped = this.queued;
    this.chunks.length = 0;
    this.queued = 0;
    return dropped;
  }

  /**
   * A closing session reads on only to see the client's FIN; a client still sending
   * (the rest of a refused literal) is no longer read at all.
   */
  discardAfterClose(bytes: number): void {
    this.bytesAfterClose += bytes;
    if (this.bytesAfterClose > DISCARD_AFTER_CLOSE_BYTES) this.source.pause();
  }

  /**
   * COMPRESS (RFC 4978 §3): the socket's bytes are inflated before they are queued;
   * inflating is paced (the inflater pauses the socket while its output waits).
   */
  decompress(socket: net.Socket, receive: (chunk: Buffer) => void, onError: (err: Error) => void): void {
    const inflate = zlib.createInflateRaw();
    socket.on('data', (chunk: Buffer) => {
      if (!inflate.write(chunk)) socket.pause();
    });
    inflate.on('drain', () => socket.resume());
    inflate.on('data', receive);
    inflate.on('error', onError);
    this.inflate = inflate;
    this.source = inflate;
  }

  close(): void {
    this.inflate?.destroy();
  }
}
