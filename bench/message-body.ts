// Synthetic messages of a chosen size for the SMTP benchmarks: RFC 5322 headers and
// a text body of 76-character lines (no line starts with ".", so no dot-stuffing).
import { randomBytes } from 'node:crypto';

export interface MessageOptions {
  size: number;
  from: string;
  subject: string;
  /** Makes bodies differ, so single-instance storage cannot merge them. */
  unique: string;
}

export function buildMessage(opts: MessageOptions): Buffer {
  const headers =
    `From: Bench <${opts.from}>\r\n` +
    `To: undisclosed-recipients:;\r\n` +
    `Subject: ${opts.subject}\r\n` +
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}\r\n` +
    `Message-ID: <${opts.unique}@bench.example.net>\r\n` +
    `MIME-Version: 1.0\r\n` +
    `Content-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const bodyBytes = Math.max(0, opts.size - headers.length);
  const lines: string[] = [`id ${opts.unique}`];
  let length = lines[0].length + 2;
  // Base64 of random bytes never contains "."; 76 + CRLF per line.
  const pool = randomBytes(Math.ceil((bodyBytes * 3) / 4) + 64).toString('base64');
  let offset = 0;
  while (length < bodyBytes) {
    const width = Math.min(76, Math.max(1, bodyBytes - length - 2));
    lines.push(pool.slice(offset, offset + width));
    offset += width;
    length += width + 2;
  }
  return Buffer.from(headers + lines.join('\r\n') + '\r\n', 'latin1');
}
