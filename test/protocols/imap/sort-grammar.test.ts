// SORT and THREAD as the parser reads them (RFC 5256 examples, ESORT's RETURN).
import { describe, expect, it } from 'vitest';
import { ImapParser } from '../../../src/protocols/imap/parser.js';

function parse(line: string) {
  const parser = new ImapParser();
  parser.push(Buffer.from(line));
  return parser.next();
}

describe('SORT and THREAD arguments', () => {
  it('reads the RFC 5256 SORT examples', () => {
    expect(parse('A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n')).toMatchObject({
      type: 'command', command: { name: 'SORT', uid: false, charset: 'UTF-8', criteria: [{ key: 'SUBJECT', reverse: false }] },
    });
    expect(parse('A283 UID SORT (SUBJECT REVERSE DATE) UTF-8 ALL\r\n')).toMatchObject({
      type: 'command', command: { name: 'SORT', uid: true, criteria: [{ key: 'SUBJECT', reverse: false }, { key: 'DATE', reverse: true }] },
    });
    expect(parse('a SORT RETURN (MIN COUNT) (DISPLAYFROM) US-ASCII ALL\r\n')).toMatchObject({
      type: 'command', command: { returnOptions: ['MIN', 'COUNT'], criteria: [{ key: 'DISPLAYFROM' }] },
    });
  });

  it('refuses unknown keys, an empty criteria list and unknown charsets', () => {
    expect(parse('a SORT (COLOUR) UTF-8 ALL\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
    expect(parse('a SORT () UTF-8 ALL\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
    expect(parse('a SORT (REVERSE) UTF-8 ALL\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
    expect(parse('a SORT (DATE) KOI8-R ALL\r\n')).toMatchObject({ type: 'error', response: 'NO', code: 'BADCHARSET' });
  });

  it('reads THREAD with both algorithms', () => {
    expect(parse('A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\r\n')).toMatchObject({
      type: 'command', command: { name: 'THREAD', algorithm: 'ORDEREDSUBJECT', charset: 'UTF-8' },
    });
    expect(parse('A284 UID THREAD REFERENCES US-ASCII TEXT "gewp"\r\n')).toMatchObject({
      type: 'command', command: { name: 'THREAD', uid: true, algorithm: 'REFERENCES' },
    });
    expect(parse('a THREAD SPAGHETTI UTF-8 ALL\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
  });

  it('reads CONTEXT=SEARCH: RETURN (PARTIAL n:m UPDATE) and CANCELUPDATE', () => {
    expect(parse('a SEARCH RETURN (UPDATE PARTIAL 4:2 COUNT) SEEN\r\n')).toMatchObject({
      type: 'command', command: { name: 'SEARCH', returnOptions: ['UPDATE', 'COUNT'], partial: { low: 2, high: 4 } },
    });
    expect(parse('a SEARCH RETURN (PARTIAL 1:1) ALL\r\n')).toMatchObject({ type: 'command', command: { returnOptions: [], partial: { low: 1, high: 1 } } });
    for (const range of ['1', '1:*', '*:1', '0:3']) {
      expect(parse(`a SEARCH RETURN (PARTIAL ${range}) ALL\r\n`)).toMatchObject({ type: 'error', response: 'BAD' });
    }
    expect(parse('a CANCELUPDATE "t1" "t2"\r\n')).toMatchObject({ type: 'command', command: { name: 'CANCELUPDATE', tags: ['t1', 't2'] } });
    expect(parse('a CANCELUPDATE\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
  });

  it('reads GETMETADATA and SETMETADATA (RFC 5464 examples)', () => {
    expect(parse('a GETMETADATA (MAXSIZE 1024 DEPTH infinity) "INBOX" (/shared/Comment /private/comment)\r\n')).toMatchObject({
      type: 'command', command: { name: 'GETMETADATA', mailbox: 'INBOX', entries: ['/shared/comment', '/private/comment'], depth: 'infinity', maxSize: 1024 },
    });
    expect(parse('a GETMETADATA "" /shared/admin\r\n')).toMatchObject({ type: 'command', command: { mailbox: '', entries: ['/shared/admin'], depth: '0' } });
    expect(parse('a SETMETADATA INBOX (/private/comment "My comment" /shared/x NIL)\r\n')).toMatchObject({
      type: 'command', command: { name: 'SETMETADATA', entries: [['/private/comment', Buffer.from('My comment')], ['/shared/x', null]] },
    });
    expect(parse('a GETMETADATA (DEPTH 2) INBOX /private/x\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
    expect(parse('a SETMETADATA INBOX ()\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
  });

  it('reads NOTIFY (RFC 5465 examples)', () => {
    expect(parse('a NOTIFY SET STATUS (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge))\r\n'))
      .toMatchObject({ type: 'error', response: 'BAD' });
    expect(parse('a NOTIFY SET (selected MessageNew (uid)) (mailboxes INBOX (messagenew messageexpunge))\r\n')).toMatchObject({ type: 'error' });
    expect(parse('a NOTIFY SET STATUS (inboxes (MessageNew MessageExpunge)) (subtree (Lists "Other") (MailboxName)) (selected NONE)\r\n')).toMatchObject({
      type: 'command', command: {
        name: 'NOTIFY', status: true, groups: [
          { filter: { kind: 'INBOXES' }, events: ['MessageNew', 'MessageExpunge'] },
          { filter: { kind: 'SUBTREE', mailboxes: ['Lists', 'Other'] }, events: ['MailboxName'] },
          { filter: { kind: 'SELECTED' }, events: [] },
        ],
      },
    });
    expect(parse('a NOTIFY NONE\r\n')).toMatchObject({ type: 'command', command: { name: 'NOTIFY', groups: null } });
    expect(parse('a NOTIFY SET (everything (MessageNew))\r\n')).toMatchObject({ type: 'error', response: 'BAD' });
  });
});
