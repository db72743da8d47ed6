// Test support: SMTP senders that record which messages were acknowledged with 250,
// reconnecting when their connection drops (a killed server process).
import net from 'node:net';

export interface LoadOptions {
  port: number;
  worker: number;
  recipients: (i: number) => string;
  acked: Set<string>;
  /** When each acknowledged id got its 250 (Date.now()), if given. */
  ackedAt?: Map<string, number>;
  /** Stop after this many acknowledged messages for this sender. */
  count: number;
  /** Give up after this long (read before each message: setting it to 0 stops the sender). */
  deadline: number;
}

function lineReader(socket: net.Socket) {
  let buffer = '';
  const waiters: Array<() => void> = [];
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => {
    buffer += c;
    waiters.splice(0).forEach((w) => w());
  });
  socket.on('close', () => waiters.splice(0).forEach((w) => w()));
  return async (): Promise<string> => {
    for (;;) {
      const m = /^(\d{3}) [^\r\n]*\r\n/m.exec(buffer);
      if (m) {
        buffer = buffer.slice(m.index + m[0].length);
        return m[0];
      }
      if (socket.destroyed) throw new Error('closed');
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
}

async function session(options: LoadOptions, next: () => number): Promise<void> {
  const socket = net.connect(options.port, '127.0.0.1');
  socket.on('error', () => undefined);
  const read = lineReader(socket);
  try {
    await read();
    socket.write('EHLO load.test\r\n');
    await read();
    while (Date.now() < options.deadline) {
      const i = next();
      if (i < 0) return;
      const id = `w${options.worker}-m${i}`;
      socket.write(`MAIL FROM:<load@remote.test>\r\nRCPT TO:<${options.recipients(i)}>\r\nDATA\r\n`);
      await read();
      await read();
      await read();
      socket.write(`Subject: ${id}\r\n\r\n${'x'.repeat(1000)}\r\n.\r\n`);
      if ((await read()).startsWith('250')) {
        options.acked.add(id);
        options.ackedAt?.set(id, Date.now());
      }
    }
  } finally {
    socket.destroy();
  }
}

/** Sends `count` messages, reconnecting after failures; each id is tried once. */
export async function sendWithReconnect(options: LoadOptions): Promise<void> {
  let i = 0;
  const next = () => (i < options.count ? i++ : -1);
  while (i < options.count && Date.now() < options.deadline) {
    try {
      await session(options, next);
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
