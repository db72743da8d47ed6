// The IMAP command parser, specified by the client lines of RFC 3501 §6/§8 and
// of the extension RFCs (2177, 4315, 6851, 7162, 7888, 5258, 2971, 5161, 9208),
// plus chunking, limits, literals, raw lines and garbage.

import { describe, expect, it } from 'vitest';
import { ImapParser, type ImapParserOptions } from '../../../src/protocols/imap/parser.js';
import type { ImapCommand, ImapParserEvent } from '../../../src/protocols/imap/types.js';

function drain(parser: ImapParser): ImapParserEvent[] {
  const events: ImapParserEvent[] = [];
  for (let event = parser.next(); event !== undefined; event = parser.next()) events.push(event);
  return events;
}

function parseAll(input: string | Buffer, options?: ImapParserOptions): ImapParserEvent[] {
  const parser = new ImapParser(options);
  parser.push(Buffer.isBuffer(input) ? input : Buffer.from(input, 'utf8'));
  return drain(parser);
}

/** The events with continuations dropped (the client already sent the literal). */
function commandsOf(input: string, options?: ImapParserOptions): ImapParserEvent[] {
  return parseAll(input, options).filter((event) => event.type !== 'continuation');
}

function parseCommand(input: string, options?: ImapParserOptions): ImapCommand {
  const events = commandsOf(input, options);
  expect(events).toHaveLength(1);
  const event = events[0]!;
  if (event.type !== 'command') throw new Error(`expected a command, got ${JSON.stringify(event)}`);
  return event.command;
}

function errorOf(input: string | Buffer, options?: ImapParserOptions): ImapParserEvent {
  const events = parseAll(input, options).filter((event) => event.type !== 'continuation');
  expect(events).toHaveLength(1);
  expect(events[0]!.type).toBe('error');
  return events[0]!;
}

const all = { kind: 'ranges', ranges: [{ from: 1, to: '*' }] };
const range = (from: number | '*', to: number | '*' = from) => ({ from, to });
const ranges = (...list: Array<{ from: number | '*'; to: number | '*' }>) => ({ kind: 'ranges', ranges: list });

describe('RFC 3501 command examples parse into typed commands', () => {
  const cases: Array<[string, string, unknown]> = [
    ['CAPABILITY', 'abcd CAPABILITY\r\n', { tag: 'abcd', name: 'CAPABILITY' }],
    ['NOOP', 'a002 NOOP\r\n', { tag: 'a002', name: 'NOOP' }],
    ['LOGOUT', 'A023 LOGOUT\r\n', { tag: 'A023', name: 'LOGOUT' }],
    ['STARTTLS', 'a001 STARTTLS\r\n', { tag: 'a001', name: 'STARTTLS' }],
    ['AUTHENTICATE', 'A001 AUTHENTICATE GSSAPI\r\n', { tag: 'A001', name: 'AUTHENTICATE', mechanism: 'GSSAPI' }],
    ['LOGIN with atoms', 'a001 LOGIN SMITH SESAME\r\n', { tag: 'a001', name: 'LOGIN', username: 'SMITH', password: 'SESAME' }],
    ['SELECT', 'A142 SELECT INBOX\r\n', { tag: 'A142', name: 'SELECT', mailbox: 'INBOX', condstore: false }],
    ['EXAMINE', 'A932 EXAMINE blurdybloop\r\n', { tag: 'A932', name: 'EXAMINE', mailbox: 'blurdybloop', condstore: false }],
    ['CREATE', 'A003 CREATE owatagusiam/\r\n', { tag: 'A003', name: 'CREATE', mailbox: 'owatagusiam/' }],
    ['DELETE', 'A683 DELETE blurdybloop\r\n', { tag: 'A683', name: 'DELETE', mailbox: 'blurdybloop' }],
    ['RENAME', 'A683 RENAME blurdybloop sarasoop\r\n', { tag: 'A683', name: 'RENAME', from: 'blurdybloop', to: 'sarasoop' }],
    [
      'SUBSCRIBE',
      'A002 SUBSCRIBE #news.comp.mail.mime\r\n',
      { tag: 'A002', name: 'SUBSCRIBE', mailbox: '#news.comp.mail.mime' },
    ],
    [
      'UNSUBSCRIBE',
      'A002 UNSUBSCRIBE #news.comp.mail.mime\r\n',
      { tag: 'A002', name: 'UNSUBSCRIBE', mailbox: '#news.comp.mail.mime' },
    ],
    [
      'LIST with empty strings',
      'A101 LIST "" ""\r\n',
      {
        tag: 'A101',
        name: 'LIST',
        reference: '',
        patterns: [''],
        selection: [],
        returnOptions: { subscribed: false, children: false, specialUse: false },
        extended: false,
      },
    ],
    [
      'LIST with wildcard atom',
      'A202 LIST ~/Mail/ %\r\n',
      {
        tag: 'A202',
        name: 'LIST',
        reference: '~/Mail/',
        patterns: ['%'],
        selection: [],
        returnOptions: { subscribed: false, children: false, specialUse: false },
        extended: false,
      },
    ],
    [
      'LSUB',
      'A002 LSUB "#news." "comp.mail.*"\r\n',
      { tag: 'A002', name: 'LSUB', reference: '#news.', pattern: 'comp.mail.*' },
    ],
    [
      'STATUS',
      'A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n',
      { tag: 'A042', name: 'STATUS', mailbox: 'blurdybloop', items: ['UIDNEXT', 'MESSAGES'] },
    ],
    ['CHECK', 'FXXZ CHECK\r\n', { tag: 'FXXZ', name: 'CHECK' }],
    ['CLOSE', 'A341 CLOSE\r\n', { tag: 'A341', name: 'CLOSE' }],
    ['EXPUNGE', 'A202 EXPUNGE\r\n', { tag: 'A202', name: 'EXPUNGE', uid: false }],
    [
      'SEARCH with NOT and a date',
      'A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"\r\n',
      {
        tag: 'A282',
        name: 'SEARCH',
        uid: false,
        criteria: {
          key: 'AND',
          operands: [
            { key: 'FLAGGED' },
            { key: 'SINCE', date: { year: 1994, month: 2, day: 1 } },
            { key: 'NOT', operand: { key: 'FROM', value: 'Smith' } },
          ],
        },
      },
    ],
    [
      'SEARCH TEXT',
      'A283 SEARCH TEXT "string not in mailbox"\r\n',
      {
        tag: 'A283',
        name: 'SEARCH',
        uid: false,
        criteria: { key: 'AND', operands: [{ key: 'TEXT', value: 'string not in mailbox' }] },
      },
    ],
    [
      'SEARCH CHARSET with a literal',
      'A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n',
      {
        tag: 'A284',
        name: 'SEARCH',
        uid: false,
        charset: 'UTF-8',
        criteria: { key: 'AND', operands: [{ key: 'TEXT', value: 'XXXXXX' }] },
      },
    ],
    [
      'FETCH with HEADER.FIELDS',
      'A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n',
      {
        tag: 'A654',
        name: 'FETCH',
        uid: false,
        sequence: ranges(range(2, 4)),
        items: [
          { name: 'FLAGS' },
          { name: 'BODY[]', peek: false, section: { part: [], text: 'HEADER.FIELDS', fields: ['DATE', 'FROM'] } },
        ],
        vanished: false,
      },
    ],
    [
      'STORE +FLAGS',
      'A003 STORE 2:4 +FLAGS (\\Deleted)\r\n',
      {
        tag: 'A003',
        name: 'STORE',
        uid: false,
        sequence: ranges(range(2, 4)),
        operation: 'add',
        silent: false,
        flags: ['\\Deleted'],
      },
    ],
    [
      'COPY',
      'A003 COPY 2:4 MEETING\r\n',
      { tag: 'A003', name: 'COPY', uid: false, sequence: ranges(range(2, 4)), mailbox: 'MEETING' },
    ],
    [
      'UID FETCH adds UID to the items',
      'A999 UID FETCH 4827313:4828442 FLAGS\r\n',
      {
        tag: 'A999',
        name: 'FETCH',
        uid: true,
        sequence: ranges(range(4827313, 4828442)),
        items: [{ name: 'UID' }, { name: 'FLAGS' }],
        vanished: false,
      },
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(parseCommand(input)).toEqual(expected);
  });

  it('APPEND with flags waits for the literal, then carries the message', () => {
    const message =
      'Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nFrom: Fred Foobar <foobar@Blurdybloop.COM>\r\n' +
      'Subject: afternoon meeting\r\nTo: mooch@owatagu.siam.edu\r\n' +
      'Message-Id: <B27397-0100000@Blurdybloop.COM>\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n';
    const parser = new ImapParser();
    parser.push(Buffer.from(`A003 APPEND saved-messages (\\Seen) {${message.length}}\r\n`));
    expect(drain(parser)).toEqual([
      { type: 'continuation', tag: 'A003', command: 'APPEND', size: message.length },
    ]);
    parser.push(Buffer.from(`${message}\r\n`));
    expect(drain(parser)).toEqual([
      {
        type: 'command',
        command: {
          tag: 'A003',
          name: 'APPEND',
          mailbox: 'saved-messages',
          flags: ['\\Seen'],
          message: Buffer.from(message),
          binary: false,
        },
      },
    ]);
  });

  it('MULTIAPPEND: several messages, each with its own flags and date (RFC 3502)', () => {
    expect(parseCommand('A1 APPEND INBOX (\\Seen) {1}\r\nx (\\Draft) " 7-Feb-1994 21:52:25 -0800" {2}\r\nyz {1+}\r\nw\r\n')).toMatchObject({
      mailbox: 'INBOX', flags: ['\\Seen'], message: Buffer.from('x'),
      more: [
        { flags: ['\\Draft'], internalDate: { year: 1994 }, message: Buffer.from('yz') },
        { flags: [], message: Buffer.from('w') },
      ],
    });
    expect(errorOf('A1 APPEND INBOX {1}\r\nx (\\Seen)\r\n')).toMatchObject({ response: 'BAD' });
  });

  it('APPEND with a date-time', () => {
    expect(parseCommand('A1 APPEND INBOX () " 7-Feb-1994 21:52:25 -0800" {1}\r\nx\r\n')).toEqual({
      tag: 'A1',
      name: 'APPEND',
      mailbox: 'INBOX',
      flags: [],
      internalDate: { year: 1994, month: 2, day: 7, hour: 21, minute: 52, second: 25, zoneMinutes: -480 },
      message: Buffer.from('x'),
      binary: false,
    });
  });

  it('the §8 sample session, lower-case commands included', () => {
    const events = commandsOf(
      'a002 select inbox\r\na003 fetch 12 full\r\na004 fetch 12 body[header]\r\n' +
        'a005 store 12 +flags \\deleted\r\na006 logout\r\n',
    );
    expect(events.map((event) => event.type)).toEqual(['command', 'command', 'command', 'command', 'command']);
    const commands = events.map((event) => (event.type === 'command' ? event.command : null));
    expect(commands[0]).toEqual({ tag: 'a002', name: 'SELECT', mailbox: 'INBOX', condstore: false });
    expect(commands[1]).toMatchObject({
      items: [
        { name: 'FLAGS' },
        { name: 'INTERNALDATE' },
        { name: 'RFC822.SIZE' },
        { name: 'ENVELOPE' },
        { name: 'BODY' },
      ],
    });
    expect(commands[2]).toMatchObject({ items: [{ name: 'BODY[]', peek: false, section: { part: [], text: 'HEADER' } }] });
    expect(commands[3]).toMatchObject({ operation: 'add', flags: ['\\Deleted'], silent: false });
    expect(commands[4]).toEqual({ tag: 'a006', name: 'LOGOUT' });
  });
});

describe('FETCH attributes', () => {
  const items = (line: string) => (parseCommand(line) as Extract<ImapCommand, { name: 'FETCH' }>).items;

  it('expands the ALL and FAST macros', () => {
    expect(items('a FETCH 1 ALL\r\n')).toEqual([
      { name: 'FLAGS' },
      { name: 'INTERNALDATE' },
      { name: 'RFC822.SIZE' },
      { name: 'ENVELOPE' },
    ]);
    expect(items('a FETCH 1 fast\r\n')).toEqual([{ name: 'FLAGS' }, { name: 'INTERNALDATE' }, { name: 'RFC822.SIZE' }]);
  });

  it('reads every simple attribute', () => {
    const names = ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'];
    expect(items(`a FETCH 1 (${names.join(' ')})\r\n`)).toEqual(names.map((name) => ({ name })));
  });

  it('reads body sections with parts, texts and partial ranges', () => {
    expect(items('a FETCH 1 (BODY.PEEK[1.2.MIME] BODY[3.TEXT]<0.2048> BODY[] BODY.PEEK[1.HEADER.FIELDS.NOT (Received "X-Spam")])\r\n')).toEqual([
      { name: 'BODY[]', peek: true, section: { part: [1, 2], text: 'MIME' } },
      { name: 'BODY[]', peek: false, section: { part: [3], text: 'TEXT' }, partial: { offset: 0, length: 2048 } },
      { name: 'BODY[]', peek: false, section: { part: [] } },
      { name: 'BODY[]', peek: true, section: { part: [1], text: 'HEADER.FIELDS.NOT', fields: ['Received', 'X-Spam'] } },
    ]);
  });

  it('reads BINARY sections (RFC 3516)', () => {
    expect(items('a FETCH 1 (BINARY.PEEK[1.2]<0.100> BINARY.SIZE[1] BINARY[])\r\n')).toEqual([
      { name: 'BINARY[]', peek: true, part: [1, 2], partial: { offset: 0, length: 100 } },
      { name: 'BINARY.SIZE', part: [1] },
      { name: 'BINARY[]', peek: false, part: [] },
    ]);
  });

  it.each([
    ['unknown attribute', 'a FETCH 1 (FLAGS BOGUS)\r\n'],
    ['MIME without a part', 'a FETCH 1 BODY[MIME]\r\n'],
    ['part number zero', 'a FETCH 1 BODY[0]\r\n'],
    ['unterminated section', 'a FETCH 1 BODY[1\r\n'],
    ['partial without length', 'a FETCH 1 BODY[]<0>\r\n'],
    ['empty attribute list', 'a FETCH 1 ()\r\n'],
    ['sequence number zero', 'a FETCH 0 FLAGS\r\n'],
    ['VANISHED without UID', 'a FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n'],
    ['VANISHED without CHANGEDSINCE', 'a UID FETCH 1:* (FLAGS) (VANISHED)\r\n'],
  ])('rejects %s with BAD', (_name, line) => {
    expect(errorOf(line)).toMatchObject({ type: 'error', tag: 'a', command: 'FETCH', response: 'BAD' });
  });
});

describe('SEARCH keys', () => {
  const criteria = (line: string) => (parseCommand(line) as Extract<ImapCommand, { name: 'SEARCH' }>).criteria;

  it('reads every RFC 3501 key', () => {
    const line =
      'a SEARCH ALL ANSWERED BCC x BEFORE 1-Feb-1994 BODY y CC z DELETED DRAFT FLAGGED FROM f ' +
      'HEADER X-Foo bar KEYWORD $Label LARGER 100 NEW NOT SEEN OLD ON 31-Dec-2020 OR SEEN RECENT ' +
      'SENTBEFORE 1-Jan-2000 SENTON 2-Jan-2000 SENTSINCE 3-Jan-2000 SINCE 4-Jan-2000 SMALLER 5 ' +
      'SUBJECT s TEXT t TO u UID 1:5 UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD work UNSEEN 2,4:* (SEEN FLAGGED)\r\n';
    expect(criteria(line)).toEqual({
      key: 'AND',
      operands: [
        { key: 'ALL' },
        { key: 'ANSWERED' },
        { key: 'BCC', value: 'x' },
        { key: 'BEFORE', date: { year: 1994, month: 2, day: 1 } },
        { key: 'BODY', value: 'y' },
        { key: 'CC', value: 'z' },
        { key: 'DELETED' },
        { key: 'DRAFT' },
        { key: 'FLAGGED' },
        { key: 'FROM', value: 'f' },
        { key: 'HEADER', field: 'X-Foo', value: 'bar' },
        { key: 'KEYWORD', flag: '$Label' },
        { key: 'LARGER', size: 100 },
        { key: 'NEW' },
        { key: 'NOT', operand: { key: 'SEEN' } },
        { key: 'OLD' },
        { key: 'ON', date: { year: 2020, month: 12, day: 31 } },
        { key: 'OR', left: { key: 'SEEN' }, right: { key: 'RECENT' } },
        { key: 'SENTBEFORE', date: { year: 2000, month: 1, day: 1 } },
        { key: 'SENTON', date: { year: 2000, month: 1, day: 2 } },
        { key: 'SENTSINCE', date: { year: 2000, month: 1, day: 3 } },
        { key: 'SINCE', date: { year: 2000, month: 1, day: 4 } },
        { key: 'SMALLER', size: 5 },
        { key: 'SUBJECT', value: 's' },
        { key: 'TEXT', value: 't' },
        { key: 'TO', value: 'u' },
        { key: 'UID', set: ranges(range(1, 5)) },
        { key: 'UNANSWERED' },
        { key: 'UNDELETED' },
        { key: 'UNDRAFT' },
        { key: 'UNFLAGGED' },
        { key: 'UNKEYWORD', flag: 'work' },
        { key: 'UNSEEN' },
        { key: 'SEQUENCE', set: ranges(range(2), range(4, '*')) },
        { key: 'AND', operands: [{ key: 'SEEN' }, { key: 'FLAGGED' }] },
      ],
    });
  });

  it('reads quoted dates and nested OR/NOT', () => {
    expect(criteria('a SEARCH OR (FROM a SINCE "1-Feb-1994") NOT OR SEEN DELETED\r\n')).toEqual({
      key: 'AND',
      operands: [
        {
          key: 'OR',
          left: { key: 'AND', operands: [{ key: 'FROM', value: 'a' }, { key: 'SINCE', date: { year: 1994, month: 2, day: 1 } }] },
          right: { key: 'NOT', operand: { key: 'OR', left: { key: 'SEEN' }, right: { key: 'DELETED' } } },
        },
      ],
    });
  });

  it('reads ESEARCH RETURN options (RFC 4731) and $ (RFC 5182)', () => {
    expect(parseCommand('A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994\r\n')).toMatchObject({
      returnOptions: ['MIN', 'COUNT'],
    });
    expect(parseCommand('A283 UID SEARCH RETURN () UNSEEN\r\n')).toMatchObject({ uid: true, returnOptions: ['ALL'] });
    expect(parseCommand('A1 UID SEARCH RETURN (SAVE) CHARSET US-ASCII UID $\r\n')).toMatchObject({
      returnOptions: ['SAVE'],
      charset: 'US-ASCII',
      criteria: { key: 'AND', operands: [{ key: 'UID', set: { kind: 'saved' } }] },
    });
  });

  it('decodes UTF-8 search strings', () => {
    const bytes = Buffer.from('Ünïcödé', 'utf8');
    const input = Buffer.concat([Buffer.from(`a SEARCH CHARSET utf-8 SUBJECT {${bytes.length}+}\r\n`), bytes, Buffer.from('\r\n')]);
    const [event] = parseAll(input);
    expect(event).toMatchObject({ type: 'command', command: { criteria: { operands: [{ key: 'SUBJECT', value: 'Ünïcödé' }] } } });
  });

  it('answers an unknown charset with NO [BADCHARSET]', () => {
    expect(errorOf('a SEARCH CHARSET KOI8-R TEXT x\r\n')).toEqual({
      type: 'error',
      tag: 'a',
      command: 'SEARCH',
      response: 'NO',
      code: 'BADCHARSET',
      text: 'Charset KOI8-R not supported',
    });
  });

  it.each([
    ['no key', 'a SEARCH\r\n'],
    ['unknown key', 'a SEARCH FOO\r\n'],
    ['bad date', 'a SEARCH SINCE 30-Feb-1994\r\n'],
    ['bad month', 'a SEARCH SINCE 1-Foo-1994\r\n'],
    ['OR with one operand', 'a SEARCH OR SEEN\r\n'],
    ['unbalanced parenthesis', 'a SEARCH (SEEN\r\n'],
    ['too deep nesting', `a SEARCH ${'NOT '.repeat(200)}SEEN\r\n`],
    ['invalid UTF-8', Buffer.concat([Buffer.from('a SEARCH TEXT {2+}\r\n'), Buffer.from([0xc3, 0x28]), Buffer.from('\r\n')])],
  ])('rejects %s with BAD', (_name, input) => {
    expect(errorOf(input)).toMatchObject({ tag: 'a', command: 'SEARCH', response: 'BAD' });
  });
});

describe('extension commands', () => {
  it('IDLE (RFC 2177) and its DONE line read raw', () => {
    const parser = new ImapParser();
    parser.push(Buffer.from('A002 IDLE\r\nDONE\r\nA003 NOOP\r\n'));
    expect(parser.next()).toEqual({ type: 'command', command: { tag: 'A002', name: 'IDLE' } });
    parser.expectRawLine();
    expect(parser.next()).toEqual({ type: 'line', line: 'DONE' });
    expect(parser.next()).toEqual({ type: 'command', command: { tag: 'A003', name: 'NOOP' } });
    expect(parser.next()).toBeUndefined();
  });

  it('AUTHENTICATE continuation lines are read raw, one per expectRawLine()', () => {
    const parser = new ImapParser();
    parser.push(Buffer.from('A1 AUTHENTICATE PLAIN\r\n'));
    expect(parser.next()).toEqual({ type: 'command', command: { tag: 'A1', name: 'AUTHENTICATE', mechanism: 'PLAIN' } });
    parser.expectRawLine();
    expect(parser.next()).toBeUndefined();
    parser.push(Buffer.from('AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n'));
    expect(parser.next()).toEqual({ type: 'line', line: 'AHRpbQB0YW5zdGFhZnRhbnN0YWFm' });
  });

  it('a raw line ending in {n} is not taken for a literal', () => {
    const parser = new ImapParser();
    parser.expectRawLine();
    parser.push(Buffer.from('abc {5}\r\n'));
    expect(parser.next()).toEqual({ type: 'line', line: 'abc {5}' });
  });

  it.each([
    ['SASL-IR initial response', 'a AUTHENTICATE plain AGJvYgBzZWNyZXQ=\r\n', { tag: 'a', name: 'AUTHENTICATE', mechanism: 'PLAIN', initialResponse: 'AGJvYgBzZWNyZXQ=' }],
    ['SASL-IR empty response', 'a AUTHENTICATE EXTERNAL =\r\n', { tag: 'a', name: 'AUTHENTICATE', mechanism: 'EXTERNAL', initialResponse: '' }],
    ['UID EXPUNGE (RFC 4315)', 'A003 UID EXPUNGE 3000:3002\r\n', { tag: 'A003', name: 'EXPUNGE', uid: true, uids: ranges(range(3000, 3002)) }],
    ['UID MOVE (RFC 6851)', 'a UID MOVE 42:69 foo\r\n', { tag: 'a', name: 'MOVE', uid: true, sequence: ranges(range(42, 69)), mailbox: 'foo' }],
    ['MOVE', 'a MOVE 1:* Trash\r\n', { tag: 'a', name: 'MOVE', uid: false, sequence: all, mailbox: 'Trash' }],
    ['UNSELECT (RFC 3691)', 'A342 UNSELECT\r\n', { tag: 'A342', name: 'UNSELECT' }],
    ['NAMESPACE (RFC 2342)', 'A001 NAMESPACE\r\n', { tag: 'A001', name: 'NAMESPACE' }],
    ['ID NIL (RFC 2971)', 'a023 ID NIL\r\n', { tag: 'a023', name: 'ID', parameters: null }],
    [
      'ID with fields',
      'a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited" "os" NIL)\r\n',
      { tag: 'a023', name: 'ID', parameters: [['name', 'sodr'], ['version', '19.34'], ['vendor', 'Pink Floyd Music Limited'], ['os', null]] },
    ],
    ['ENABLE (RFC 5161)', 't2 ENABLE CONDSTORE qresync\r\n', { tag: 't2', name: 'ENABLE', capabilities: ['CONDSTORE', 'QRESYNC'] }],
    ['GETQUOTA (RFC 9208)', 'G0001 GETQUOTA "!partition/sda4"\r\n', { tag: 'G0001', name: 'GETQUOTA', root: '!partition/sda4' }],
    ['GETQUOTAROOT', 'A003 GETQUOTAROOT INBOX\r\n', { tag: 'A003', name: 'GETQUOTAROOT', mailbox: 'INBOX' }],
    [
      'SETQUOTA',
      'S0000 SETQUOTA "#user/alice" (Storage 510)\r\n',
      { tag: 'S0000', name: 'SETQUOTA', root: '#user/alice', limits: [{ resource: 'STORAGE', limit: 510 }] },
    ],
    ['COMPRESS (RFC 4978)', 'a COMPRESS DEFLATE\r\n', { tag: 'a', name: 'COMPRESS', mechanism: 'DEFLATE' }],
    ['CREATE with USE (RFC 6154)', 't1 CREATE "Important Messages" (USE (\\Important))\r\n', { tag: 't1', name: 'CREATE', mailbox: 'Important Messages', specialUse: ['\\Important'] }],
  ])('%s', (_name, input, expected) => {
    expect(parseCommand(input)).toEqual(expected);
  });
});

describe('CONDSTORE / QRESYNC (RFC 7162)', () => {
  it('SELECT (CONDSTORE)', () => {
    expect(parseCommand('a SELECT INBOX (CONDSTORE)\r\n')).toEqual({ tag: 'a', name: 'SELECT', mailbox: 'INBOX', condstore: true });
  });

  it('SELECT (QRESYNC ...) with known UIDs', () => {
    expect(parseCommand('A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n')).toEqual({
      tag: 'A02',
      name: 'SELECT',
      mailbox: 'INBOX',
      condstore: true,
      qresync: {
        uidValidity: 67890007,
        modSeq: 20050715194045000n,
        knownUids: ranges(range(41), range(43, 211), range(214, 541)),
      },
    });
  });

  it('SELECT (QRESYNC ...) with the sequence match data', () => {
    const command = parseCommand(
      'B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 ' +
        '15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n',
    );
    expect(command).toMatchObject({
      qresync: {
        uidValidity: 67890007,
        modSeq: 90060115194045000n,
        knownUids: ranges(range(1, 29997)),
        sequenceMatch: {
          sequences: ranges(range(5000), range(7500), range(9000), range(9990, 9999)),
          uids: { kind: 'ranges' },
        },
      },
    });
  });

  it('EXAMINE (QRESYNC) without known UIDs', () => {
    expect(parseCommand('a EXAMINE INBOX (QRESYNC (1 2))\r\n')).toMatchObject({ name: 'EXAMINE', qresync: { uidValidity: 1, modSeq: 2n } });
  });

  it('FETCH (CHANGEDSINCE) and UID FETCH (CHANGEDSINCE VANISHED)', () => {
    expect(parseCommand('s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)\r\n')).toEqual({
      tag: 's100',
      name: 'FETCH',
      uid: true,
      sequence: all,
      items: [{ name: 'UID' }, { name: 'FLAGS' }],
      changedSince: 12345n,
      vanished: false,
    });
    expect(parseCommand('s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n')).toMatchObject({
      changedSince: 12345n,
      vanished: true,
    });
  });

  it('STORE (UNCHANGEDSINCE)', () => {
    expect(parseCommand('d105 UID STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n')).toEqual({
      tag: 'd105',
      name: 'STORE',
      uid: true,
      sequence: ranges(range(7), range(5), range(9)),
      operation: 'add',
      silent: true,
      flags: ['\\Deleted'],
      unchangedSince: 320162338n,
    });
  });

  it('SEARCH MODSEQ with and without an entry', () => {
    expect(parseCommand('a SEARCH MODSEQ "/flags/\\\\draft" all 620162338\r\n')).toMatchObject({
      criteria: { operands: [{ key: 'MODSEQ', modSeq: 620162338n, entry: { name: '/flags/\\draft', type: 'all' } }] },
    });
    expect(parseCommand('a SEARCH OR NOT MODSEQ 720162338 LARGER 50000\r\n')).toMatchObject({
      criteria: { operands: [{ key: 'OR', left: { key: 'NOT', operand: { key: 'MODSEQ', modSeq: 720162338n } } }] },
    });
  });

  it('STATUS HIGHESTMODSEQ', () => {
    expect(parseCommand('C STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ)\r\n')).toMatchObject({
      items: ['UIDNEXT', 'MESSAGES', 'HIGHESTMODSEQ'],
    });
  });

  it('rejects a mod-sequence above 2^63-1', () => {
    expect(errorOf('a FETCH 1 FLAGS (CHANGEDSINCE 9223372036854775808)\r\n')).toMatchObject({ response: 'BAD' });
  });
});

describe('LIST-EXTENDED, SPECIAL-USE and LIST-STATUS', () => {
  it('selection options, several patterns and RETURN options', () => {
    expect(parseCommand('A02 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "Drafts/%") RETURN (CHILDREN SPECIAL-USE SUBSCRIBED STATUS (MESSAGES UNSEEN))\r\n')).toEqual({
      tag: 'A02',
      name: 'LIST',
      reference: '',
      patterns: ['INBOX', 'Drafts/%'],
      selection: ['SUBSCRIBED', 'RECURSIVEMATCH'],
      returnOptions: { subscribed: true, children: true, specialUse: true, status: ['MESSAGES', 'UNSEEN'] },
      extended: true,
    });
  });

  it('LIST (SPECIAL-USE) (RFC 6154)', () => {
    expect(parseCommand('t3 LIST (SPECIAL-USE) "" "*"\r\n')).toMatchObject({ selection: ['SPECIAL-USE'], patterns: ['*'], extended: true });
  });

  it.each([
    ['RECURSIVEMATCH alone', 'a LIST (RECURSIVEMATCH) "" *\r\n'],
    ['unknown selection option', 'a LIST (FOO) "" *\r\n'],
    ['unknown return option', 'a LIST "" * RETURN (FOO)\r\n'],
    ['missing pattern', 'a LIST ""\r\n'],
  ])('rejects %s', (_name, line) => {
    expect(errorOf(line)).toMatchObject({ tag: 'a', command: 'LIST', response: 'BAD' });
  });
});

describe('mailbox names', () => {
  it.each([['inbox'], ['InBoX'], ['"INBOX"'], ['{5}\r\nInbox']])('%s is normalised to INBOX', (name) => {
    expect(parseCommand(`a SELECT ${name}\r\n`)).toMatchObject({ mailbox: 'INBOX' });
  });

  it('decodes modified UTF-7 (RFC 3501 §5.1.3 example)', () => {
    expect(parseCommand('a CREATE ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n')).toMatchObject({ mailbox: '~peter/mail/台北/日本語' });
    expect(parseCommand('a RENAME "A &- B" Caf&AOk-\r\n')).toMatchObject({ from: 'A & B', to: 'Café' });
  });

  it.each([
    ['an unterminated shift', 'a SELECT &U,BTFw\r\n'],
    ['a shifted ASCII character', 'a SELECT &AGE-\r\n'],
    ['bad base64', 'a SELECT &U=BTFw-\r\n'],
    ['8-bit bytes', 'a SELECT "Café"\r\n'],
  ])('answers NO to %s: a well-formed command naming no possible mailbox', (_name, line) => {
    expect(errorOf(line)).toMatchObject({ tag: 'a', command: 'SELECT', response: 'NO', text: expect.stringMatching(/UTF-7/) });
  });

  it('a LIST or LSUB pattern that is not modified UTF-7 matches nothing (an empty OK, as Dovecot)', () => {
    expect(parseCommand('a LIST "" ("&AGE-" %)\r\n')).toMatchObject({ patterns: ['%'] });
    expect(parseCommand('a LIST "" !#$&\'+,-.0123456789:;<=>?@^_`|[}%*\r\n')).toMatchObject({ patterns: [] });
    expect(parseCommand('a LIST "&U,BTFw" %\r\n')).toMatchObject({ patterns: [] });
    expect(parseCommand('a LSUB "" "&AGE-"\r\n')).toMatchObject({ pattern: null });
  });

  it('accepts UTF-8 names as-is once UTF8=ACCEPT is on, switchable at runtime', () => {
    const parser = new ImapParser();
    parser.push(Buffer.from('a SELECT "Café"\r\n'));
    expect(parser.next()).toMatchObject({ type: 'error', tag: 'a' });
    parser.utf8Accept = true;
    parser.push(Buffer.from('b SELECT "Café"\r\nc SELECT &AOk-\r\n'));
    expect(parser.next()).toMatchObject({ type: 'command', command: { mailbox: 'Café' } });
    expect(parser.next()).toMatchObject({ type: 'command', command: { mailbox: '&AOk-' } });
  });

  it('LIST patterns are decoded but not normalised', () => {
    expect(parseCommand('a LIST "" inbox/&AOk-*\r\n')).toMatchObject({ patterns: ['inbox/é*'] });
  });
});

describe('strings, flags and sequence sets', () => {
  it('quoted strings with escapes', () => {
    expect(parseCommand('a LOGIN "fred \\"the\\" user" "pa\\\\ss"\r\n')).toMatchObject({ username: 'fred "the" user', password: 'pa\\ss' });
  });

  it('literals, synchronizing and not, anywhere a string goes', () => {
    expect(commandsOf('a LOGIN {4}\r\nfred {6+}\r\nsecret\r\n')).toEqual([
      { type: 'command', command: { tag: 'a', name: 'LOGIN', username: 'fred', password: 'secret' } },
    ]);
    expect(commandsOf('a LOGIN {4-}\r\nfred ""\r\n')).toEqual([
      { type: 'command', command: { tag: 'a', name: 'LOGIN', username: 'fred', password: '' } },
    ]);
  });

  it('a literal may hold CRLF and parentheses', () => {
    expect(parseCommand('a LOGIN {7+}\r\n)\r\n({}" x\r\n')).toMatchObject({ username: ')\r\n({}"' });
  });

  it('only a non-synchronizing literal skips the continuation', () => {
    expect(parseAll('a LOGIN {1+}\r\nx y\r\n').map((event) => event.type)).toEqual(['command']);
    expect(parseAll('a LOGIN {1}\r\nx y\r\n').map((event) => event.type)).toEqual(['continuation', 'command']);
  });

  it('APPEND accepts literal8 (~{n}) with NUL bytes', () => {
    const message = Buffer.from([0x41, 0x00, 0x42]);
    const input = Buffer.concat([Buffer.from('a APPEND INBOX ~{3+}\r\n'), message, Buffer.from('\r\n')]);
    expect(parseAll(input)).toEqual([
      { type: 'command', command: { tag: 'a', name: 'APPEND', mailbox: 'INBOX', flags: [], message, binary: true } },
    ]);
  });

  it('rejects NUL in an ordinary literal and literal8 outside APPEND', () => {
    expect(errorOf(Buffer.concat([Buffer.from('a LOGIN {1+}\r\n'), Buffer.from([0]), Buffer.from(' x\r\n')]))).toMatchObject({ response: 'BAD' });
    expect(errorOf('a LOGIN ~{1+}\r\nx y\r\n')).toMatchObject({ response: 'BAD' });
  });

  it('normalises system flag case and keeps keywords', () => {
    expect(parseCommand('a STORE 1 FLAGS.SILENT (\\SEEN \\answered $Forwarded \\Custom)\r\n')).toMatchObject({
      operation: 'replace',
      silent: true,
      flags: ['\\Seen', '\\Answered', '$Forwarded', '\\Custom'],
    });
    expect(parseCommand('a STORE 1 -FLAGS \\Seen \\Flagged\r\n')).toMatchObject({ operation: 'remove', flags: ['\\Seen', '\\Flagged'] });
  });

  it('sequence sets with *, ranges written backwards and $', () => {
    expect(parseCommand('a COPY 5:2,*,7:*,$ x\r\n'.replace(',$', ''))).toMatchObject({
      sequence: ranges(range(5, 2), range('*'), range(7, '*')),
    });
    expect(parseCommand('a UID COPY $ x\r\n')).toMatchObject({ sequence: { kind: 'saved' } });
    expect(errorOf('a COPY 1,$ x\r\n')).toMatchObject({ response: 'BAD' });
  });
});

describe('bad input becomes a typed error, never a throw', () => {
  it.each([
    ['unknown command', 'a FROBNICATE\r\n', { tag: 'a', command: 'FROBNICATE' }],
    ['missing arguments', 'a SELECT\r\n', { tag: 'a', command: 'SELECT' }],
    ['extra arguments', 'a NOOP now\r\n', { tag: 'a', command: 'NOOP' }],
    ['two spaces', 'a  NOOP\r\n', { tag: 'a' }],
    ['tag only', 'a\r\n', { tag: 'a' }],
    ['empty line', '\r\n', { tag: null }],
    ['invalid tag', '+tag NOOP\r\n', { tag: null }],
    ['unterminated quote', 'a LOGIN "fred\r\n', { tag: 'a', command: 'LOGIN' }],
    ['bad escape', 'a LOGIN "fr\\ed" x\r\n', { tag: 'a', command: 'LOGIN' }],
    ['UID with a non-UID command', 'a UID NOOP\r\n', { tag: 'a' }],
    ['STATUS with unknown item', 'a STATUS INBOX (FOO)\r\n', { tag: 'a', command: 'STATUS' }],
    ['APPEND without literal', 'a APPEND INBOX "hello"\r\n', { tag: 'a', command: 'APPEND' }],
    ['bad base64 initial response', 'a AUTHENTICATE PLAIN ***\r\n', { tag: 'a', command: 'AUTHENTICATE' }],
  ])('%s', (_name, line, expected) => {
    expect(errorOf(line)).toMatchObject({ type: 'error', response: 'BAD', ...expected });
  });

  it('binary garbage yields errors and the parser recovers', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const garbage = Buffer.from(Array.from({ length: 20_000 }, () => Math.floor(random() * 256)));
    const parser = new ImapParser({ maxLineLength: 1024 });
    parser.push(garbage);
    expect(() => drain(parser)).not.toThrow();
    parser.abortCommand();
    parser.push(Buffer.from('\r\nz NOOP\r\n'));
    const events = drain(parser);
    expect(events[events.length - 1]).toEqual({ type: 'command', command: { tag: 'z', name: 'NOOP' } });
  });

  it('mutated RFC transcripts never make the parser throw', () => {
    const lines = [
      'A654 FETCH 2:4 (FLAGS BODY.PEEK[1.HEADER.FIELDS (DATE FROM)]<0.100>) (CHANGEDSINCE 5)',
      'a SEARCH RETURN (MIN) CHARSET UTF-8 OR (FROM "Smith" SINCE 1-Feb-1994) NOT MODSEQ "/flags/\\\\draft" all 5',
      'B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500 15000,22500)))',
      'A2 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" "&AMk-t&AOk-") RETURN (CHILDREN STATUS (MESSAGES))',
      'd105 UID STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)',
      'a023 ID ("name" "sodr" "os" NIL)',
      'A1 APPEND INBOX (\\Seen) " 7-Feb-1994 21:52:25 -0800" {3+}',
    ];
    const specials = Buffer.from('()[]<>{}"\\ *%$:,.+-~0123456789\r\n\x00\xff');
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 3000; round++) {
      const bytes = Buffer.from(`${lines[round % lines.length]}\r\nabc\r\n`);
      for (let mutations = 1 + Math.floor(random() * 4); mutations > 0; mutations--) {
        bytes[Math.floor(random() * bytes.length)] = specials[Math.floor(random() * specials.length)]!;
      }
      const parser = new ImapParser({ maxLineLength: 200, maxLiteralSize: 100 });
      parser.push(bytes);
      expect(() => drain(parser)).not.toThrow();
    }
  });

  it('accepts bare LF line endings', () => {
    expect(parseAll('a NOOP\nb NOOP\n').map((event) => event.type)).toEqual(['command', 'command']);
  });
});

describe('limits', () => {
  it('a line over the limit is an error; the rest of it is dropped unbuffered', () => {
    const parser = new ImapParser({ maxLineLength: 100 });
    parser.push(Buffer.from(`a1 LOGIN ${'x'.repeat(200)}`));
    expect(drain(parser)).toEqual([
      { type: 'error', tag: 'a1', command: 'LOGIN', response: 'BAD', code: 'LIMIT', text: 'Command line too long (limit 100 bytes)' },
    ]);
    for (let i = 0; i < 100; i++) parser.push(Buffer.from('y'.repeat(1000)));
    expect(parser.bufferedBytes).toBe(0);
    parser.push(Buffer.from('yyy\r\na2 NOOP\r\n'));
    expect(drain(parser)).toEqual([{ type: 'command', command: { tag: 'a2', name: 'NOOP' } }]);
  });

  it('a complete line over the limit is an error too', () => {
    expect(parseAll(`a LOGIN ${'x'.repeat(200)} y\r\nb NOOP\r\n`, { maxLineLength: 100 }).map((event) => event.type)).toEqual([
      'error',
      'command',
    ]);
  });

  it('a line at exactly the limit is accepted', () => {
    const line = `a LOGIN ${'x'.repeat(90)} y`;
    expect(line.length).toBe(100);
    expect(parseAll(`${line}\r\n`, { maxLineLength: 100 })[0]).toMatchObject({ type: 'command' });
    expect(parseAll(`${line}y\r\n`, { maxLineLength: 100 })[0]).toMatchObject({ type: 'error', code: 'LIMIT' });
  });

  it('a too-big synchronizing APPEND literal gets NO [TOOBIG] and no continuation', () => {
    const parser = new ImapParser({ maxAppendSize: 1000 });
    parser.push(Buffer.from('A003 APPEND saved-messages (\\Seen) {1001}\r\n'));
    expect(drain(parser)).toEqual([
      { type: 'error', tag: 'A003', command: 'APPEND', response: 'NO', code: 'TOOBIG', text: 'Literal too big (limit 1000 bytes)' },
    ]);
    parser.push(Buffer.from('A004 NOOP\r\n'));
    expect(drain(parser)).toEqual([{ type: 'command', command: { tag: 'A004', name: 'NOOP' } }]);
  });

  it('a too-big non-synchronizing literal is discarded as it arrives', () => {
    const parser = new ImapParser({ maxAppendSize: 1000 });
    parser.push(Buffer.from('A003 APPEND INBOX {5000+}\r\n'));
    expect(drain(parser)).toMatchObject([{ type: 'error', tag: 'A003', response: 'NO', code: 'TOOBIG' }]);
    for (let i = 0; i < 4; i++) {
      parser.push(Buffer.alloc(1000, 0x61));
      expect(parser.bufferedBytes).toBe(0);
    }
    parser.push(Buffer.alloc(1000, 0x62));
    parser.push(Buffer.from('\r\nA004 NOOP\r\n'));
    expect(drain(parser)).toEqual([{ type: 'command', command: { tag: 'A004', name: 'NOOP' } }]);
  });

  it('skipping follows further literals of the refused command', () => {
    const events = parseAll('a LOGIN {10+}\r\n0123456789 {3+}\r\nabc\r\nb NOOP\r\n', { maxLiteralSize: 5 });
    expect(events).toEqual([
      { type: 'error', tag: 'a', command: 'LOGIN', response: 'BAD', code: 'TOOBIG', text: 'Literal too big (limit 5 bytes)', skippedLiteral: 10 },
      { type: 'command', command: { tag: 'b', name: 'NOOP' } },
    ]);
  });

  it('with maxNonSyncLiteral (LITERAL-), a larger non-synchronizing literal is BAD [TOOBIG] and skipped; a synchronizing one is not limited', () => {
    const events = parseAll('a APPEND INBOX {5-}\r\nhello\r\nb APPEND INBOX {6-}\r\nhello!\r\nc NOOP\r\n', { maxNonSyncLiteral: 5 });
    expect(events[0]).toMatchObject({ type: 'command', command: { tag: 'a', name: 'APPEND' } });
    expect(events[1]).toEqual({
      type: 'error', tag: 'b', command: 'APPEND', response: 'BAD', code: 'TOOBIG',
      text: 'Non-synchronizing literal over 5 bytes (LITERAL-); use a synchronizing literal', skippedLiteral: 6,
    });
    expect(events[2]).toEqual({ type: 'command', command: { tag: 'c', name: 'NOOP' } });
    const parser = new ImapParser({ maxNonSyncLiteral: 5 });
    parser.push(Buffer.from('d APPEND INBOX {6}\r\n'));
    expect(parser.next()).toMatchObject({ type: 'continuation', tag: 'd', size: 6 });
  });

  it('non-APPEND commands have the smaller literal limit, counted over all their literals', () => {
    const options = { maxLiteralSize: 10, maxAppendSize: 1000 };
    expect(parseAll('a LOGIN {6+}\r\nabcdef {6+}\r\nghijkl\r\n', options)[0]).toMatchObject({ type: 'error', code: 'TOOBIG', response: 'BAD' });
    expect(parseAll('a APPEND INBOX {100+}\r\n' + 'x'.repeat(100) + '\r\n', options)[0]).toMatchObject({ type: 'command' });
  });

  it('with reportNonSynchronizing, a LITERAL+ is announced before any of its bytes arrives', () => {
    const parser = new ImapParser({ reportNonSynchronizing: true });
    parser.push(Buffer.from('a APPEND INBOX {41943040+}\r\n'));
    expect(drain(parser)).toEqual([{ type: 'continuation', tag: 'a', command: 'APPEND', size: 41943040, nonSynchronizing: true }]);
  });

  it('with reportNonSynchronizing, the command still follows its literals', () => {
    const events = parseAll('a LOGIN {3+}\r\nann {2+}\r\npw\r\n', { reportNonSynchronizing: true });
    expect(events.map((event) => event.type)).toEqual(['continuation', 'continuation', 'command']);
    expect(events[2]).toMatchObject({ command: { name: 'LOGIN', username: 'ann', password: 'pw' } });
  });

  it('the session can refuse a synchronizing literal with abortCommand()', () => {
    const parser = new ImapParser();
    parser.push(Buffer.from('a APPEND nosuchbox {10}\r\n'));
    expect(drain(parser)).toEqual([{ type: 'continuation', tag: 'a', command: 'APPEND', size: 10 }]);
    parser.abortCommand();
    parser.push(Buffer.from('b NOOP\r\n'));
    expect(drain(parser)).toEqual([{ type: 'command', command: { tag: 'b', name: 'NOOP' } }]);
  });
});

describe('chunk boundaries do not change the result', () => {
  const transcript = Buffer.concat([
    Buffer.from(
      'a001 login SMITH SESAME\r\nA142 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n' +
        'A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\na SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"\r\n' +
        'A003 APPEND saved-messages (\\Seen) {23}\r\nSubject: hi\r\n\r\nHello\r\n\r\n' +
        'A004 APPEND INBOX {5+}\r\nabcde\r\nA005 LOGIN {3}\r\nfoo {3+}\r\nbar\r\nA006 STORE 2:4 +FLAGS (\\Deleted)\r\n' +
        'junk junk\r\nA007 LIST (SUBSCRIBED) "" ("INBOX" "&AMk-t&AOk-") RETURN (CHILDREN)\r\nA008 IDLE\r\n',
    ),
    Buffer.from('A009 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\n'),
  ]);

  function parseInChunks(sizes: () => number): ImapParserEvent[] {
    const parser = new ImapParser();
    const events: ImapParserEvent[] = [];
    for (let offset = 0; offset < transcript.length; ) {
      const size = Math.max(1, sizes());
      parser.push(transcript.subarray(offset, offset + size));
      events.push(...drain(parser));
      offset += size;
    }
    return events;
  }

  const whole = parseAll(transcript);

  it('the transcript parses into the expected events', () => {
    expect(whole.map((event) => (event.type === 'command' ? event.command.name : event.type))).toEqual([
      'LOGIN',
      'SELECT',
      'FETCH',
      'SEARCH',
      'continuation',
      'APPEND',
      'APPEND',
      'continuation',
      'LOGIN',
      'STORE',
      'error',
      'LIST',
      'IDLE',
      'FETCH',
    ]);
  });

  it('byte by byte', () => {
    expect(parseInChunks(() => 1)).toEqual(whole);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('random splits (seed %i)', (seedValue) => {
    let seed = seedValue;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    expect(parseInChunks(() => Math.floor(random() * 40))).toEqual(whole);
  });

  it('limits hold at every chunk boundary too', () => {
    const input = Buffer.from(
      `a LOGIN ${'x'.repeat(150)}\r\nb APPEND INBOX {300+}\r\n${'y'.repeat(300)} {2+}\r\nzz\r\n` +
        'c APPEND INBOX {400}\r\nd NOOP\r\ne LOGIN {3+}\r\nabc def\r\n',
    );
    const options = { maxLineLength: 100, maxAppendSize: 200 };
    const expected = parseAll(input, options);
    expect(expected.map((event) => event.type)).toEqual(['error', 'error', 'error', 'command', 'command']);
    const parser = new ImapParser(options);
    const events: ImapParserEvent[] = [];
    for (const byte of input) {
      parser.push(Buffer.from([byte]));
      events.push(...drain(parser));
    }
    expect(events).toEqual(expected);
  });
});
