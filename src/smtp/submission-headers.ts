// Mail submitted by an authenticated client gets the Date: and Message-ID: fields it
// lacks, as Postfix's cleanup does for its own clients (RFC 6409 section 8.3). The
// header section is held back until its end is seen, then the missing fields go first.
import { randomBytes } from 'node:crypto';

/** Past this much held back without the end of the header section, nothing is added. */
const MAX_HELD_HEADER = 256 * 1024;

export class SubmissionHeaders {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The last bytes held, so an end split across two chunks is still seen. */
  private tail = '';
  private done = false;

  constructor(private readonly hostname: string, private readonly queueId: string) {}

  /** The bytes to pass on for this chunk (none while the header section is still held). */
  feed(chunk: Buffer): Buffer[] {
    if (this.done) return [chunk];
    const startOfChunk = this.heldBytes;
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const window = this.tail + chunk.toString('latin1');
    const end = startOfChunk === 0 ? headerSectionEnd(window) : endAfterFirstLine(window);
    this.tail = window.slice(-2);
    if (end < 0 && this.heldBytes < MAX_HELD_HEADER) return [];
    return this.release(end < 0 ? null : Buffer.concat(this.held).toString('latin1', 0, startOfChunk - (window.length - chunk.length) + end));
  }

  /** At the end of DATA: whatever is still held (a message that is all header). */
  end(): Buffer[] {
    if (this.done) return [];
    return this.release(Buffer.concat(this.held).toString('latin1'));
  }

  private release(header: string | null): Buffer[] {
    this.done = true;
    const out = this.held;
    this.held = [];
    const missing = header === null ? '' : missingFields(header, this.hostname, this.queueId);
    return missing ? [Buffer.from(missing, 'latin1'), ...out] : out;
  }
}

/** Like headerSectionEnd, in a window that does not start the message. */
function endAfterFirstLine(window: string): number {
  const match = /\n\r?\n/.exec(window);
  return match ? match.index + 1 : -1;
}

/** Index of the empty line ending the header section, or -1 if not seen yet. */
function headerSectionEnd(text: string): number {
  if (text.startsWith('\r\n') || text.startsWith('\n')) return 0;
  const match = /\n\r?\n/.exec(text);
  return match ? match.index + 1 : -1;
}

function missingFields(header: string, hostname: string, queueId: string): string {
  let fields = '';
  if (!/^date:/im.test(header)) fields += `Date: ${rfc5322Date(new Date())}\r\n`;
  if (!/^message-id:/im.test(header)) fields += `Message-ID: <${randomBytes(8).toString('hex')}.${queueId}@${hostname}>\r\n`;
  return fields;
}

/** "Thu, 03 Dec 2026 10:12:03 +0000" */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}
