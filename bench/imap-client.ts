// A minimal raw-socket IMAP client for load generation: tagged commands, untagged
// responses with their literals skipped (not copied), so the load generator stays
// cheap. Each response is handed back as its text with every literal replaced by
// "{N}", which is enough to read UIDs, counts and EXISTS from.
import net from 'node:net';

export interface TaggedResult {
  /** OK, NO or BAD. */
  status: string;
  /** The tagged line after the status. */
  text: string;
  /** Untagged and continuation responses received before the tagged one. */
  untagged: string[];
  /** Bytes received for this command (responses and literals). */
  bytes: number;
}

export class ImapError extends Error {
  constructor(readonly command: string, readonly reply: string) {
    super(`${command}: ${reply}`);
  }
}

type Listener = (response: string) => void;

export class ImapClient {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Parts of the response being assembled (text between literals). */
  private partial = '';
  /** Literal bytes still to skip before the response continues. */
  private skip = 0;
  private bytesSeen = 0;
  private pending: string[] = [];
  private waiter: ((response: string | Error) => void) | null = null;
  private failure: Error | null = null;
  private nextTag = 1;
  /** Called with every complete response while no command is waiting (IDLE, unsolicited). */
  onUnsolicited: Listener | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by server')));
  }

  static async connect(host: string, port: number): Promise<ImapClient> {
    const socket = net.connect({ host, port, noDelay: true });
    const client = new ImapClient(socket);
    const greeting = await client.response();
    if (!greeting.startsWith('* OK') && !greeting.startsWith('* PREAUTH')) {
      socket.destroy();
      throw new ImapError('greeting', greeting);
    }
    return client;
  }

  /** Sends one command and collects responses up to its tagged completion. */
  async command(line: string): Promise<TaggedResult> {
    const tag = `a${this.nextTag++}`;
    const startBytes = this.bytesSeen;
    this.socket.write(`${tag} ${line}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const response = await this.response();
      if (response.startsWith(tag + ' ')) {
        const rest = response.slice(tag.length + 1);
        const space = rest.indexOf(' ');
        const status = space < 0 ? rest : rest.slice(0, space);
        return { status, text: space < 0 ? '' : rest.slice(space + 1), untagged, bytes: this.bytesSeen - startBytes };
      }
      untagged.push(response);
    }
  }

  /** Like command(), but throws unless the server answers OK. */
  async ok(line: string): Promise<TaggedResult> {
    const result = await this.command(line);
    if (result.status !== 'OK') throw new ImapError(line.split(' ')[0], `${result.status} ${result.text}`);
    return result;
  }

  /** Starts IDLE; resolves when the server sends its continuation ("+ idling"). */
  async idle(): Promise<string> {
    const tag = `a${this.nextTag++}`;
    this.socket.write(`${tag} IDLE\r\n`);
    for (;;) {
      const response = await this.response();
      if (response.startsWith('+')) return tag;
      if (response.startsWith(tag + ' ')) throw new ImapError('IDLE', response);
    }
  }

  /** Ends IDLE started with tag; resolves with the tagged line. */
  async done(tag: string): Promise<string> {
    this.socket.write('DONE\r\n');
    for (;;) {
      const response = await this.response();
      if (response.startsWith(tag + ' ')) return response;
    }
  }

  /** Sends LOGOUT and closes, ignoring a server that closes first. */
  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT');
    } catch {
      // The server may close right after its BYE; the session is over either way.
    }
    this.socket.destroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** The next complete response (literals elided), waiting for it if needed. */
  private response(): Promise<string> {
    const ready = this.pending.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = (r) => (r instanceof Error ? reject(r) : resolve(r));
    });
  }

  private deliver(response: string): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(response);
    } else if (this.onUnsolicited) {
      this.onUnsolicited(response);
    } else {
      this.pending.push(response);
    }
  }

  private receive(chunk: Buffer): void {
    this.bytesSeen += chunk.length;
    let data = chunk;
    if (this.buffered > 0) {
      this.chunks.push(chunk);
      data = Buffer.concat(this.chunks);
      this.chunks = [];
      this.buffered = 0;
    }
    let pos = 0;
    while (pos < data.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, data.length - pos);
        this.skip -= n;
        pos += n;
        continue;
      }
      const end = data.indexOf('\r\n', pos);
      if (end < 0) break;
      const line = data.toString('latin1', pos, end);
      pos = end + 2;
      const literal = /\{(\d+)\+?\}$/.exec(line);
      if (literal) {
        this.partial += line;
        this.skip = Number(literal[1]);
        continue;
      }
      const response = this.partial + line;
      this.partial = '';
      this.deliver(response);
    }
    if (pos < data.length) {
      this.chunks.push(data.subarray(pos));
      this.buffered = data.length - pos;
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(err);
    }
  }
}

/** Quotes a string for an IMAP command (quoted-string; no CR/LF expected). */
export function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (c) => '\\' + c)}"`;
}
