// mbox import reads the file as a stream, one message at a time: entries that cross
// the reader's 1 MiB chunks come out whole, `>From ` quoting and Status flags as written.
import { afterAll, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { mboxEntry, readMbox, type MailFile } from '../../src/cli/mail-files.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reads back every entry of a 3 MiB mbox written by mboxEntry, across chunk boundaries', async () => {
  const mails: MailFile[] = Array.from({ length: 300 }, (_, i) => ({
    folder: 'INBOX',
    message: Buffer.from(`Subject: m${i}\r\n\r\nFrom the start of a line\r\n${'x'.repeat(10_000 + i)}\r\n\r\n`, 'latin1'),
    flags: i % 2 === 0 ? ['\\Seen'] : ['\\Flagged'],
    internalDate: Date.UTC(2026, 0, 1) + i * 1000,
  }));
  const file = path.join(dir, 'big.mbox');
  writeFileSync(file, Buffer.concat(mails.map((m) => mboxEntry(m, 'sender@example.test'))));

  const read: MailFile[] = [];
  let lastBytes = 0;
  for await (const { mail, bytesRead } of readMbox(file, 'INBOX')) {
    expect(bytesRead).toBeGreaterThanOrEqual(lastBytes);
    lastBytes = bytesRead;
    read.push(mail);
  }
  expect(read).toHaveLength(300);
  for (const [i, mail] of read.entries()) {
    expect(mail.message.toString('latin1')).toBe(mails[i].message.toString('latin1'));
    expect(mail.flags).toEqual(mails[i].flags);
    expect(mail.internalDate).toBe(mails[i].internalDate);
  }
});
