// A body part's content with its Content-Transfer-Encoding undone, for FETCH BINARY
// (RFC 3516): base64 and quoted-printable decoded (RFC 2045 §6.7 and §6.8), the identity
// encodings as they are, anything else unknown (the command answers NO [UNKNOWN-CTE]).

const IDENTITY = new Set(['7bit', '8bit', 'binary']);

/** The decoded bytes, or null when the encoding is not one RFC 2045 defines. */
export function decodeTransferEncoding(body: Buffer, encoding: string | null): Buffer | null {
  const name = (encoding ?? '7bit').trim().toLowerCase();
  if (IDENTITY.has(name) || name === '') return body;
  if (name === 'base64') return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
  if (name === 'quoted-printable') return decodeQuotedPrintableStrict(body);
  return null;
}

/**
 * Quoted-printable with transport padding removed: blanks at the end of a line are not
 * content (RFC 2045 §6.7 rule 3), a "=" followed by blanks and the line end is a soft
 * break, and a malformed "=" sequence is kept as it is.
 */
function decodeQuotedPrintableStrict(input: Buffer): Buffer {
  const out = Buffer.alloc(input.length);
  let n = 0;
  let lineStart = 0;
  while (lineStart < input.length) {
    let lineEnd = input.indexOf(0x0a, lineStart);
    const hasBreak = lineEnd >= 0;
    if (!hasBreak) lineEnd = input.length;
    let contentEnd = lineEnd > lineStart && input[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd;
    while (contentEnd > lineStart && (input[contentEnd - 1] === 0x20 || input[contentEnd - 1] === 0x09)) contentEnd--;
    let soft = false;
    for (let i = lineStart; i < contentEnd; i++) {
      const c = input[i]!;
      if (c !== 0x3d) {
        out[n++] = c;
        continue;
      }
      if (i === contentEnd - 1) {
        soft = true;
        break;
      }
      const hi = hexValue(input[i + 1]);
      const lo = hexValue(input[i + 2]);
      if (hi < 0 || lo < 0 || i + 2 >= contentEnd) {
        out[n++] = c;
        continue;
      }
      out[n++] = hi * 16 + lo;
      i += 2;
    }
    if (hasBreak && !soft) {
      out[n++] = 0x0d;
      out[n++] = 0x0a;
    }
    lineStart = lineEnd + 1;
  }
  return out.subarray(0, n);
}

/** The value of an ASCII hex digit (either case), or -1. */
export function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}
