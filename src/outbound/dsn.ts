// Delivery status notifications (RFC 3464): one multipart/report per message and
// event, from MAILER-DAEMON, listing each failed (or delayed) recipient with its
// status and diagnostic, and the original message's header section.
import { randomBytes } from 'node:crypto';

export interface DsnRecipient {
  address: string;
  original: string;
  /** The error text as recorded, e.g. "550 5.1.1 <x@y>: User unknown". */
  error: string;
}

export interface DsnInput {
  kind: 'failure' | 'delay';
  reportingHost: string;
  queueId: string;
  arrived: number;
  sender: string;
  recipients: DsnRecipient[];
  /** The original message's header section (bytes up to the blank line). */
  originalHeaders: Buffer;
}

const MAX_ORIGINAL_HEADERS = 64 * 1024;

/** The enhanced status code in an error text, or a generic one for the kind. */
export function statusOf(error: string, kind: 'failure' | 'delay'): string {
  const m = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(error);
  if (m) return `${kind === 'delay' ? '4' : '5'}.${m[2]}.${m[3]}`;
  return kind === 'delay' ? '4.0.0' : '5.0.0';
}

function rfc2822Date(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 900);
}

export function buildDsn(input: DsnInput): Buffer {
  const boundary = `${input.queueId}.${randomBytes(6).toString('hex')}/${input.reportingHost}`;
  const failed = input.kind === 'failure';
  const subject = failed ? 'Undelivered Mail Returned to Sender' : 'Delayed Mail (still being retried)';
  const explanation = failed
    ? `This is the mail system at host ${input.reportingHost}.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients. It's attached below.\r\n`
    : `This is the mail system at host ${input.reportingHost}.\r\n\r\n####################################################################\r\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n####################################################################\r\n\r\nYour message could not be delivered yet; the mail system will keep trying.\r\n`;
  const perRecipientText = input.recipients.map((r) => `<${r.address}>: ${oneLine(r.error)}`).join('\r\n');
  const perRecipientFields = input.recipients.map((r) => [
    `Final-Recipient: rfc822; ${r.address}`,
    ...(r.original && r.original.toLowerCase() !== r.address ? [`Original-Recipient: rfc822; ${r.original}`] : []),
    `Action: ${failed ? 'failed' : 'delayed'}`,
    `Status: ${statusOf(r.error, input.kind)}`,
    `Diagnostic-Code: smtp; ${oneLine(r.error)}`,
  ].join('\r\n')).join('\r\n\r\n');
  let headers = input.originalHeaders.subarray(0, MAX_ORIGINAL_HEADERS);
  if (headers.length > 0 && !headers.subarray(-2).equals(Buffer.from('\r\n'))) headers = Buffer.concat([headers, Buffer.from('\r\n')]);
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingHost}>`,
    `To: <${input.sender}>`,
    `Subject: ${subject}`,
    `Date: ${rfc2822Date(Date.now())}`,
    `Message-ID: <${input.queueId}.${randomBytes(4).toString('hex')}@${input.reportingHost}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    explanation,
    perRecipientText,
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${input.reportingHost}`,
    `X-Ternmail-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc2822Date(input.arrived)}`,
    '',
    perRecipientFields,
    '',
    `--${boundary}`,
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    '',
  ].join('\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), headers, Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')]);
}

/** The header section of a message: bytes up to and including the first empty line's CRLF. */
export function headerSection(message: Buffer): Buffer {
  const end = message.indexOf('\r\n\r\n');
  if (end >= 0) return message.subarray(0, end + 2);
  const lfEnd = message.indexOf('\n\n');
  return lfEnd >= 0 ? message.subarray(0, lfEnd + 1) : message;
}
