// Content-Transfer-Encoding undone for BINARY (RFC 2045 §6.7, §6.8; RFC 3516).
import { describe, expect, it } from 'vitest';
import { decodeTransferEncoding } from '../../src/mime/transfer-decoding.js';
import { encodeBinaryParts } from '../../src/mime/binary-to-base64.js';
import { analyzeMessage } from '../../src/mime/analyze.js';

describe('transfer decoding', () => {
  it('undoes quoted-printable, dropping transport padding and honouring soft breaks', () => {
    const body = Buffer.from('hello  \r\nbar=\r\n\r\nfoo\t=\r\nbar\r\nfoo = \t\r\nbar\r\nx=3D=00y\r\n=ZZ\r\n');
    expect(decodeTransferEncoding(body, 'Quoted-Printable')?.toString('latin1')).toBe('hello\r\nbar\r\nfoo\tbar\r\nfoo bar\r\nx=\x00y\r\n=ZZ\r\n');
  });

  it('undoes base64 whatever the line breaks and garbage, keeps identity encodings, knows no other', () => {
    expect(decodeTransferEncoding(Buffer.from('aGVs\r\nbG8=\r\n!'), 'base64')?.toString()).toBe('hello');
    expect(decodeTransferEncoding(Buffer.from('as is'), null)?.toString()).toBe('as is');
    expect(decodeTransferEncoding(Buffer.from('as is'), '8BIT')?.toString()).toBe('as is');
    expect(decodeTransferEncoding(Buffer.from('x'), 'x-uuencode')).toBeNull();
  });

  it('stores a binary APPEND with its NUL-holding parts in base64, other parts untouched', () => {
    const raw = Buffer.from('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nplain\r\n'
      + '--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01\xff\r\n--b--\r\n', 'latin1');
    const stored = encodeBinaryParts(raw, analyzeMessage(raw));
    expect(stored.includes(0)).toBe(false);
    expect(stored.toString('latin1')).toContain('Content-Type: text/plain\r\n\r\nplain\r\n');
    const part = analyzeMessage(stored).root.children[1]!;
    expect(part.encoding?.toLowerCase()).toBe('base64');
    expect(decodeTransferEncoding(stored.subarray(part.bodyStart, part.bodyEnd), part.encoding)).toEqual(Buffer.from('\x00\x01\xff', 'latin1'));
    const text = Buffer.from('Subject: x\r\n\r\ntext\r\n');
    expect(encodeBinaryParts(text, analyzeMessage(text))).toBe(text);
  });
});
