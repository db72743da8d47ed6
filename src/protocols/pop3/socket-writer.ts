// Writes responses to the client with backpressure. Up to a bound the socket may
// buffer freely; above it the writer waits for the client to read, and a client
// that makes no progress for the stall timeout loses its connection.

import type { Duplex } from 'node:stream';
import { holdWritesUntilIdle } from '../../core/write-batching.js';

/** The peer went away (or was cut off); the session ends without an error reply. */
export class ConnectionLostError extends Error {
  constructor(reason: string) {
    super(`connection lost: ${reason}`);
    this.name = 'ConnectionLostError';
  }
}

/**
 * Large buffers go out in pieces: the socket counts a write as pending until all
 * of it is sent, so small pieces let the stall check see a slow reader's progress.
 */
const WRITE_PIECE_BYTES = 64 * 1024;

export interface WriteLimits {
  /** Bytes the socket may hold unsent before writes wait for the client. */
  maxBufferedBytes: number;
  /** How long the buffer may stay above the bound without shrinking. */
  stallTimeoutMs: number;
}

export class SocketWriter {
  constructor(
    private socket: Duplex,
    private readonly limits: WriteLimits,
  ) {}

  /** Switches to another socket, after STLS wrapped the plain one in TLS. */
  replaceSocket(socket: Duplex): void {
    this.socket = socket;
  }

  async write(data: string | Buffer): Promise<void> {
    const wait = this.send(data);
    if (wait !== null) await wait;
  }

  /**
   * Queues `data` for the client; null when the caller may go on at once, else a promise
   * that resolves once the client has read enough (the common case allocates nothing).
   */
  send(data: string | Buffer): Promise<void> | null {
    if (typeof data === 'string' || data.length <= WRITE_PIECE_BYTES) return this.writePiece(data);
    return this.sendPieces(data);
  }

  /**
   * Sends a whole response. When the client waits for nothing else from us (`moreToAnswer`
   * false: no pipelined command left) and it fits the buffer bound, it leaves now in one
   * system call instead of at the end of the event loop's turn; otherwise it is queued
   * as send() does, so that answers to pipelined commands still leave together.
   */
  sendResponse(parts: ReadonlyArray<string | Buffer>, moreToAnswer: boolean): Promise<void> | null {
    let bytes = 0;
    for (const part of parts) bytes += part.length;
    if (moreToAnswer || bytes > this.limits.maxBufferedBytes) return this.sendInOrder(parts);
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return Promise.reject(new ConnectionLostError('socket closed'));
    // Inside a hold of this turn the uncork only ends this cork: the bytes keep their order.
    socket.cork();
    for (const part of parts) socket.write(part);
    socket.uncork();
    if (socket.writableLength <= this.limits.maxBufferedBytes) return null;
    return this.waitForProgress(socket);
  }

  private sendInOrder(parts: ReadonlyArray<string | Buffer>): Promise<void> | null {
    let wait: Promise<void> | null = null;
    for (const part of parts) wait = wait === null ? this.send(part) : wait.then(() => this.write(part));
    return wait;
  }

  private async sendPieces(data: Buffer): Promise<void> {
    for (let offset = 0; offset < data.length; offset += WRITE_PIECE_BYTES) {
      const wait = this.writePiece(data.subarray(offset, offset + WRITE_PIECE_BYTES));
      if (wait !== null) await wait;
    }
  }

  private writePiece(data: string | Buffer): Promise<void> | null {
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return Promise.reject(new ConnectionLostError('socket closed'));
    holdWritesUntilIdle(socket);
    socket.write(data);
    if (socket.writableLength <= this.limits.maxBufferedBytes) return null;
    return this.waitForProgress(socket);
  }

  /** Resolves on 'drain'; destroys the socket when the client stops reading. */
  private waitForProgress(socket: Duplex): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastLength = socket.writableLength;
      let lastProgressAt = Date.now();
      const checkEveryMs = Math.max(10, Math.min(1000, Math.floor(this.limits.stallTimeoutMs / 4)));
      const cleanup = (): void => {
        clearInterval(timer);
        socket.off('drain', onDrain);
        socket.off('close', onClose);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onClose = (): void => {
        cleanup();
        reject(new ConnectionLostError('socket closed while sending'));
      };
      const timer = setInterval(() => {
        const length = socket.writableLength;
        if (length < lastLength) {
          lastLength = length;
          lastProgressAt = Date.now();
          return;
        }
        if (Date.now() - lastProgressAt < this.limits.stallTimeoutMs) return;
        cleanup();
        socket.destroy();
        reject(new ConnectionLostError('client stopped reading'));
      }, checkEveryMs);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }
}
