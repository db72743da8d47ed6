// IMAP URLs as CATENATE reads them (RFC 5092 §5 forms, keys in any case).
import { describe, expect, it } from 'vitest';
import { parseMessageUrl } from '../../../src/protocols/imap/imap-url.js';

describe('message URLs', () => {
  it('reads mailbox, UIDVALIDITY, UID, SECTION and PARTIAL', () => {
    expect(parseMessageUrl('/INBOX;UIDVALIDITY=385759045/;UID=20/;SECTION=1.2.MIME/;PARTIAL=5.10')).toEqual({
      mailbox: 'INBOX', uidValidity: 385759045, uid: 20, section: { part: [1, 2], text: 'MIME' }, partial: { offset: 5, length: 10 },
    });
    expect(parseMessageUrl('imap://joe@example.com/Caf%C3%A9%20au%20lait/;uid=7/;section=header')).toMatchObject({
      mailbox: 'Café au lait', uid: 7, section: { part: [], text: 'HEADER' },
    });
    expect(parseMessageUrl('/a/b/;uid=3')).toMatchObject({ mailbox: 'a/b', uid: 3, section: { part: [] } });
  });

  it('refuses what it cannot fetch', () => {
    for (const url of ['', 'INBOX/;UID=1', '/INBOX', '/INBOX/;UID=0', '/INBOX/;UID=x', '/INBOX;UIDVALIDITY=/;UID=1',
      '/INBOX/;UID=1/;SECTION=HEADER.FIELDS', '/INBOX/;UID=1/;SECTION=MIME', '/INBOX/;UID=1/;URLAUTH=anonymous', 'imap://host', '/%E0/;UID=1']) {
      expect(parseMessageUrl(url), url).toBeNull();
    }
  });
});
