// The session proxy's side of a login on the node holding a mailbox: connect to that
// node's IMAP or POP3 listener, log in as the user with a cluster ticket (AUTHENTICATE
// PLAIN with an initial response; POP3 AUTH PLAIN), read its greeting and the answer. Every line from the owner is bounded; a dialog not done in time fails.
import net from 'node:net';

export type ProxiedProtocol = 'imap' | 'pop3';

export interface OwnerEndpoint {
  host: string;
  port: number;
  /** This node's own address, so that the owner sees a peer's address (unset when bound to a wildcard). */
  localAddress?: string;
}

export type OwnerLogin =
  /** Logged in: `forward` is what the client gets from the owner (POP3's +OK), `rest` any bytes after it. */
  /** (A POP3 owner's temporary refusal, [IN-USE] or [SYS/TEMP], is forwarded the same way: the client sees it.) */
  | { ok: true; socket: net.Socket; forward: Buffer; rest: Buffer }
  | { ok: false; reason: string };

const MAX_LINE = 16 * 1024;
const TAG = 'P1';

function plain(user: string, ticket: string): string {
  return Buffer.from(`\0${user}\0${ticket}`, 'utf8').toString('base64');
}

/** Lines from a socket, one at a time, each at most MAX_LINE bytes. */
class LineSource {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private failure: string | null = null;

  constructor(private readonly socket: net.Socket) {
    socket.on('data', this.onData);
    socket.once('end', () => this.fail('the owner closed the connection'));
    socket.once('error', (err) => this.fail(err.message));
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.waiter?.();
  };

  private fail(reason: string): void {
    this.failure ??= reason;
    this.waiter?.();
  }

  async line(): Promise<Buffer> {
    for (;;) {
      const end = this.buffered.indexOf('\r\n');
      if (end >= 0) {
        const line = this.buffered.subarray(0, end + 2);
        this.buffered = this.buffered.subarray(end + 2);
        return line;
      }
      if (this.buffered.length > MAX_LINE) throw new Error('the owner sent an overlong line');
      if (this.failure !== null) throw new Error(this.failure);
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = null;
    }
  }

  /** Stops reading lines; returns the bytes read past the last line. */
  release(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.pause();
    return this.buffered;
  }
}

function connect(endpoint: OwnerEndpoint): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: endpoint.host, port: endpoint.port, ...(endpoint.localAddress ? { localAddress: endpoint.localAddress } : {}) });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

// The login is sent with the connection, before the greeting arrives: the owner reads it
// once it has greeted (both protocols allow a client to send ahead), and the relay is
// set up in one round trip to the owner instead of two.

async function imapDialog(lines: LineSource, socket: net.Socket, user: string, ticket: string): Promise<OwnerLogin> {
  socket.write(`${TAG} AUTHENTICATE PLAIN ${plain(user, ticket)}\r\n`);
  const greeting = (await lines.line()).toString('latin1');
  if (!greeting.startsWith('* OK')) return { ok: false, reason: `greeting: ${greeting.trim()}` };
  for (;;) {
    const line = (await lines.line()).toString('latin1');
    if (line.startsWith('* ')) continue;
    if (line.startsWith(`${TAG} OK`)) return { ok: true, socket, forward: Buffer.alloc(0), rest: lines.release() };
    return { ok: false, reason: line.trim() };
  }
}

async function pop3Dialog(lines: LineSource, socket: net.Socket, user: string, ticket: string): Promise<OwnerLogin> {
  socket.write(`AUTH PLAIN ${plain(user, ticket)}\r\n`);
  const greeting = (await lines.line()).toString('latin1');
  if (!greeting.startsWith('+OK')) return { ok: false, reason: `greeting: ${greeting.trim()}` };
  const answer = await lines.line();
  const text = answer.toString('latin1');
  // +OK, or the owner's own answer about the maildrop: the client sees it as if from here.
  if (text.startsWith('+OK') || /^-ERR \[(IN-USE|SYS\/TEMP)\]/.test(text)) return { ok: true, socket, forward: answer, rest: lines.release() };
  return { ok: false, reason: text.trim() };
}

/** Logs `user` in on the owner's listener with `ticket`; a failure closes the connection. */
export async function loginOnOwner(protocol: ProxiedProtocol, endpoint: OwnerEndpoint, user: string, ticket: string, timeoutMs: number): Promise<OwnerLogin> {
  let socket: net.Socket | null = null;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<OwnerLogin>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no login within ${timeoutMs} ms` }), timeoutMs);
  });
  const dialog = (async (): Promise<OwnerLogin> => {
    socket = await connect(endpoint);
    socket.setNoDelay(true);
    const lines = new LineSource(socket);
    return protocol === 'imap' ? imapDialog(lines, socket, user, ticket) : pop3Dialog(lines, socket, user, ticket);
  })().catch((err: Error): OwnerLogin => ({ ok: false, reason: err.message }));
  const result = await Promise.race([dialog, timeout]);
  clearTimeout(timer);
  if (!result.ok) {
    (socket as net.Socket | null)?.destroy();
    // Timed out while connecting: a connection made later is closed too.
    void dialog.then((late) => late.ok && late.socket.destroy());
  }
  return result;
}
