// The FETCH line writer copies short ASCII texts (item names, numbers, flags) by hand
// instead of calling Buffer.write for each (issue 11, W3 round 13): its bytes must equal the
// plain UTF-8 rendering for every kind of text and sequence number (written digit by digit), including non-ASCII keywords and names at,
// below and above the hand-copy limit, and literals beside them.
import { describe, expect, it } from 'vitest';
import { fetchLineParts, fetchLines } from '../../src/protocols/imap/writer.js';
import type { FetchAnswer, FetchResponseItem } from '../../src/protocols/imap/types.js';

/** The reference: every value turned into bytes by Buffer.from and joined. */
function expected(answers: FetchAnswer[]): Buffer {
  const pieces: Buffer[] = [];
  for (const answer of answers) {
    pieces.push(Buffer.from(`* ${answer.seq} FETCH (`, 'latin1'));
    answer.items.forEach((item, i) => {
      pieces.push(Buffer.from(`${i > 0 ? ' ' : ''}${item.name} `, 'utf8'));
      const value = item.value;
      if (typeof value === 'string') pieces.push(Buffer.from(value, 'utf8'));
      else if (Buffer.isBuffer(value)) pieces.push(value);
      else pieces.push(Buffer.from(`${value.binary ? '~' : ''}{${value.literal.length}}\r\n`, 'latin1'), value.literal);
    });
    pieces.push(Buffer.from(')\r\n', 'latin1'));
  }
  return Buffer.concat(pieces);
}

const texts = [
  '', 'x', '(\\Seen \\Answered)', '(\\Seen $Løst)', '(Ünïcode)', 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(65),
  `${'a'.repeat(63)}é`, `é${'a'.repeat(70)}`, '(\\Seen 日本語 $Junk)', '12345678901234567890',
];

describe('FETCH lines with short texts copied by hand', () => {
  it('equal the plain UTF-8 rendering for ASCII, non-ASCII and long texts, at any sequence number', () => {
    const seqs = [1, 9, 10, 11, 99, 100, 101, 12345, 999999, 1000000, 4294967295, 7];
    const answers: FetchAnswer[] = texts.map((text, i) => ({
      seq: seqs[i]!,
      items: [
        { name: 'UID', value: String(1000 + i) },
        { name: 'FLAGS', value: text },
        { name: 'RFC822.SIZE', value: String(i * 977) },
        { name: 'ENVELOPE', value: Buffer.from(`("date" "Sübject ${text}" NIL)`, 'utf8') },
      ] satisfies FetchResponseItem[],
    }));
    expect(fetchLines(answers).equals(expected(answers))).toBe(true);
  });

  it('keeps literals, small and large, in place between the texts', () => {
    const small = Buffer.from('Subject: ä\r\n\r\nhi\r\n', 'utf8');
    const large = Buffer.alloc(5000, 0x61);
    const answers: FetchAnswer[] = [
      { seq: 1, items: [{ name: 'UID', value: '7' }, { name: 'BODY[]', value: { literal: small } }, { name: 'FLAGS', value: '(Ü)' }] },
      { seq: 2, items: [{ name: 'UID', value: '8' }, { name: 'BINARY[]', value: { literal: large, binary: true } }, { name: 'FLAGS', value: '()' }] },
    ];
    expect(Buffer.concat(fetchLineParts(answers)).equals(expected(answers))).toBe(true);
    expect(fetchLines(answers).equals(expected(answers))).toBe(true);
  });
});
