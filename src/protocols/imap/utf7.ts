// Modified UTF-7 for IMAP mailbox names (RFC 3501 §5.1.3).
// Encoding is total; decoding is strict and returns null for anything a
// conforming client could not have produced, so the parser can answer BAD.

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const BASE64_VALUE = new Map([...BASE64_ALPHABET].map((char, index) => [char, index]));

function isPrintableAscii(code: number): boolean {
  return code >= 0x20 && code <= 0x7e;
}

/** UTF-8 (JS string) → modified UTF-7. */
export function encodeModifiedUtf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    out += `&${encodeUtf16Run(pending)}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (isPrintableAscii(code)) {
      flush();
      out += code === 0x26 ? '&-' : name[i];
    } else {
      pending.push(code);
    }
  }
  flush();
  return out;
}

function encodeUtf16Run(units: number[]): string {
  const bytes: number[] = [];
  for (const unit of units) bytes.push(unit >> 8, unit & 0xff);
  let out = '';
  let bits = 0;
  let bitCount = 0;
  for (const byte of bytes) {
    bits = (bits << 8) | byte;
    bitCount += 8;
    while (bitCount >= 6) {
      bitCount -= 6;
      out += BASE64_ALPHABET[(bits >> bitCount) & 0x3f];
    }
    bits &= (1 << bitCount) - 1;
  }
  if (bitCount > 0) out += BASE64_ALPHABET[(bits << (6 - bitCount)) & 0x3f];
  return out;
}

/**
 * Modified UTF-7 → UTF-8 (JS string), or null when the input is not valid
 * modified UTF-7: non-printable or 8-bit characters, an unterminated or empty
 * shift, bad base64, non-zero padding bits, an odd number of bytes, unpaired
 * surrogates, printable ASCII inside a shift, or two adjacent shifts.
 */
export function decodeModifiedUtf7(text: string): string | null {
  let out = '';
  let i = 0;
  let previousWasShift = false;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    if (!isPrintableAscii(code)) return null;
    if (code !== 0x26) {
      out += text[i];
      i++;
      previousWasShift = false;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end < 0) return null;
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      previousWasShift = false;
      continue;
    }
    if (previousWasShift) return null;
    const decoded = decodeUtf16Run(text.slice(i + 1, end));
    if (decoded === null) return null;
    out += decoded;
    i = end + 1;
    previousWasShift = true;
  }
  return out;
}

function decodeUtf16Run(encoded: string): string | null {
  const bytes: number[] = [];
  let bits = 0;
  let bitCount = 0;
  for (const char of encoded) {
    const value = BASE64_VALUE.get(char);
    if (value === undefined) return null;
    bits = (bits << 6) | value;
    bitCount += 6;
    if (bitCount >= 8) {
      bitCount -= 8;
      bytes.push((bits >> bitCount) & 0xff);
    }
    bits &= (1 << bitCount) - 1;
  }
  if (bitCount >= 6 || bits !== 0) return null;
  if (bytes.length === 0 || bytes.length % 2 !== 0) return null;
  return utf16UnitsToString(bytes);
}

function utf16UnitsToString(bytes: number[]): string | null {
  let out = '';
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = (bytes[i]! << 8) | bytes[i + 1]!;
    if (isPrintableAscii(unit)) return null;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = i + 3 < bytes.length ? (bytes[i + 2]! << 8) | bytes[i + 3]! : -1;
      if (low < 0xdc00 || low > 0xdfff) return null;
      out += String.fromCharCode(unit, low);
      i += 2;
      continue;
    }
    if (unit >= 0xdc00 && unit <= 0xdfff) return null;
    out += String.fromCharCode(unit);
  }
  return out;
}
