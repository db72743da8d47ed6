// Test support: one SMTP transaction over a raw socket, returning each reply, for
// tests that need the exact codes (452 on a full disk, 421 on a timeout).
import { LineClient } from './clients.js';

export interface TransactionReplies {
  mailFrom: string;
  rcptTo: string;
  data: string;
  /** The reply after the message's final dot (empty when DATA was refused). */
  end: string;
}

export async function greetedClient(port: number): Promise<LineClient> {
  const client = await LineClient.connect(port);
  await client.expect(/^220 .*\r\n/);
  client.send('EHLO client.test\r\n');
  await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
  return client;
}

const reply = /^(\d{3}) [^\r\n]*\r\n/m;

/** Sends MAIL, RCPT, DATA and the message on an open session; stops at the first refusal. */
export async function transaction(client: LineClient, from: string, to: string, message: string | Buffer, timeoutMs = 20_000): Promise<TransactionReplies> {
  const out: TransactionReplies = { mailFrom: '', rcptTo: '', data: '', end: '' };
  client.send(`MAIL FROM:<${from}>\r\n`);
  out.mailFrom = (await client.expect(reply, timeoutMs)).trim();
  if (!out.mailFrom.startsWith('250')) return out;
  client.send(`RCPT TO:<${to}>\r\n`);
  out.rcptTo = (await client.expect(reply, timeoutMs)).trim();
  if (!out.rcptTo.startsWith('250')) return out;
  client.send('DATA\r\n');
  out.data = (await client.expect(reply, timeoutMs)).trim();
  if (!out.data.startsWith('354')) return out;
  await sendInSlices(client, typeof message === 'string' ? Buffer.from(message, 'latin1') : message);
  client.send('\r\n.\r\n');
  out.end = (await client.expect(reply, timeoutMs)).trim();
  return out;
}

/** A message of about `size` bytes in 76-character lines. */
export function messageOfSize(size: number, subject = 'test'): string {
  const header = `From: a@client.test\r\nTo: b@client.test\r\nSubject: ${subject}\r\n\r\n`;
  const line = 'x'.repeat(76) + '\r\n';
  return header + line.repeat(Math.ceil(size / line.length));
}

/**
 * Writes a large message as a remote client would: 64 KiB at a time, waiting for the
 * socket to drain. One 10 MB write would itself hold up this process's event loop,
 * which the server under test shares.
 */
async function sendInSlices(client: LineClient, message: Buffer): Promise<void> {
  const slice = 64 * 1024;
  for (let at = 0; at < message.length; at += slice) {
    if (client.socket.write(message.subarray(at, at + slice))) continue;
    await new Promise<void>((resolve) => {
      client.socket.once('drain', resolve);
      client.socket.once('close', resolve);
    });
  }
}
