// Test support for the IMAP listener: a real server with provisioned users, SMTP
// delivery through Python's smtplib, imapflow clients, and a raw-socket IMAP client.
import { ImapFlow } from 'imapflow';
import { expect } from 'vitest';
import { LineClient, python } from '../support/clients.js';
import { stats, waitForMessages, type TestServer } from '../support/server.js';

export async function deliver(server: TestServer, to: string[], raw: string | Buffer): Promise<void> {
  const before = (await stats(server)).messages;
  const body = typeof raw === 'string' ? raw : raw.toString('latin1');
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('sender@remote.test', sys.argv[2].split(','), sys.stdin.buffer.read())
s.quit()
`, [String(server.ports.smtp), to.join(',')], body);
  expect(code, stderr).toBe(0);
  await waitForMessages(server, before + to.length);
}

export async function connectFlow(server: TestServer, user: string, pass = 'pw'): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1', port: server.ports.imap, secure: false, auth: { user, pass },
    logger: false, disableAutoIdle: true, tls: { rejectUnauthorized: false },
  });
  await client.connect();
  return client;
}

export function message(subject: string, body = 'hello\r\n', extra = ''): string {
  return `From: Sender <sender@remote.test>\r\nTo: someone@example.test\r\nSubject: ${subject}\r\nDate: Fri, 02 Jan 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\n${extra}\r\n${body}`;
}

/** A raw IMAP client over LineClient: `run` sends one command and returns everything up to its tagged answer. */
export class RawImap {
  private counter = 0;

  constructor(readonly line: LineClient) {}

  static async open(server: TestServer, user?: string): Promise<RawImap> {
    const client = new RawImap(await LineClient.connect(server.ports.imap));
    await client.line.expect(/^\* OK .*\r\n/);
    if (user !== undefined) await client.run(`LOGIN ${user} pw`);
    return client;
  }

  async run(command: string, timeoutMs = 5000): Promise<string> {
    const tag = `t${++this.counter}`;
    this.line.send(`${tag} ${command}\r\n`);
    return this.line.expect(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n`), timeoutMs);
  }

  close(): void {
    this.line.close();
  }
}
