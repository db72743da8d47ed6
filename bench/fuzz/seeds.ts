// Valid inputs the mutating fuzzers start from: RFC examples and commands real
// clients send, covering every grammar branch the parsers have.

export const IMAP_SEEDS = [
  'a1 CAPABILITY', 'a2 NOOP', 'a3 LOGOUT', 'a4 STARTTLS', 'a5 CHECK', 'a6 CLOSE', 'a7 UNSELECT', 'a8 IDLE', 'DONE',
  'a9 NAMESPACE', 'b1 LOGIN fred "pass word"', 'b2 LOGIN {4}\r\nfred {3+}\r\npwd', 'b3 AUTHENTICATE PLAIN',
  'b4 AUTHENTICATE PLAIN AGZyZWQAcGFzcw==', 'b5 AUTHENTICATE PLAIN =', 'c1 SELECT INBOX', 'c2 EXAMINE "Sent Items"',
  'c3 SELECT INBOX (CONDSTORE)', 'c4 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))',
  'c5 CREATE Archive/2024', 'c6 CREATE foo (USE (\\Drafts))', 'c7 DELETE foo', 'c8 RENAME foo bar', 'c9 SUBSCRIBE &AMk-t&AOk-',
  'd1 UNSUBSCRIBE foo', 'd2 LIST "" "*"', 'd3 LIST (SUBSCRIBED) "" "%" RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))',
  'd4 LSUB "" *', 'd5 STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)',
  'd6 APPEND INBOX (\\Seen) "17-Jul-1996 02:44:25 -0700" {11}\r\nHello world', 'd7 APPEND Drafts {5+}\r\nhello',
  'd8 APPEND INBOX ~{3}\r\nabc', 'e1 EXPUNGE', 'e2 SEARCH UNSEEN SINCE 1-Feb-1994 NOT FROM "Smith"',
  'e3 SEARCH CHARSET UTF-8 TEXT {4}\r\n\u00e9t\u00e9', 'e4 SEARCH OR (LARGER 100 SMALLER 2000) HEADER Subject "x" UID 1:*,5',
  'e5 SEARCH RETURN (MIN MAX COUNT ALL) MODSEQ 620162338 1,3:5 BEFORE 1-Jan-2000 KEYWORD $Junk',
  'f1 FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)', 'f2 FETCH 2 BODY.PEEK[HEADER.FIELDS (From Subject)]',
  'f3 FETCH 1,2:4 (BODY[1.2.MIME]<0.100> BINARY.PEEK[1] BINARY.SIZE[1])', 'f4 FETCH 1:3 ALL', 'f5 FETCH * FAST',
  'f6 FETCH 1 (BODY[]<10.20>) (CHANGEDSINCE 12345 VANISHED)', 'f7 FETCH $ FULL', 'g1 STORE 2:4 +FLAGS (\\Deleted \\Seen)',
  'g2 STORE 1 -FLAGS.SILENT (\\Flagged $Label1)', 'g3 STORE 1:* (UNCHANGEDSINCE 12121230045) FLAGS.SILENT (\\Deleted)',
  'g4 COPY 2:4 MEETING', 'g5 MOVE 1:3 Trash', 'h1 UID FETCH 4827313:4828442 FLAGS', 'h2 UID SEARCH 1:100 DELETED',
  'h3 UID STORE 1 +FLAGS (\\Answered)', 'h4 UID COPY 1:* Archive', 'h5 UID MOVE 42 Junk', 'h6 UID EXPUNGE 3000:3002',
  'i1 ID ("name" "sodr" "version" "19.34" "vendor" NIL)', 'i2 ID NIL', 'i3 ENABLE CONDSTORE UTF8=ACCEPT QRESYNC',
  'i4 GETQUOTA ""', 'i5 GETQUOTAROOT INBOX', 'i6 SETQUOTA "" (STORAGE 512 MESSAGE 1000)', 'i7 COMPRESS DEFLATE',
];

export const POP3_SEEDS = [
  'USER fred', 'PASS secret word', 'APOP fred c4c9334bac560ecc979e58001b3e22fb', 'AUTH', 'AUTH PLAIN',
  'AUTH PLAIN AGZyZWQAc2VjcmV0', 'AUTH PLAIN =', 'STLS', 'CAPA', 'STAT', 'LIST', 'LIST 2', 'RETR 1', 'DELE 1',
  'NOOP', 'RSET', 'TOP 1 10', 'UIDL', 'UIDL 3', 'QUIT', 'list 007', 'top 1 0',
];

const SIMPLE_MESSAGE = [
  'From: "Joe Q. Public" <john.q.public@example.com>', 'To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>',
  'Cc: <boss@nil.test>, "Giant; \\"Big\\" Box" <sysservices@example.net>', 'Subject: =?utf-8?q?caf=C3=A9?= and more',
  'Date: Tue, 1 Jul 2003 10:52:37 +0200', 'Message-ID: <5678.21-Nov-1997@example.com>', 'In-Reply-To: <1234@local.machine.example>',
  '', 'Hi everyone.', '',
].join('\r\n');

const MULTIPART_MESSAGE = [
  'From: a@b.test', 'To: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;', 'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"', '', 'preamble', '--outer',
  'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'caf=E9 =\r\nsoft', '--outer',
  'Content-Type: multipart/alternative; boundary=inner', '', '--inner', 'Content-Type: text/html; charset="utf-8"',
  'Content-Transfer-Encoding: base64', '', 'PGI+aGk8L2I+', '--inner--', '--outer',
  'Content-Type: message/rfc822', 'Content-Disposition: attachment; filename*=utf-8\'\'%E2%82%AC.eml', '',
  'From: inner@x.test', 'Subject: inside', 'Content-Type: text/plain', '', 'inner body', '--outer',
  'Content-Type: multipart/digest; boundary=d', '', '--d', '', 'From: d@x.test', '', 'digest part', '--d--', '--outer--', 'epilogue', '',
].join('\r\n');

const BARE_LF_MESSAGE = 'Subject: lf only\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\nbody\n--x--\n';

export const MESSAGE_SEEDS = [SIMPLE_MESSAGE, MULTIPART_MESSAGE, BARE_LF_MESSAGE, 'Subject: no body', ''];

export const ADDRESS_SEEDS = [
  '"Joe Q. Public" <john.q.public@example.com>', 'Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>',
  'A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;', 'Undisclosed recipients:;',
  '"Giant; \\"Big\\" Box" <sysservices@example.net>', 'Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>',
  '<@route.test,@other.test:user@dom.test>', 'user@[192.0.2.1]', 'john.q.public@example.com (John Q. Public)',
  '=?utf-8?q?J=C3=B6rg?= <j@x.test>', 'bare', '@nomailbox', 'nodomain@',
];
