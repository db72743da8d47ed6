// The SORT/THREAD keys of one message (src/mime/sort-keys.ts): what is taken from its
// headers, the bounds a hostile header meets, and the stored row's round trip.
import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../src/mime/analyze.js';
import { sortKeyBytesNeeded, sortKeyRow, sortKeysFromRow, sortKeysOf } from '../../src/mime/sort-keys.js';

function keysOf(raw: string) {
  const bytes = Buffer.from(raw);
  const structure = analyzeMessage(bytes);
  return sortKeysOf(structure, bytes.subarray(0, sortKeyBytesNeeded(structure)));
}

describe('sort keys', () => {
  it('takes base subject, sent date, first addresses, display names and message ids', () => {
    const keys = keysOf('From: "Zoe Q" <zoe@x.test>, b@x.test\r\nTo: group: a@y.test;\r\nCc: c@z.test\r\nSubject: Re: [list] Plans (fwd)\r\n'
      + 'Date: Mon, 05 Jan 2026 10:00:00 +0100\r\nMessage-ID: <one@x.test>\r\nIn-Reply-To: <zero@x.test> (comment)\r\n'
      + 'References: <a@x.test>\r\n (folded) <zero@x.test>\r\n\r\nbody\r\n');
    expect(keys).toEqual({
      sentMs: Date.UTC(2026, 0, 5, 9), subject: 'PLANS', replyOrForward: true, from: 'ZOE', to: 'GROUP', cc: 'C',
      displayFrom: 'ZOE Q', displayTo: 'GROUP', messageId: '<one@x.test>', inReplyTo: '<zero@x.test>',
      references: ['<a@x.test>', '<zero@x.test>'],
    });
  });

  it('needs no body bytes without References, and none are read then', () => {
    const structure = analyzeMessage(Buffer.from('Subject: x\r\n\r\nbody\r\n'));
    expect(sortKeyBytesNeeded(structure)).toBe(0);
    expect(sortKeysOf(structure, Buffer.alloc(0)).references).toEqual([]);
  });

  it('keeps the last 64 references within 4096 characters, each id within 512', () => {
    const many = Array.from({ length: 200 }, (_, i) => `<r${i}@x.test>`).join(' ');
    const keys = keysOf(`Subject: x\r\nReferences: ${many}\r\n\r\nbody\r\n`);
    expect(keys.references).toHaveLength(64);
    expect(keys.references.at(-1)).toBe('<r199@x.test>');
    const long = Array.from({ length: 20 }, (_, i) => `<${String(i).padStart(3, '0')}${'x'.repeat(1000)}@x.test>`).join(' ');
    const capped = keysOf(`Subject: x\r\nReferences: ${long}\r\n\r\nbody\r\n`).references;
    expect(capped.every((id) => id.length <= 512)).toBe(true);
    expect(capped.join('').length).toBeLessThanOrEqual(4096);
    expect(capped.at(-1)!.startsWith('<019')).toBe(true);
  });

  it('round-trips through its stored row, and refuses rows that are not one', () => {
    const keys = keysOf('From: a@x.test\r\nSubject: hello\r\nReferences: <p@x.test>\r\n\r\nbody\r\n');
    expect(sortKeysFromRow(sortKeyRow(keys))).toEqual(keys);
    expect(sortKeysFromRow(['sha', ...sortKeyRow(keys)], 1)).toEqual(keys);
    expect(sortKeysFromRow([1, 2, 3])).toBeNull();
    expect(sortKeysFromRow(sortKeyRow(keys).map((v, i) => (i === 1 ? 7 : v)))).toBeNull();
    expect(sortKeysFromRow('row')).toBeNull();
  });
});
