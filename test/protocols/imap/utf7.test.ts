// Modified UTF-7 mailbox names (RFC 3501 §5.1.3): round trips, the RFC's own
// example, and strict rejection of everything a client must not send.

import { describe, expect, it } from 'vitest';
import { decodeModifiedUtf7, encodeModifiedUtf7 } from '../../../src/protocols/imap/utf7.js';

describe('modified UTF-7', () => {
  it.each([
    ['INBOX', 'INBOX'],
    ['~peter/mail/台北/日本語', '~peter/mail/&U,BTFw-/&ZeVnLIqe-'],
    ['Café', 'Caf&AOk-'],
    ['Tom & Jerry', 'Tom &- Jerry'],
    ['&&', '&-&-'],
    ['Éé', '&AMkA6Q-'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['📧 mail', '&2D3c5w- mail'],
    ['tab\there', 'tab&AAk-here'],
    ['', ''],
  ])('%j ⇄ %j', (decoded, encoded) => {
    expect(encodeModifiedUtf7(decoded)).toBe(encoded);
    expect(decodeModifiedUtf7(encoded)).toBe(decoded);
  });

  it('round-trips every BMP-plus-astral sample', () => {
    const samples = ['a/b.c', 'Ελληνικά', 'Русский/Папка', 'שלום', '中文 & 日本語', '𝄞 music', 'x\u007fy', 'mixed/Ünïcödé/end'];
    for (const sample of samples) expect(decodeModifiedUtf7(encodeModifiedUtf7(sample))).toBe(sample);
  });

  it.each([
    ['unterminated shift', '&U,BTFw'],
    ['8-bit character', 'Café'],
    ['control character', 'a\tb'],
    ['standard base64 slash', '&U/BTFw-'],
    ['base64 padding', '&AOk=-'],
    ['printable ASCII encoded', '&AGE-'],
    ['odd number of bytes', '&AO-'],
    ['non-zero padding bits', '&AOl-'],
    ['adjacent shifts', '&AOk-&AOk-'],
    ['unpaired high surrogate', '&2D0-'],
    ['unpaired low surrogate', '&3Oc-'],
    ['an extra base64 character', '&AOkA-'],
  ])('rejects %s', (_name, text) => {
    expect(decodeModifiedUtf7(text)).toBeNull();
  });
});
