// ENVELOPE / BODY / BODYSTRUCTURE rendering: Dovecot's string policy and the
// shapes RFC 3501 §7.4.2 gives for single-part, multipart and message parts.

import { describe, expect, it } from 'vitest';
import { analyzeMessage } from '../../../src/mime/analyze.js';
import { nstring, renderBodyStructure, renderEnvelope, stringForHumans } from '../../../src/protocols/imap/render-structure.js';

function render(text: string) {
  const s = analyzeMessage(Buffer.from(text, 'latin1'));
  return {
    envelope: renderEnvelope(s).toString('latin1'),
    body: renderBodyStructure(s, false).toString('latin1'),
    bodystructure: renderBodyStructure(s, true).toString('latin1'),
  };
}

describe('string policy', () => {
  it('quotes plain text and escapes up to four quoted-specials', () => {
    expect(nstring('a "b" c')).toBe('"a \\"b\\" c"');
    expect(nstring(null)).toBe('NIL');
  });

  it('uses a literal for 8-bit text and for many quoted-specials', () => {
    expect(nstring('M\xfcller')).toBe('{6}\r\nM\xfcller');
    expect(nstring('"""""')).toBe('{5}\r\n"""""');
  });

  it('folds whitespace in human text and sends it as a literal when changed', () => {
    expect(stringForHumans('plain subject')).toBe('"plain subject"');
    expect(stringForHumans(' two\t words ')).toBe('{9}\r\ntwo words');
    expect(stringForHumans('   ')).toBe('""');
  });
});

describe('ENVELOPE', () => {
  it('defaults sender and reply-to to from and uses NIL for absent fields', () => {
    const r = render('From: Alice <alice@example.org>\r\nSubject: hi\r\n\r\nbody\r\n');
    expect(r.envelope).toBe('(NIL "hi" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) NIL NIL NIL NIL NIL)');
  });

  it('renders groups and a missing domain as Dovecot does', () => {
    const r = render('To: friends: a@b, c;, lonely\r\n\r\n');
    expect(r.envelope).toContain('((NIL NIL "friends" NIL)(NIL NIL "a" "b")(NIL NIL "c" "MISSING_DOMAIN")(NIL NIL NIL NIL)(NIL NIL "lonely" "MISSING_DOMAIN"))');
  });
});

describe('BODY and BODYSTRUCTURE', () => {
  it('adds the default charset to text parts and extension data only to BODYSTRUCTURE', () => {
    const r = render('Content-Type: text/plain\r\n\r\nline1\r\nline2\r\n');
    expect(r.body).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2)');
    expect(r.bodystructure).toBe('("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)');
  });

  it('renders a multipart with an empty text part when it has no children', () => {
    const r = render('Content-Type: multipart/mixed\r\n\r\nno boundary\r\n');
    expect(r.body).toBe('(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed")');
  });

  it('renders message/rfc822 with the inner envelope, body and line count', () => {
    const r = render('Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n');
    expect(r.body).toBe('("message" "rfc822" NIL NIL NIL "7bit" 21 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 1) 3)');
  });
});
