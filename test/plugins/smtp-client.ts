// Test support for plugin tests: one SMTP transaction from a chosen loopback address
// (127.0.0.2 ... stand in for other clients), optionally after AUTH PLAIN; returns the
// first refusal or the final reply.
import { LineClient } from '../support/clients.js';
import { transaction } from '../support/smtp-transcript.js';

export interface SendOptions { from?: string; client?: string; auth?: { user: string; password: string }; message?: string }

export async function sendFrom(port: number, to: string, options: SendOptions = {}): Promise<string> {
  const client = await LineClient.connect(port, '127.0.0.1', options.client ?? '127.0.0.1');
  try {
    await client.expect(/^220 [^\r\n]*\r\n/);
    client.send('EHLO client.test\r\n');
    await client.expect(/250 [^\r\n]*\r\n(?![\s\S])/);
    if (options.auth) {
      client.send(`AUTH PLAIN ${Buffer.from(`\0${options.auth.user}\0${options.auth.password}`).toString('base64')}\r\n`);
      const reply = (await client.expect(/^\d{3} [^\r\n]*\r\n/m)).trim();
      if (!reply.startsWith('235')) return reply;
    }
    const from = options.from ?? 'sender@remote.test';
    const replies = await transaction(client, from, to, options.message ?? `From: ${from}\r\nTo: ${to}\r\nSubject: test\r\nMessage-ID: <${Date.now()}.${Math.random()}@client.test>\r\n\r\nhello\r\n`);
    return replies.end || replies.rcptTo || replies.mailFrom;
  } finally {
    client.close();
  }
}
