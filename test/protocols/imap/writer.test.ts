// The IMAP response writer, specified by the server lines of RFC 3501 and of
// the extension RFCs (4315, 7162, 4731, 2342, 2971, 5161, 9208, 5258, 6154, 6855).

import { describe, expect, it } from 'vitest';
import {
  cutPartial,
  fetchBinarySection,
  fetchBinarySize,
  fetchBodySection,
  fetchFlags,
  fetchInternalDate,
  fetchLiteral,
  fetchModSeq,
  fetchNumber,
  fetchRendered,
  formatSection,
  writeResponse,
} from '../../../src/protocols/imap/writer.js';
import type { FetchResponseItem, ImapResponse } from '../../../src/protocols/imap/types.js';

function wire(response: ImapResponse, utf8 = false): string {
  return writeResponse(response, { utf8 }).toString('utf8');
}


/** An item's value as it goes on the wire, cut out of a one-item FETCH line. */
function valueOnWire(item: FetchResponseItem): string {
  return writeResponse({ type: 'fetch', seq: 1, items: [item] }).toString('latin1').slice(`* 1 FETCH (${item.name} `.length, -3);
}

describe('status responses and response codes', () => {
  const cases: Array<[ImapResponse, string]> = [
    [{ type: 'tagged', tag: 'A142', status: 'OK', code: { code: 'READ-WRITE' }, text: 'SELECT completed' }, 'A142 OK [READ-WRITE] SELECT completed'],
    [{ type: 'tagged', tag: 'a', status: 'BAD', text: 'Unknown command' }, 'a BAD Unknown command'],
    [{ type: 'untagged', status: 'OK', code: { code: 'UNSEEN', value: 12 }, text: 'Message 12 is first unseen' }, '* OK [UNSEEN 12] Message 12 is first unseen'],
    [{ type: 'untagged', status: 'OK', code: { code: 'UIDVALIDITY', value: 3857529045 }, text: 'UIDs valid' }, '* OK [UIDVALIDITY 3857529045] UIDs valid'],
    [{ type: 'untagged', status: 'OK', code: { code: 'UIDNEXT', value: 4392 }, text: 'Predicted next UID' }, '* OK [UIDNEXT 4392] Predicted next UID'],
    [
      { type: 'untagged', status: 'OK', code: { code: 'PERMANENTFLAGS', flags: ['\\Deleted', '\\Seen', '\\*'] }, text: 'Limited' },
      '* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited',
    ],
    [{ type: 'tagged', tag: 'A003', status: 'OK', code: { code: 'APPENDUID', uidValidity: 38505, uids: [3955] }, text: 'APPEND completed' }, 'A003 OK [APPENDUID 38505 3955] APPEND completed'],
    [
      { type: 'tagged', tag: 'A004', status: 'OK', code: { code: 'COPYUID', uidValidity: 38505, sourceUids: [304, 319, 320], destinationUids: [3956, 3957, 3958] }, text: 'Done' },
      'A004 OK [COPYUID 38505 304,319:320 3956:3958] Done',
    ],
    [{ type: 'untagged', status: 'OK', code: { code: 'HIGHESTMODSEQ', value: 715194045007n }, text: 'Highest' }, '* OK [HIGHESTMODSEQ 715194045007] Highest'],
    [
      { type: 'untagged', status: 'OK', code: { code: 'NOMODSEQ' }, text: "Sorry, this mailbox format doesn't support modsequences" },
      "* OK [NOMODSEQ] Sorry, this mailbox format doesn't support modsequences",
    ],
    [{ type: 'tagged', tag: 'd105', status: 'OK', code: { code: 'MODIFIED', set: [7, 9] }, text: 'Conditional STORE failed' }, 'd105 OK [MODIFIED 7,9] Conditional STORE failed'],
    [{ type: 'tagged', tag: 'A3', status: 'NO', code: { code: 'TRYCREATE' }, text: 'No such mailbox' }, 'A3 NO [TRYCREATE] No such mailbox'],
    [{ type: 'tagged', tag: 'A3', status: 'NO', code: { code: 'TOOBIG' }, text: 'Message too big' }, 'A3 NO [TOOBIG] Message too big'],
    [{ type: 'tagged', tag: 'a', status: 'NO', code: { code: 'BADCHARSET', charsets: ['US-ASCII', 'UTF-8'] }, text: 'x' }, 'a NO [BADCHARSET (US-ASCII UTF-8)] x'],
    [{ type: 'tagged', tag: 'a', status: 'NO', code: { code: 'BADCHARSET' }, text: 'x' }, 'a NO [BADCHARSET] x'],
    [
      { type: 'tagged', tag: 'a1', status: 'OK', code: { code: 'CAPABILITY', capabilities: ['IMAP4rev1', 'IDLE'] }, text: 'Logged in' },
      'a1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in',
    ],
    [
      { type: 'tagged', tag: 'a1', status: 'NO', code: { code: 'AUTHENTICATIONFAILED' }, text: 'Authentication failed' },
      'a1 NO [AUTHENTICATIONFAILED] Authentication failed',
    ],
    [{ type: 'untagged', status: 'BYE', text: 'IMAP4rev1 Server logging out' }, '* BYE IMAP4rev1 Server logging out'],
    [{ type: 'untagged', status: 'PREAUTH', text: 'IMAP4rev1 server logged in as Smith' }, '* PREAUTH IMAP4rev1 server logged in as Smith'],
    [{ type: 'untagged', status: 'OK', code: { code: 'CLOSED' }, text: '' }, '* OK [CLOSED]'],
    [{ type: 'tagged', tag: 'a', status: 'BAD', text: 'line\r\nbreak' }, 'a BAD line break'],
    [{ type: 'continuation', text: 'Ready for literal data' }, '+ Ready for literal data'],
    [{ type: 'continuation' }, '+ '],
  ];
  it.each(cases.map(([response, expected]) => ({ response, expected })))('$expected', ({ response, expected }) => {
    expect(wire(response)).toBe(`${expected}\r\n`);
  });

  it.each(['ALREADYEXISTS', 'NONEXISTENT', 'CANNOT', 'INUSE', 'OVERQUOTA', 'LIMIT', 'UNAVAILABLE', 'SERVERBUG', 'ALERT', 'PARSE', 'READ-ONLY'] as const)(
    '[%s]',
    (code) => {
      expect(wire({ type: 'tagged', tag: 't', status: 'NO', code: { code }, text: 'x' })).toBe(`t NO [${code}] x\r\n`);
    },
  );
});

describe('untagged data', () => {
  const cases: Array<[ImapResponse, string]> = [
    [{ type: 'exists', count: 172 }, '* 172 EXISTS'],
    [{ type: 'recent', count: 1 }, '* 1 RECENT'],
    [{ type: 'expunge', seq: 3 }, '* 3 EXPUNGE'],
    [{ type: 'flags', flags: ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] }, '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)'],
    [{ type: 'capability', capabilities: ['IMAP4rev1', 'STARTTLS', 'AUTH=GSSAPI', 'LOGINDISABLED'] }, '* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED'],
    [{ type: 'list', attributes: ['\\Noselect'], delimiter: '/', mailbox: '' }, '* LIST (\\Noselect) "/" ""'],
    [{ type: 'list', attributes: ['\\Noselect'], delimiter: '.', mailbox: '#news.' }, '* LIST (\\Noselect) "." "#news."'],
    [{ type: 'list', attributes: ['\\HasNoChildren', '\\Drafts'], delimiter: '/', mailbox: 'Drafts' }, '* LIST (\\HasNoChildren \\Drafts) "/" "Drafts"'],
    [{ type: 'list', attributes: [], delimiter: null, mailbox: 'Flat' }, '* LIST () NIL "Flat"'],
    [{ type: 'list', attributes: [], delimiter: '\\', mailbox: 'a' }, '* LIST () "\\\\" "a"'],
    [{ type: 'lsub', attributes: [], delimiter: '.', mailbox: '#news.comp.mail.mime' }, '* LSUB () "." "#news.comp.mail.mime"'],
    [{ type: 'list', attributes: [], delimiter: '/', mailbox: 'Fruit', childInfo: ['SUBSCRIBED'] }, '* LIST () "/" "Fruit" ("CHILDINFO" ("SUBSCRIBED"))'],
    [{ type: 'list', attributes: [], delimiter: '/', mailbox: 'Nouveau', oldName: 'Ancien' }, '* LIST () "/" "Nouveau" ("OLDNAME" ("Ancien"))'],
    [{ type: 'list', attributes: ['\\HasNoChildren'], delimiter: '/', mailbox: '~peter/mail/台北/日本語' }, '* LIST (\\HasNoChildren) "/" "~peter/mail/&U,BTFw-/&ZeVnLIqe-"'],
    [
      { type: 'status', mailbox: 'blurdybloop', items: [['MESSAGES', 231], ['UIDNEXT', 44292], ['HIGHESTMODSEQ', 7011231777n]] },
      '* STATUS "blurdybloop" (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)',
    ],
    [{ type: 'search', ids: [2, 84, 882] }, '* SEARCH 2 84 882'],
    [{ type: 'search', ids: [] }, '* SEARCH'],
    [{ type: 'search', ids: [2, 5, 6, 7, 11, 12, 18, 19, 20, 23], modSeq: 917162500 }, '* SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)'],
    [{ type: 'esearch', tag: 'A282', uid: false, min: 2, count: 3 }, '* ESEARCH (TAG "A282") MIN 2 COUNT 3'],
    [{ type: 'esearch', tag: 'A283', uid: false, all: [2, 10, 11] }, '* ESEARCH (TAG "A283") ALL 2,10:11'],
    [{ type: 'esearch', tag: 'A284', uid: true, min: 4, max: 9, count: 0, modSeq: 12n }, '* ESEARCH (TAG "A284") UID MIN 4 MAX 9 COUNT 0 MODSEQ 12'],
    [{ type: 'esearch', uid: false, all: [] }, '* ESEARCH'],
    [{ type: 'vanished', earlier: true, uids: [41, 43, 44, 45, 116] }, '* VANISHED (EARLIER) 41,43:45,116'],
    [{ type: 'vanished', earlier: false, uids: '405,407,410,425' }, '* VANISHED 405,407,410,425'],
    [{ type: 'namespace', personal: [{ prefix: '', delimiter: '/' }], otherUsers: null, shared: null }, '* NAMESPACE (("" "/")) NIL NIL'],
    [
      {
        type: 'namespace',
        personal: [{ prefix: '', delimiter: '/' }],
        otherUsers: [{ prefix: '~', delimiter: '/' }],
        shared: [{ prefix: '#shared/', delimiter: '/' }, { prefix: '#public/', delimiter: '/' }],
      },
      '* NAMESPACE (("" "/")) (("~" "/")) (("#shared/" "/")("#public/" "/"))',
    ],
    [
      { type: 'id', parameters: [['name', 'Cyrus'], ['version', '1.5'], ['os', 'sunos'], ['support-url', 'mailto:cyrus-bugs+@andrew.cmu.edu'], ['date', null]] },
      '* ID ("name" "Cyrus" "version" "1.5" "os" "sunos" "support-url" "mailto:cyrus-bugs+@andrew.cmu.edu" "date" NIL)',
    ],
    [{ type: 'id', parameters: null }, '* ID NIL'],
    [{ type: 'enabled', capabilities: ['X-GOOD-IDEA'] }, '* ENABLED X-GOOD-IDEA'],
    [{ type: 'enabled', capabilities: [] }, '* ENABLED'],
    [{ type: 'quota', root: '', resources: [{ name: 'STORAGE', usage: 10, limit: 512 }] }, '* QUOTA "" (STORAGE 10 512)'],
    [{ type: 'quotaroot', mailbox: 'INBOX', roots: [''] }, '* QUOTAROOT "INBOX" ""'],
    [{ type: 'quotaroot', mailbox: 'comp.mail.mime', roots: [] }, '* QUOTAROOT "comp.mail.mime"'],
  ];
  it.each(cases.map(([response, expected]) => ({ response, expected })))('$expected', ({ response, expected }) => {
    expect(wire(response)).toBe(`${expected}\r\n`);
  });

  it('mailbox names go out as UTF-8 once UTF8=ACCEPT is enabled (RFC 6855)', () => {
    const response: ImapResponse = { type: 'list', attributes: [], delimiter: '/', mailbox: 'Entwürfe' };
    expect(wire(response)).toBe('* LIST () "/" "Entw&APw-rfe"\r\n');
    expect(wire(response, true)).toBe('* LIST () "/" "Entwürfe"\r\n');
  });

  it('names that cannot be quoted go out as literals', () => {
    expect(wire({ type: 'status', mailbox: 'a"b\\c', items: [['MESSAGES', 1]] })).toBe('* STATUS "a\\"b\\\\c" (MESSAGES 1)\r\n');
    expect(wire({ type: 'id', parameters: [['name', 'line\nbreak']] })).toBe('* ID ("name" {10}\r\nline\nbreak)\r\n');
  });
});

describe('FETCH responses', () => {
  it('the RFC 3501 example: flags, date, size and pre-rendered envelope', () => {
    const envelope = '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" NIL NIL NIL NIL NIL NIL NIL "<B27397-0100000@cac.washington.edu>")';
    const response = writeResponse({
      type: 'fetch',
      seq: 12,
      items: [
        fetchFlags(['\\Seen']),
        fetchInternalDate(new Date(Date.UTC(1996, 6, 17, 9, 44, 25)), -420),
        fetchNumber('RFC822.SIZE', 4286),
        fetchRendered('ENVELOPE', envelope),
        fetchNumber('UID', 4827313),
      ],
    });
    expect(response.toString()).toBe(
      `* 12 FETCH (FLAGS (\\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" RFC822.SIZE 4286 ENVELOPE ${envelope} UID 4827313)\r\n`,
    );
  });

  it('INTERNALDATE pads a one-digit day with a space', () => {
    expect(fetchInternalDate(new Date(Date.UTC(2024, 1, 5, 23, 30, 0)), 90).value.toString()).toBe('" 6-Feb-2024 01:00:00 +0130"');
    expect(fetchInternalDate(new Date(Date.UTC(2024, 1, 5, 0, 0, 0))).value.toString()).toBe('" 5-Feb-2024 00:00:00 +0000"');
  });

  it('MODSEQ (RFC 7162)', () => {
    expect(writeResponse({ type: 'fetch', seq: 50, items: [fetchModSeq(12111230047n)] }).toString()).toBe('* 50 FETCH (MODSEQ (12111230047))\r\n');
  });

  it('body sections become literals named after the request', () => {
    const header = Buffer.from('Date: Wed, 17 Jul 1996 02:23:25 -0700\r\nFrom: Terry Gray <gray@cac.washington.edu>\r\n\r\n');
    const item = fetchBodySection(
      { name: 'BODY[]', peek: true, section: { part: [], text: 'HEADER.FIELDS', fields: ['DATE', 'FROM'] } },
      header,
    );
    expect(item.name).toBe('BODY[HEADER.FIELDS (DATE FROM)]');
    const response = writeResponse({ type: 'fetch', seq: 2, items: [item] });
    expect(response.toString()).toBe(`* 2 FETCH (BODY[HEADER.FIELDS (DATE FROM)] {${header.length}}\r\n${header.toString()})\r\n`);

    const request = { name: 'BODY[]', peek: false, section: { part: [1, 2] }, partial: { offset: 2, length: 3 } } as const;
    const partial = fetchBodySection(request, cutPartial(Buffer.from('abcdefgh'), request.partial));
    expect(partial.name).toBe('BODY[1.2]<2>');
    expect(valueOnWire(partial)).toBe('{3}\r\ncde');
    expect(cutPartial(Buffer.from('abc'), { offset: 100, length: 3 })).toEqual(Buffer.alloc(0));
    expect(cutPartial(Buffer.from('abc'), { offset: 1, length: 100 })).toEqual(Buffer.from('bc'));
    expect(valueOnWire(fetchBodySection({ name: 'BODY[]', peek: false, section: { part: [3], text: 'MIME' } }, null))).toBe('NIL');
  });

  it('formatSection', () => {
    expect(formatSection({ part: [] })).toBe('');
    expect(formatSection({ part: [1, 2, 3] })).toBe('1.2.3');
    expect(formatSection({ part: [4], text: 'HEADER.FIELDS.NOT', fields: ['Received', 'X Odd'] })).toBe('4.HEADER.FIELDS.NOT (Received "X Odd")');
  });

  it('BINARY sections use literal8 only for NUL bytes (RFC 3516)', () => {
    expect(valueOnWire(fetchBinarySection({ name: 'BINARY[]', peek: false, part: [1] }, Buffer.from('hi')))).toBe('{2}\r\nhi');
    const withNul = fetchBinarySection({ name: 'BINARY[]', peek: true, part: [1, 2], partial: { offset: 0, length: 2 } }, Buffer.from([0, 1]));
    expect(withNul.name).toBe('BINARY[1.2]<0>');
    expect(valueOnWire(withNul)).toBe('~{2}\r\n\x00\x01');
    expect(fetchBinarySize([1], 42)).toEqual({ name: 'BINARY.SIZE[1]', value: Buffer.from('42') });
  });

  it('RFC822 items are literals, NIL when absent', () => {
    expect(valueOnWire(fetchLiteral('RFC822.TEXT', Buffer.from('body')))).toBe('{4}\r\nbody');
    expect(valueOnWire(fetchLiteral('RFC822.HEADER', null))).toBe('NIL');
  });
});
