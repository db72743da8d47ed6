// IMAP string encoding (RFC 3501 §4.3): quoted strings, literals and NIL.
// Shared by the response writer and the ENVELOPE/BODYSTRUCTURE renderer.

/** True when the bytes can go out as a quoted string (7-bit, no CR/LF/NUL). */
export function isQuotable(bytes: Buffer): boolean {
  for (const b of bytes) {
    if (b === 0 || b === 0x0d || b === 0x0a || b >= 0x80) return false;
  }
  return true;
}

/** `"..."` with `"` and `\` escaped; the caller has checked isQuotable. */
export function quoted(bytes: Buffer): Buffer {
  const out: number[] = [0x22];
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out.push(0x5c);
    out.push(b);
  }
  out.push(0x22);
  return Buffer.from(out);
}

/** `{n}CRLF` followed by the bytes. */
export function literal(bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`, 'latin1'), bytes]);
}

/** A string: quoted when possible, a literal otherwise. */
export function imapString(value: string | Buffer): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return isQuotable(bytes) ? quoted(bytes) : literal(bytes);
}

/** An nstring: NIL for null/undefined, else imapString. */
export function imapNString(value: string | Buffer | null | undefined): Buffer {
  if (value === null || value === undefined) return Buffer.from('NIL');
  return imapString(value);
}
