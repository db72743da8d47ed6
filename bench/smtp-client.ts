// A minimal raw-socket SMTP client for load generation: EHLO once, then any number
// of transactions on the same connection, optionally pipelined (RFC 2920: MAIL,
// RCPTs and DATA in one write). Measures DATA end → final reply per message.
import net from 'node:net';
import { ReplyReader } from './reply-reader.js';

export class SmtpError extends Error {
  constructor(readonly stage: string, readonly reply: string) {
    super(`${stage}: ${reply}`);
  }
}

export interface Transaction {
  from: string;
  to: string[];
  /** The message, already dot-stuffed, CRLF line endings, not including the final ".". */
  data: Buffer;
}

export class SmtpClient {
  private pipelining = false;

  private constructor(private readonly socket: net.Socket, private readonly reader: ReplyReader) {}

  static async connect(host: string, port: number, helo = 'client.example.net', auth?: { user: string; password: string }): Promise<SmtpClient> {
    const socket = net.connect({ host, port, noDelay: true });
    const reader = new ReplyReader(socket);
    const client = new SmtpClient(socket, reader);
    const greeting = await reader.smtpReply();
    if (greeting.code !== 220) throw new SmtpError('greeting', greeting.lines.join(' | '));
    socket.write(`EHLO ${helo}\r\n`);
    const ehlo = await reader.smtpReply();
    if (ehlo.code !== 250) throw new SmtpError('EHLO', ehlo.lines.join(' | '));
    client.pipelining = ehlo.lines.some((l) => l.slice(4).toUpperCase().startsWith('PIPELINING'));
    if (auth) {
      socket.write(`AUTH PLAIN ${Buffer.from(`\0${auth.user}\0${auth.password}`).toString('base64')}\r\n`);
      const authReply = await reader.smtpReply();
      if (authReply.code !== 235) {
        socket.destroy();
        throw new SmtpError('AUTH', authReply.lines.join(' | '));
      }
    }
    return client;
  }

  get supportsPipelining(): boolean {
    return this.pipelining;
  }

  /**
   * Sends one message; resolves with the milliseconds from writing the final "."
   * to the server's reply, and how many recipients were accepted.
   */
  async send(tx: Transaction, pipeline: boolean): Promise<{ latencyMs: number; accepted: number }> {
    const envelope = [`MAIL FROM:<${tx.from}>`, ...tx.to.map((r) => `RCPT TO:<${r}>`), 'DATA'];
    let accepted = 0;
    if (pipeline && this.pipelining) {
      this.socket.write(envelope.join('\r\n') + '\r\n');
      accepted = await this.readEnvelopeReplies(tx.to.length);
    } else {
      for (let i = 0; i < envelope.length; i++) {
        this.socket.write(envelope[i] + '\r\n');
        const reply = await this.reader.smtpReply();
        if (i === 0 && reply.code !== 250) throw new SmtpError('MAIL', reply.lines[0]);
        if (i > 0 && i <= tx.to.length && reply.code === 250) accepted += 1;
        if (i === envelope.length - 1 && reply.code !== 354) {
          await this.reset();
          throw new SmtpError('DATA', reply.lines[0]);
        }
      }
    }
    this.socket.write(tx.data);
    const started = process.hrtime.bigint();
    this.socket.write('.\r\n');
    const final = await this.reader.smtpReply();
    const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (final.code !== 250) throw new SmtpError('end of DATA', final.lines[0]);
    return { latencyMs, accepted };
  }

  async quit(): Promise<void> {
    this.socket.write('QUIT\r\n');
    try {
      await this.reader.smtpReply();
    } catch {
      // The server may close before we read its 221; the session is over either way.
    }
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async readEnvelopeReplies(rcpts: number): Promise<number> {
    const mail = await this.reader.smtpReply();
    let accepted = 0;
    for (let i = 0; i < rcpts; i++) if ((await this.reader.smtpReply()).code === 250) accepted += 1;
    const data = await this.reader.smtpReply();
    if (mail.code !== 250) throw new SmtpError('MAIL', mail.lines[0]);
    if (data.code !== 354) {
      if (data.code >= 400) await this.reset();
      throw new SmtpError('DATA', data.lines[0]);
    }
    return accepted;
  }

  private async reset(): Promise<void> {
    this.socket.write('RSET\r\n');
    await this.reader.smtpReply();
  }
}
