// BODY[section]<partial> extraction: RFC 3501 §6.4.5 sections sliced from the
// raw message, with Dovecot's answers for missing parts and part 1 of a
// single-part message.

import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../../src/mime/analyze.js';
import { extractRfc822, extractSection, findPart, type SectionSpec } from '../../../src/protocols/imap/sections.js';

const MESSAGE = [
  'From: a@b',
  'Subject: s',
  'Content-Type: multipart/mixed; boundary=X',
  '',
  '--X',
  'Content-Type: text/plain',
  '',
  'first',
  '--X',
  'Content-Type: message/rfc822',
  '',
  'Subject: inner',
  'X-Note: n',
  '',
  'inner body',
  '--X--',
  '',
].join('\r\n');

const raw = Buffer.from(MESSAGE, 'latin1');
const s = analyzeMessage(raw);

function section(spec: SectionSpec, partial?: { offset: number; length: number }): string {
  return extractSection(raw, s, spec, partial).toString('latin1');
}

describe('extractSection', () => {
  it('returns header, text and the whole message', () => {
    expect(section({ part: [], text: 'HEADER' })).toBe('From: a@b\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=X\r\n\r\n');
    expect(section({ part: [] })).toBe(MESSAGE);
    expect(section({ part: [], text: 'TEXT' })).toBe(MESSAGE.slice(MESSAGE.indexOf('\r\n\r\n') + 4));
  });

  it('filters header fields case-insensitively, ending with a blank line', () => {
    expect(section({ part: [], text: 'HEADER.FIELDS', fields: ['subject'] })).toBe('Subject: s\r\n\r\n');
    expect(section({ part: [], text: 'HEADER.FIELDS.NOT', fields: ['SUBJECT', 'content-type'] })).toBe('From: a@b\r\n\r\n');
  });

  it('returns part bodies and MIME headers', () => {
    expect(section({ part: [1] })).toBe('first');
    expect(section({ part: [1], text: 'MIME' })).toBe('Content-Type: text/plain\r\n\r\n');
  });

  it('reads the header and text of an encapsulated message', () => {
    expect(section({ part: [2], text: 'HEADER' })).toBe('Subject: inner\r\nX-Note: n\r\n\r\n');
    expect(section({ part: [2], text: 'TEXT' })).toBe('inner body');
    expect(section({ part: [2], text: 'HEADER.FIELDS', fields: ['X-NOTE'] })).toBe('X-Note: n\r\n\r\n');
    expect(section({ part: [2, 1] })).toBe('inner body');
  });

  it('returns an empty string for parts that do not exist or do not allow HEADER/TEXT', () => {
    expect(section({ part: [3] })).toBe('');
    expect(section({ part: [1, 2] })).toBe('');
    expect(section({ part: [1], text: 'HEADER' })).toBe('');
  });

  it('treats part 1 of a single-part message as its body and header', () => {
    const single = Buffer.from('Subject: x\r\n\r\nbody\r\n');
    const ss = analyzeMessage(single);
    expect(extractSection(single, ss, { part: [1] }).toString()).toBe('body\r\n');
    expect(extractSection(single, ss, { part: [1], text: 'MIME' }).toString()).toBe('Subject: x\r\n\r\n');
    expect(findPart(ss.root, [2])).toBeNull();
  });

  it('applies partial ranges and returns nothing past the end', () => {
    expect(section({ part: [] }, { offset: 0, length: 4 })).toBe('From');
    expect(section({ part: [1] }, { offset: 2, length: 100 })).toBe('rst');
    expect(section({ part: [1] }, { offset: 5, length: 1 })).toBe('');
  });

  it('maps RFC822 items to BODY sections', () => {
    expect(extractRfc822(raw, s, 'RFC822').toString('latin1')).toBe(MESSAGE);
    expect(extractRfc822(raw, s, 'RFC822.HEADER').toString('latin1')).toBe(section({ part: [], text: 'HEADER' }));
    expect(extractRfc822(raw, s, 'RFC822.TEXT').toString('latin1')).toBe(section({ part: [], text: 'TEXT' }));
  });
});
