// Test support: the mail clients and admin calls the admin-command tests share, all in
// the test process: nodemailer for SMTP, imapflow for IMAP, the admin API (found as the
// CLI finds it, through DATA/admin.json) for set-up, so that only the commands under
// test start a process.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { waitFor } from './server.js';

/** Where a server (one process or a cluster's primary) listens. */
export interface Listening {
  ports: { smtp: number; imap: number };
}

/** The admin API of a server's data folder, as the CLI finds it. */
export async function admin<T>(dataDir: string, route: string, method = 'GET', body?: unknown): Promise<T> {
  const { url, token } = JSON.parse(readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
  const res = await fetch(`${url}${route}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const value = (await res.json()) as T;
  expect(res.ok, `${method} ${route}: ${JSON.stringify(value)}`).toBe(true);
  return value;
}

/** example.test and its users (password "pw"), through the admin API. */
export async function setUp(dataDir: string, addresses: string[]): Promise<void> {
  await admin(dataDir, '/v1/domains', 'POST', { name: 'example.test' });
  await admin(dataDir, '/v1/users/import', 'POST', { users: addresses.map((address) => ({ address, password: 'pw' })) });
}

/** Waits until the user's mailbox holds `count` messages. */
export async function delivered(dataDir: string, user: string, count: number): Promise<void> {
  await waitFor(async () => (await admin<{ usage: { messages: number } }>(dataDir, `/v1/users/${user}`)).usage.messages === count, 10_000, `${count} message(s) for ${user}`);
}

/** Sends each [to, subject, from] over SMTP (nodemailer), a line starting with "From " in each body. */
export async function send(target: Listening, messages: Array<[string, string, string?]>): Promise<void> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: target.ports.smtp, secure: false, ignoreTLS: true });
  try {
    for (const [to, subject, from = 'someone@remote.test'] of messages) {
      await transport.sendMail({ envelope: { from, to: [to] }, raw: `From: <${from}>\r\nSubject: ${subject}\r\n\r\nFrom the start of a line\r\nbody of ${subject}\r\n` });
    }
  } finally {
    transport.close();
  }
}

export async function imap<T>(target: Listening, user: string, use: (client: ImapFlow) => Promise<T>, password = 'pw'): Promise<T> {
  const client = new ImapFlow({ host: '127.0.0.1', port: target.ports.imap, secure: false, auth: { user, pass: password }, logger: false, disableAutoIdle: true });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** Over IMAP: {folder: [[subject, flags, body], ...]} for every folder of the user, sorted. */
export async function mailOf(target: Listening, user: string): Promise<Record<string, Array<[string, string[], string]>>> {
  return imap(target, user, async (client) => {
    const out: Record<string, Array<[string, string[], string]>> = {};
    for (const folder of await client.list()) {
      const rows: Array<[string, string[], string]> = [];
      const opened = await client.mailboxOpen(folder.path, { readOnly: true });
      if (opened.exists > 0) {
        for await (const msg of client.fetch('1:*', { flags: true, source: true })) {
          const text = msg.source!.toString('latin1');
          const split = text.indexOf('\r\n\r\n');
          const subject = /^Subject: (.*)$/im.exec(text.slice(0, split))?.[1]?.trim() ?? '';
          rows.push([subject, [...(msg.flags ?? [])].filter((f) => f !== '\\Recent').sort(), text.slice(split + 4)]);
        }
      }
      out[folder.path] = rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    }
    return out;
  });
}

/** Makes Archive/2024 with one flagged message and marks INBOX's first message seen, over IMAP. */
export async function organize(target: Listening, user: string): Promise<void> {
  await imap(target, user, async (client) => {
    await client.mailboxCreate('Archive/2024');
    await client.append('Archive/2024', 'Subject: archived\r\n\r\nFrom here on\r\nold mail\r\n', ['\\Flagged', '\\Answered'], new Date(1700000000 * 1000));
    await client.mailboxOpen('INBOX');
    await client.messageFlagsAdd('1', ['\\Seen']);
  });
}

export async function imapLogin(target: Listening, user: string, password = 'pw'): Promise<boolean> {
  return imap(target, user, async () => true, password).catch(() => false);
}
