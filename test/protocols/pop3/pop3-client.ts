// A minimal POP3 client for tests: raw lines out, raw bytes in, so transcripts
// and dot-stuffing can be checked byte for byte. Works over plain or TLS sockets.

import * as net from 'node:net';
import * as tls from 'node:tls';

export class Pop3TestClient {
  private buffer: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(private socket: net.Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.listen(socket);
  }

  static async connect(port: number): Promise<Pop3TestClient> {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: false });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new Pop3TestClient(socket);
  }

  static async connectTls(port: number, ca: Buffer): Promise<Pop3TestClient> {
    const socket = tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    return new Pop3TestClient(socket);
  }

  /** Upgrades after "+OK" to STLS; any unread bytes are an error. */
  async startTls(ca: Buffer): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    const secure = tls.connect({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.listen(secure);
  }

  get rawSocket(): net.Socket {
    return this.socket;
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  /** Sends one command and returns its single-line reply. */
  async command(line: string): Promise<string> {
    this.send(line);
    return this.readLine();
  }

  /** Sends one command expecting a multi-line reply: the status line and the raw body including ".\r\n". */
  async multiline(line: string): Promise<{ status: string; raw: Buffer }> {
    this.send(line);
    const status = await this.readLine();
    if (!status.startsWith('+OK')) return { status, raw: Buffer.alloc(0) };
    return { status, raw: await this.readUntilTerminator() };
  }

  async readLine(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end !== -1) {
        const line = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 2);
        return line;
      }
      await this.more();
    }
  }

  /** The raw bytes of a multi-line body through its terminating ".\r\n". */
  async readUntilTerminator(): Promise<Buffer> {
    let searchFrom = 0;
    for (;;) {
      if (this.buffer.length >= 3 && this.buffer.subarray(0, 3).toString('latin1') === '.\r\n') return this.take(3);
      const end = this.buffer.indexOf('\r\n.\r\n', searchFrom);
      if (end !== -1) return this.take(end + 5);
      searchFrom = Math.max(0, this.buffer.length - 4);
      await this.more();
    }
  }

  /** Everything the server sends until it closes the connection. */
  async readToEnd(): Promise<string> {
    while (!this.ended) await this.more();
    const rest = this.buffer.toString('latin1');
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private take(length: number): Buffer {
    const taken = this.buffer.subarray(0, length);
    this.buffer = this.buffer.subarray(length);
    return taken;
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  private notify(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }

  private more(): Promise<void> {
    if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 200))}`);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

/** What a correct server sends for a message body: stuffed lines, CRLF if missing, then ".". */
export function expectedRetrBody(content: string): string {
  const stuffed = content.replace(/(^|\n)\./g, '$1..');
  const withEnd = content.length === 0 || stuffed.endsWith('\r\n') ? stuffed : `${stuffed}\r\n`;
  return `${withEnd}.\r\n`;
}
