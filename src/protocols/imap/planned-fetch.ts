// FETCH lines written straight from each message's fields (issue 11, W3): when every item of
// a FETCH is a number, the flags or an already rendered ENVELOPE/BODY/BODYSTRUCTURE, the
// command plans the items once and each message's `* n FETCH (...)` line is written into
// one buffer without an item object, a string per number or a second pass over objects.
// The bytes are those of the general writer (writer.ts fetchLines) for the same items.

/** The items a planned line can hold, in the order they are written. */
export type PlannedItem = 'UID' | 'FLAGS' | 'RFC822.SIZE' | 'MODSEQ' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE';

/** What one message's line needs. `rendered` holds every structure item of the plan. */
export interface PlannedLine {
  seq: number;
  uid: number;
  size: number;
  modseq: number;
  /** FLAGS as the session shows them; `recent` adds \Recent at the end. */
  flags: readonly string[];
  recent: boolean;
  rendered: Partial<Record<'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE', Buffer>>;
}

const RECENT = '\\Recent';

/** Bytes of one line, CRLF included. */
export function plannedLineBytes(plan: readonly PlannedItem[], line: PlannedLine): number {
  let size = 2 + digits(line.seq) + 8 + 1 + 2; // "* " seq " FETCH (" ... ")" CRLF
  for (let i = 0; i < plan.length; i++) {
    const item = plan[i]!;
    size += (i > 0 ? 1 : 0) + item.length + 1;
    switch (item) {
      case 'UID':
        size += digits(line.uid);
        break;
      case 'RFC822.SIZE':
        size += digits(line.size);
        break;
      case 'MODSEQ':
        size += digits(line.modseq) + 2;
        break;
      case 'FLAGS':
        size += flagsBytes(line.flags, line.recent);
        break;
      default:
        size += line.rendered[item]!.length;
    }
  }
  return size;
}

/** The lines, one after the other, in one buffer of `bytes` (the sum of plannedLineBytes). */
export function writePlannedLines(plan: readonly PlannedItem[], lines: readonly PlannedLine[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const line of lines) {
    out[at++] = 0x2a; // *
    out[at++] = 0x20;
    at = writeDigits(out, at, line.seq);
    at = writeAscii(out, at, ' FETCH (');
    for (let i = 0; i < plan.length; i++) {
      const item = plan[i]!;
      if (i > 0) out[at++] = 0x20;
      at = writeAscii(out, at, item);
      out[at++] = 0x20;
      switch (item) {
        case 'UID':
          at = writeDigits(out, at, line.uid);
          break;
        case 'RFC822.SIZE':
          at = writeDigits(out, at, line.size);
          break;
        case 'MODSEQ':
          out[at++] = 0x28;
          at = writeDigits(out, at, line.modseq);
          out[at++] = 0x29;
          break;
        case 'FLAGS':
          at = writeFlags(out, at, line.flags, line.recent);
          break;
        default: {
          const value = line.rendered[item]!;
          out.set(value, at);
          at += value.length;
        }
      }
    }
    out[at++] = 0x29; // )
    out[at++] = 0x0d;
    out[at++] = 0x0a;
  }
  if (at !== bytes) throw new Error(`planned FETCH lines: wrote ${at} bytes, sized ${bytes}`);
  return out;
}

function flagsBytes(flags: readonly string[], recent: boolean): number {
  let size = 2;
  for (let i = 0; i < flags.length; i++) size += (i > 0 ? 1 : 0) + textBytes(flags[i]!);
  if (recent) size += (flags.length > 0 ? 1 : 0) + RECENT.length;
  return size;
}

function writeFlags(out: Buffer, at: number, flags: readonly string[], recent: boolean): number {
  out[at++] = 0x28;
  for (let i = 0; i < flags.length; i++) {
    if (i > 0) out[at++] = 0x20;
    at = writeText(out, at, flags[i]!);
  }
  if (recent) {
    if (flags.length > 0) out[at++] = 0x20;
    at = writeAscii(out, at, RECENT);
  }
  out[at++] = 0x29;
  return at;
}

/** UTF-8 bytes of a flag: its length when ASCII (always, but for a keyword a client made otherwise). */
function textBytes(value: string): number {
  for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) >= 0x80) return Buffer.byteLength(value, 'utf8');
  return value.length;
}

/** Writes a flag as UTF-8: by hand when ASCII, else through Buffer.write. */
function writeText(out: Buffer, at: number, value: string): number {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x80) return at + out.write(value, at, 'utf8');
    out[at + i] = code;
  }
  return at + value.length;
}

/** Writes a text known to be ASCII (item names, fixed words). */
function writeAscii(out: Buffer, at: number, value: string): number {
  for (let i = 0; i < value.length; i++) out[at + i] = value.charCodeAt(i);
  return at + value.length;
}

function digits(value: number): number {
  let count = 1;
  while (value >= 10) {
    value = Math.floor(value / 10);
    count++;
  }
  return count;
}

function writeDigits(out: Buffer, at: number, value: number): number {
  const end = at + digits(value);
  let i = end;
  do {
    out[--i] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  } while (value > 0);
  return end;
}
