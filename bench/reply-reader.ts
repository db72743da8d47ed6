// Line-oriented reply reading for the raw-socket protocol clients used by the
// benchmarks: buffers socket data and hands out complete CRLF lines or, for
// POP3 multi-line answers, everything up to the terminating "." line.
import type { Socket } from 'node:net';

type Waiter = () => boolean;

export class ReplyReader {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: Waiter | null = null;
  private failure: Error | null = null;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.poke();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by server')));
  }

  /** One CRLF-terminated line, without the CRLF. */
  line(): Promise<string> {
    return this.until(() => {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return null;
      const text = this.buffer.toString('latin1', 0, end);
      this.buffer = this.buffer.subarray(end + 2);
      return text;
    });
  }

  /** An SMTP reply (possibly multi-line "250-..."): its code and its lines. */
  async smtpReply(): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    for (;;) {
      const text = await this.line();
      lines.push(text);
      if (text.length < 4 || text[3] !== '-') return { code: Number(text.slice(0, 3)), lines };
    }
  }

  /**
   * The body of a POP3 multi-line answer whose status line was already read:
   * skips to the CRLF.CRLF terminator and returns how many bytes it spanned.
   */
  multiLineBody(): Promise<number> {
    return this.until(() => {
      if (this.buffer.length >= 3 && this.buffer[0] === 0x2e && this.buffer[1] === 0x0d && this.buffer[2] === 0x0a) {
        this.buffer = this.buffer.subarray(3);
        return 3;
      }
      const end = this.buffer.indexOf('\r\n.\r\n');
      if (end < 0) return null;
      this.buffer = this.buffer.subarray(end + 5);
      return end + 5;
    });
  }

  private until<T>(take: () => T | null): Promise<T> {
    const now = this.failure ? null : take();
    if (now !== null) return Promise.resolve(now);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      this.waiter = () => {
        if (this.failure) {
          reject(this.failure);
          return true;
        }
        const value = take();
        if (value === null) return false;
        resolve(value);
        return true;
      };
    });
  }

  private poke(): void {
    if (this.waiter && this.waiter()) this.waiter = null;
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    this.poke();
  }
}
