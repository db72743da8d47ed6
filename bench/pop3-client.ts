// A minimal raw-socket POP3 client for load generation: status lines are parsed,
// multi-line answers are skipped to their terminator without per-line work
// (like the anchor's --raw client), so the load generator stays cheap.
import net from 'node:net';
import { ReplyReader } from './reply-reader.js';

export class Pop3Client {
  private constructor(private readonly socket: net.Socket, private readonly reader: ReplyReader) {}

  static async connect(host: string, port: number): Promise<Pop3Client> {
    const socket = net.connect({ host, port, noDelay: true });
    const client = new Pop3Client(socket, new ReplyReader(socket));
    await client.status('greeting');
    return client;
  }

  /** Sends a command and returns its +OK line (throws on -ERR). */
  async command(line: string): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.status(line.split(' ')[0]);
  }

  /** Sends a command with a multi-line answer; returns the bytes of the answer's body. */
  async multiLine(line: string): Promise<number> {
    await this.command(line);
    return this.reader.multiLineBody();
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } finally {
      this.socket.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async status(what: string): Promise<string> {
    const text = await this.reader.line();
    if (!text.startsWith('+OK')) throw new Error(`${what}: ${text}`);
    return text;
  }
}
