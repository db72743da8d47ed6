// A message APPENDed as binary (literal8 with NUL bytes, RFC 3516 §4.4) made storable:
// every leaf part whose body holds a NUL is re-encoded in base64 and its
// Content-Transfer-Encoding header says so, so BODY[] answers stay valid IMAP
// literals while BINARY[] gives the original bytes back. Other bytes are untouched.
import { scanHeader } from './header-block.js';
import type { MessageStructure, MimePart } from './types.js';

/** The message with its NUL-holding leaf parts in base64, or the same buffer when none has one. */
export function encodeBinaryParts(raw: Buffer, structure: MessageStructure): Buffer {
  const leaves = binaryLeaves(raw, structure.root);
  if (leaves.length === 0) return raw;
  const pieces: Buffer[] = [];
  let copied = 0;
  for (const part of leaves) {
    pieces.push(raw.subarray(copied, part.headerStart), headerWithBase64(raw, part), base64Lines(raw.subarray(part.bodyStart, part.bodyEnd)));
    copied = part.bodyEnd;
  }
  pieces.push(raw.subarray(copied));
  return Buffer.concat(pieces);
}

function binaryLeaves(raw: Buffer, part: MimePart): MimePart[] {
  if (part.kind === 'multipart' || part.kind === 'message') return part.children.flatMap((child) => binaryLeaves(raw, child));
  return raw.subarray(part.bodyStart, part.bodyEnd).includes(0) ? [part] : [];
}

/** The part's header without its Content-Transfer-Encoding fields, then `base64`, then the blank line. */
function headerWithBase64(raw: Buffer, part: MimePart): Buffer {
  const scan = scanHeader(raw, part.headerStart, part.bodyStart);
  const kept = scan.fields.filter((field) => field.name.toLowerCase() !== 'content-transfer-encoding');
  return Buffer.concat([
    ...kept.map((field) => raw.subarray(field.start, field.end)),
    Buffer.from('Content-Transfer-Encoding: base64\r\n\r\n', 'latin1'),
  ]);
}

/** RFC 2045 §6.8: lines of at most 76 characters. */
function base64Lines(body: Buffer): Buffer {
  const encoded = body.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < encoded.length; i += 76) lines.push(encoded.slice(i, i + 76));
  return Buffer.from(lines.map((line) => `${line}\r\n`).join(''), 'latin1');
}
