// Header block scanning over raw message bytes: field boundaries with exact
// offsets, field names, and unfolded values. Shared by the analyzer, section
// extraction (HEADER.FIELDS) and search.

/** One header field; [start, end) covers the field with its continuation lines and line ends. */
export interface RawField {
  /** Field name as written, trailing whitespace trimmed (byte string). */
  name: string;
  start: number;
  end: number;
  valueStart: number;
}

const LF = 0x0a;
const CR = 0x0d;

/** End of the line that starts at pos: the offset after its LF, or end. */
export function lineEnd(raw: Buffer, pos: number, end: number): number {
  const lf = raw.indexOf(LF, pos);
  return lf < 0 || lf >= end ? end : lf + 1;
}

/** True when the line at pos is empty (CRLF or LF alone). */
export function isBlankLine(raw: Buffer, pos: number, end: number): boolean {
  if (pos >= end) return false;
  if (raw[pos] === LF) return true;
  return raw[pos] === CR && pos + 1 < end && raw[pos + 1] === LF;
}

function isContinuation(raw: Buffer, pos: number): boolean {
  const c = raw[pos];
  return c === 0x20 || c === 0x09;
}

/** Name and value start of the field line at pos (line without colon: whole line is the name). */
function splitFieldLine(raw: Buffer, start: number, lineStop: number): { name: string; valueStart: number } {
  let contentEnd = lineStop;
  while (contentEnd > start && (raw[contentEnd - 1] === LF || raw[contentEnd - 1] === CR)) contentEnd--;
  const colon = raw.indexOf(0x3a, start);
  if (colon < 0 || colon >= contentEnd) {
    return { name: raw.toString('latin1', start, contentEnd), valueStart: contentEnd };
  }
  let nameEnd = colon;
  while (nameEnd > start && (raw[nameEnd - 1] === 0x20 || raw[nameEnd - 1] === 0x09)) nameEnd--;
  return { name: raw.toString('latin1', start, nameEnd), valueStart: colon + 1 };
}

export interface HeaderScan {
  fields: RawField[];
  /** Offset after the header, including the blank line when there is one. */
  end: number;
  /** True when the header ended with a blank line (not at EOF or a boundary). */
  blankLine: boolean;
  /** Set when stopAt() ended the header: the offset of the line that stopped it. */
  stoppedAt: number | null;
  /** True when the header held more than maxFields fields: only the first maxFields are listed. */
  overflow?: boolean;
}

/**
 * Scan header fields from start up to limit. stopAt(lineStart) is asked before
 * each line (MIME boundaries end a header early). Past maxFields fields the scan
 * still finds the header's end but lists no more (bounded memory on hostile input).
 */
export function scanHeader(
  raw: Buffer,
  start: number,
  limit: number,
  stopAt?: (lineStart: number) => boolean,
  maxFields = Infinity,
): HeaderScan {
  const fields: RawField[] = [];
  let pos = start;
  let current: RawField | null = null;
  let overflow = false;
  while (pos < limit) {
    if (stopAt && stopAt(pos)) return { fields, end: pos, blankLine: false, stoppedAt: pos, overflow };
    const next = lineEnd(raw, pos, limit);
    if (isBlankLine(raw, pos, limit)) return { fields, end: next, blankLine: true, stoppedAt: null, overflow };
    if (current && isContinuation(raw, pos)) {
      current.end = next;
    } else if (fields.length < maxFields) {
      const { name, valueStart } = splitFieldLine(raw, pos, next);
      current = { name, start: pos, end: next, valueStart };
      fields.push(current);
    } else {
      overflow = true;
      current = null;
    }
    pos = next;
  }
  return { fields, end: limit, blankLine: false, stoppedAt: null, overflow };
}

/** The field's value unfolded: line ends removed, leading blanks skipped (byte string). */
export function unfoldedValue(raw: Buffer, field: RawField): string {
  let pos = field.valueStart;
  while (pos < field.end && (raw[pos] === 0x20 || raw[pos] === 0x09)) pos++;
  let out = '';
  let runStart = pos;
  for (let i = pos; i < field.end; i++) {
    const c = raw[i];
    if (c === CR || c === LF) {
      out += raw.toString('latin1', runStart, i);
      runStart = i + 1;
    }
  }
  return out + raw.toString('latin1', runStart, field.end);
}
