// What Dovecot's imaptest compliance suite found wrong (issue 14), each shown over a raw
// socket the way imaptest sends it: APPEND's EXISTS, CONDSTORE turned on by use, ESEARCH
// MIN/MAX MODSEQ, subscriptions by name (LSUB \Noselect parents, \NonExistent, CHILDINFO),
// EXAMINE's RECENT, MOVE's order, addresses with comments, and nothing after LOGOUT's BYE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';

let server: TestServer;
let users = 0;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'conf.test', Array.from({ length: 40 }, (_, i) => `u${i}`));
});

afterAll(async () => server.destroy());

/** A fresh user per test: every test starts from the default folders. */
async function login(): Promise<{ raw: RawImap; user: string }> {
  const user = `u${users++}@conf.test`;
  return { raw: await RawImap.open(server, user), user };
}

function appendCommand(folder: string, flags: string, body: string): string {
  return `APPEND ${folder} ${flags} {${Buffer.byteLength(body)}+}\r\n${body}`;
}

const mail = (from = 'someone@remote.test') => `From: ${from}\r\nSubject: hi\r\n\r\nbody\r\n`;

describe('IMAP conformance (imaptest)', () => {
  it('APPEND into the selected folder sends EXISTS before its tagged OK, so FETCH n works at once', async () => {
    const { raw } = await login();
    await raw.run('SELECT INBOX');
    const appended = await raw.run(appendCommand('INBOX', '(\\Seen \\Flagged)', mail()));
    expect(appended).toMatch(/\* 1 EXISTS\r\n(.*\r\n)*t3 OK \[APPENDUID \d+ 1\]/);
    const fetched = await raw.run('FETCH 1 (UID FLAGS)');
    expect(fetched).toMatch(/\* 1 FETCH \(UID 1 FLAGS \(\\Seen \\Flagged/);
    expect(fetched).toMatch(/^t4 OK /m);
    // The message is announced once: NOOP brings no second EXISTS.
    expect(await raw.run('NOOP')).not.toMatch(/EXISTS/);
    raw.close();
  });

  it('FETCH MODSEQ turns CONDSTORE on with * OK [HIGHESTMODSEQ], and STORE answers then carry MODSEQ', async () => {
    const { raw } = await login();
    await raw.run(appendCommand('INBOX', '()', mail()));
    await raw.run('SELECT INBOX');
    expect(await raw.run('STORE 1 +FLAGS (\\Answered)')).not.toMatch(/MODSEQ/);
    const enabling = await raw.run('FETCH 1 MODSEQ');
    expect(enabling).toMatch(/\* OK \[HIGHESTMODSEQ \d+\]/);
    expect(enabling).toMatch(/\* 1 FETCH \(MODSEQ \(\d+\)\)/);
    expect(await raw.run('STORE 1 +FLAGS (\\Seen)')).toMatch(/\* 1 FETCH \(.*MODSEQ \(\d+\)/);
    expect(await raw.run('FETCH 1 MODSEQ')).not.toMatch(/HIGHESTMODSEQ/);
    raw.close();
  });

  it('STATUS (HIGHESTMODSEQ) turns CONDSTORE on for the folders selected after it', async () => {
    const { raw } = await login();
    await raw.run(appendCommand('INBOX', '()', mail()));
    expect(await raw.run('STATUS INBOX (HIGHESTMODSEQ)')).toMatch(/\* STATUS "INBOX" \(HIGHESTMODSEQ \d+\)/);
    await raw.run('SELECT INBOX');
    expect(await raw.run('STORE 1 +FLAGS (\\Seen)')).toMatch(/MODSEQ \(\d+\)/);
    raw.close();
  });

  it('ESEARCH with only MIN or MAX reports the MODSEQ of that message, not of every match', async () => {
    const { raw } = await login();
    for (let i = 0; i < 3; i++) await raw.run(appendCommand('INBOX', '()', mail()));
    await raw.run('SELECT INBOX');
    await raw.run('FETCH 1 MODSEQ');
    const modseqs: number[] = [];
    for (const seq of [1, 3, 2]) {
      const answer = await raw.run(`STORE ${seq} +FLAGS (\\Seen)`);
      modseqs[seq] = Number(/MODSEQ \((\d+)\)/.exec(answer)![1]);
    }
    expect(modseqs[2]).toBeGreaterThan(modseqs[3]!);
    expect(await raw.run('SEARCH RETURN (MIN) 1:3 MODSEQ 1')).toMatch(new RegExp(`ESEARCH \\(TAG "t\\d+"\\) MIN 1 MODSEQ ${modseqs[1]}\\r`));
    expect(await raw.run('SEARCH RETURN (MAX) 1:3 MODSEQ 1')).toMatch(new RegExp(`MAX 3 MODSEQ ${modseqs[3]}\\r`));
    // The highest of the two returned (message 2's, the highest of all, is not among them).
    expect(await raw.run('SEARCH RETURN (MIN MAX) 1:3 MODSEQ 1')).toMatch(new RegExp(`MIN 1 MAX 3 MODSEQ ${modseqs[3]}\\r`));
    expect(await raw.run('SEARCH RETURN (ALL) 1:3 MODSEQ 1')).toMatch(new RegExp(`ALL 1:3 MODSEQ ${modseqs[2]}\\r`));
    raw.close();
  });

  it('LSUB with % returns an unsubscribed parent of a subscribed folder as \\Noselect', async () => {
    const { raw } = await login();
    for (const name of ['top/a', 'top/b/c', 'top/d/e']) await raw.run(`CREATE ${name}`);
    for (const name of ['top/a', 'top/b/c', 'top/d/e']) await raw.run(`SUBSCRIBE ${name}`);
    const answer = await raw.run('LSUB "" top/%');
    expect(answer).toMatch(/\* LSUB \(\) "\/" "top\/a"\r\n/);
    expect(answer).toMatch(/\* LSUB \(\\Noselect\) "\/" "top\/b"\r\n/);
    expect(answer).toMatch(/\* LSUB \(\\Noselect\) "\/" "top\/d"\r\n/);
    expect(answer).not.toMatch(/top\/b\/c/);
    const all = await raw.run('LSUB "" top/*');
    expect(all).not.toMatch(/Noselect/);
    expect(all).toMatch(/"top\/b\/c"\r\n/);
    raw.close();
  });

  it('LIST (RECURSIVEMATCH REMOTE) is BAD: REMOTE does not filter', async () => {
    const { raw } = await login();
    expect(await raw.run('LIST (RECURSIVEMATCH REMOTE) "" ""')).toMatch(/^t2 BAD /m);
    expect(await raw.run('LIST (REMOTE) "" %')).toMatch(/^t3 OK /m);
    expect(await raw.run('LIST (RECURSIVEMATCH SUBSCRIBED) "" %')).toMatch(/^t4 OK /m);
    raw.close();
  });

  it('subscriptions are by name: SUBSCRIBE of a missing name, DELETE keeps it (\\Subscribed \\NonExistent), CREATE takes it', async () => {
    const { raw } = await login();
    await raw.run('CREATE box/gone');
    await raw.run('SUBSCRIBE box/gone');
    expect(await raw.run('SUBSCRIBE box/later')).toMatch(/^t4 OK /m);
    expect(await raw.run('DELETE box/gone')).toMatch(/^t5 OK /m);
    const subscribed = await raw.run('LIST (SUBSCRIBED) "" box/*');
    expect(subscribed).toMatch(/\* LIST \([^)]*\\NonExistent[^)]*\\Subscribed[^)]*\) "\/" "box\/gone"\r\n/);
    expect(subscribed).toMatch(/\* LIST \([^)]*\\NonExistent[^)]*\\Subscribed[^)]*\) "\/" "box\/later"\r\n/);
    expect(await raw.run('LSUB "" box/*')).toMatch(/\* LSUB \(\) "\/" "box\/gone"\r\n/);
    expect(await raw.run('LIST "" box/*')).not.toMatch(/gone|later/);
    await raw.run('CREATE box/later');
    expect(await raw.run('LIST (SUBSCRIBED) "" box/later')).toMatch(/\* LIST \(\\HasNoChildren \\Subscribed\) "\/" "box\/later"\r\n/);
    await raw.run('UNSUBSCRIBE box/gone');
    expect(await raw.run('LSUB "" box/*')).not.toMatch(/gone/);
    raw.close();
  });

  it('CHILDINFO marks a parent only when its subscribed child is not listed itself', async () => {
    const { raw } = await login();
    await raw.run('CREATE p/c');
    await raw.run('SUBSCRIBE p/c');
    expect(await raw.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" (p)')).toMatch(/\* LIST \(\\HasChildren\) "\/" "p" \(\"CHILDINFO\" \(\"SUBSCRIBED\"\)\)/);
    const both = await raw.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" (p p/c)');
    expect(both).not.toMatch(/"p" \(/);
    expect(both).toMatch(/\\Subscribed\) "\/" "p\/c"\r\n/);
    raw.close();
  });

  it('EXAMINE reports the \\Recent messages and leaves them \\Recent for the next SELECT', async () => {
    const { raw } = await login();
    await raw.run(appendCommand('INBOX', '()', mail()));
    await raw.run(appendCommand('INBOX', '()', mail()));
    expect(await raw.run('EXAMINE INBOX')).toMatch(/\* 2 RECENT\r\n/);
    expect(await raw.run('FETCH 1 FLAGS')).toMatch(/\\Recent/);
    await raw.run('CLOSE');
    expect(await raw.run('SELECT INBOX')).toMatch(/\* 2 RECENT\r\n/);
    await raw.run('CLOSE');
    expect(await raw.run('STATUS INBOX (RECENT)')).toMatch(/RECENT 0\)/);
    raw.close();
  });

  it('MOVE into the selected folder: COPYUID, the EXPUNGE, then the EXISTS of the moved message', async () => {
    const { raw } = await login();
    await raw.run(appendCommand('INBOX', '()', mail()));
    await raw.run('SELECT INBOX');
    const moved = await raw.run('MOVE 1 INBOX');
    expect(moved).toMatch(/\* OK \[COPYUID \d+ 1 2\][^\r]*\r\n\* 1 EXPUNGE\r\n\* 1 EXISTS\r\n/);
    expect(await raw.run('FETCH 1 UID')).toMatch(/\* 1 FETCH \(UID 2\)/);
    raw.close();
  });

  it('SEARCH FROM finds an address written with comments inside it', async () => {
    const { raw } = await login();
    await raw.run(appendCommand('INBOX', '()', mail('<user-from (comment)@ (comment) domain.org>')));
    await raw.run(appendCommand('INBOX', '()', mail('Real Name <user-from@domain.org>')));
    await raw.run(appendCommand('INBOX', '()', mail('other@domain.org')));
    await raw.run('SELECT INBOX');
    expect(await raw.run('SEARCH FROM user-from@domain.org')).toMatch(/\* SEARCH 1 2\r\n/);
    expect(await raw.run('SEARCH FROM "real name"')).toMatch(/\* SEARCH 2\r\n/);
    raw.close();
  });

  it('LOGOUT: nothing but the tagged OK follows * BYE, even with a flag change pending', async () => {
    const { raw, user } = await login();
    await raw.run(appendCommand('INBOX', '()', mail()));
    await raw.run('SELECT INBOX');
    const other = await RawImap.open(server, user);
    await other.run('SELECT INBOX');
    await other.run('STORE 1 +FLAGS (\\Seen)');
    other.close();
    const answer = await raw.run('LOGOUT');
    expect(answer).toMatch(/\* BYE [^\r]*\r\nt4 OK /);
    raw.close();
  });

  it('BODY[n] keeps a part\'s last blank line: only the CRLF right before the boundary belongs to it (RFC 2046 §5.1.1)', async () => {
    const { raw } = await login();
    const body = 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
      + '--b\r\nContent-Type: text/plain\r\n\r\nline\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond\r\n\r\n\r\n--b--\r\n';
    await raw.run(appendCommand('INBOX', '()', body));
    await raw.run('SELECT INBOX');
    const answer = await raw.run('FETCH 1 (BODY.PEEK[1] BODY.PEEK[2])');
    expect(answer).toContain('BODY[1] {6}\r\nline\r\n');
    expect(answer).toContain('BODY[2] {10}\r\nsecond\r\n\r\n');
    raw.close();
  });

  it('ENVELOPE writes MISSING_DOMAIN for an address without its domain, as Dovecot', async () => {
    const { raw } = await login();
    await raw.run(appendCommand('INBOX', '()', 'From: a@b\r\nTo: lonely, <angle>, "quoted"\r\nSubject: s\r\n\r\nbody\r\n'));
    await raw.run('SELECT INBOX');
    expect(await raw.run('FETCH 1 ENVELOPE')).toContain('((NIL NIL "lonely" "MISSING_DOMAIN")(NIL NIL "angle" "MISSING_DOMAIN")(NIL NIL "quoted" "MISSING_DOMAIN"))');
    raw.close();
  });

  it('APPENDLIMIT: advertised, in STATUS, and a bigger APPEND is refused NO [TOOBIG] before its literal is sent', async () => {
    const { raw } = await login();
    const capability = await raw.run('CAPABILITY');
    const limit = Number(/ APPENDLIMIT=(\d+)/.exec(capability)![1]);
    expect(limit).toBeGreaterThan(0);
    expect(await raw.run('STATUS INBOX (MESSAGES APPENDLIMIT)')).toContain(`(MESSAGES 0 APPENDLIMIT ${limit})`);
    expect(await raw.run(`APPEND INBOX {${limit + 1}}`)).toMatch(/^t4 NO \[TOOBIG\]/m);
    expect(await raw.run(appendCommand('INBOX', '()', mail()))).toMatch(/^t5 OK /m);
    raw.close();
  });

  it('MULTIAPPEND files every message in order with one APPENDUID, or none of them', async () => {
    const { raw } = await login();
    await raw.run('SELECT INBOX');
    const two = `APPEND INBOX (\\Seen) {${mail().length}+}\r\n${mail()} (\\Flagged) {${mail('b@remote.test').length}+}\r\n${mail('b@remote.test')}`;
    const answer = await raw.run(two);
    expect(answer).toMatch(/\* 2 EXISTS\r\n(.*\r\n)*t3 OK \[APPENDUID \d+ 1:2\]/);
    expect(await raw.run('FETCH 1:2 FLAGS')).toMatch(/\* 1 FETCH \(FLAGS \(\\Seen[^\r]*\r\n\* 2 FETCH \(FLAGS \(\\Flagged/);
    const refused = `APPEND nosuch {${mail().length}+}\r\n${mail()} {${mail().length}+}\r\n${mail()}`;
    expect(await raw.run(refused)).toMatch(/^t5 NO \[TRYCREATE\]/m);
    const oneEmpty = `APPEND INBOX {${mail().length}+}\r\n${mail()} {0+}\r\n`;
    expect(await raw.run(oneEmpty)).toMatch(/^t6 NO /m);
    expect(await raw.run('STATUS INBOX (MESSAGES)')).toContain('(MESSAGES 2)');
    raw.close();
  });

  it('BINARY: decoded parts, BINARY.SIZE, partials, UNKNOWN-CTE, \\Seen without PEEK, binary APPEND stored in base64', async () => {
    const { raw } = await login();
    const message = 'Content-Type: multipart/mixed; boundary=b\r\n\r\n'
      + '--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n'
      + '--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 =\r\nau lait\r\n'
      + '--b\r\nContent-Transfer-Encoding: x-unknown\r\n\r\n???\r\n--b--\r\n';
    await raw.run(appendCommand('INBOX', '()', message));
    await raw.run('SELECT INBOX');
    const decoded = await raw.run('FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[2] BINARY.PEEK[1]<6.5>)');
    expect(decoded).toContain('BINARY[1] {11}\r\nhello world BINARY.SIZE[1] 11 BINARY[2] {13}\r\ncaf\xc3\xa9 au lait BINARY[1]<6> {5}\r\nworld');
    expect(decoded).not.toMatch(/\\Seen/);
    expect(await raw.run('FETCH 1 BINARY.PEEK[3]')).toMatch(/^t\d+ NO \[UNKNOWN-CTE\]/m);
    expect(await raw.run('FETCH 1 BINARY[1]')).toMatch(/FLAGS \(\\Seen/);
    const binary = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00-\xe4\r\n';
    raw.line.send(Buffer.from(`bin APPEND INBOX ~{${binary.length}+}\r\n${binary}\r\n`, 'latin1'));
    await raw.line.expect(/bin OK [^\r]*\r\n/);
    expect(await raw.run('FETCH 2 BODY.PEEK[1]')).toContain('BODY[1] {10}\r\nAC3kDQo=\r\n');
    expect(await raw.run('FETCH 2 BINARY.PEEK[1]')).toContain('BINARY[1] ~{5}\r\n\x00-\xe4\r\n');
    raw.close();
  });

  it('CONTEXT=SEARCH: PARTIAL, and UPDATE kept current (ADDTO, REMOVEFROM before EXPUNGE) until CANCELUPDATE', async () => {
    const { raw, user } = await login();
    for (let i = 0; i < 4; i++) await raw.run(appendCommand('INBOX', '()', mail()));
    await raw.run('SELECT INBOX');
    expect(await raw.run('SEARCH RETURN (PARTIAL 2:3) ALL')).toMatch(/\* ESEARCH \(TAG "t\d+"\) PARTIAL \(2:3 2:3\)\r\n/);
    expect(await raw.run('SEARCH RETURN (PARTIAL 9:10) ALL')).toMatch(/PARTIAL \(9:10 NIL\)\r\n/);
    expect(await raw.run('SEARCH RETURN (UPDATE) SEEN')).toMatch(/\* ESEARCH \(TAG "t9"\)\r\n/);
    expect(await raw.run('STORE 1,3 +FLAGS (\\Seen)')).toMatch(/\* ESEARCH \(TAG "t9"\) ADDTO \(1 1,3\)\r\n/);
    const other = await RawImap.open(server, user);
    await other.run('SELECT INBOX');
    await other.run('STORE 4 +FLAGS (\\Seen)');
    await other.run('STORE 1 -FLAGS (\\Seen)');
    other.close();
    const noop = await raw.run('NOOP');
    expect(noop).toMatch(/\* ESEARCH \(TAG "t9"\) REMOVEFROM \(1 1\)\r\n/);
    expect(noop).toMatch(/\* ESEARCH \(TAG "t9"\) ADDTO \(2 4\)\r\n/);
    await raw.run('STORE 3 +FLAGS (\\Deleted)');
    expect(await raw.run('EXPUNGE')).toMatch(/\* ESEARCH \(TAG "t9"\) REMOVEFROM \(1 3\)\r\n\* 3 EXPUNGE\r\n/);
    await raw.run('CANCELUPDATE "t9"');
    expect(await raw.run('STORE 1 +FLAGS (\\Seen)')).not.toMatch(/ESEARCH/);
    raw.close();
  });

  it('OBJECTID: MAILBOXID from CREATE and STATUS kept by RENAME, EMAILID kept by COPY and searchable, THREADID NIL', async () => {
    const { raw } = await login();
    const created = /\[MAILBOXID \(([A-Za-z0-9_-]+)\)\] CREATE/.exec(await raw.run('CREATE objects'))![1]!;
    await raw.run('RENAME objects renamed');
    expect(await raw.run('STATUS renamed (MESSAGES MAILBOXID)')).toContain(`(MESSAGES 0 MAILBOXID (${created}))`);
    await raw.run('CREATE objects');
    expect(await raw.run('STATUS objects (MAILBOXID)')).not.toContain(`(${created})`);
    await raw.run(appendCommand('INBOX', '()', mail()));
    await raw.run(appendCommand('INBOX', '()', mail('other@remote.test')));
    await raw.run('SELECT INBOX');
    const fetched = await raw.run('FETCH 1 (EMAILID THREADID)');
    const emailId = /EMAILID \(([A-Za-z0-9_-]+)\) THREADID NIL/.exec(fetched)![1]!;
    await raw.run('COPY 1 renamed');
    expect(await raw.run(`SEARCH EMAILID ${emailId}`)).toMatch(/\* SEARCH 1\r\n/);
    await raw.run('SELECT renamed');
    expect(await raw.run('FETCH 1 EMAILID')).toContain(`EMAILID (${emailId})`);
    expect(await raw.run('SEARCH THREADID T1')).toMatch(/\* SEARCH\r\n/);
    expect(await raw.run('SEARCH EMAILID "bad id!"')).toMatch(/^t\d+ BAD /m);
    raw.close();
  });

  it('UTF8=ACCEPT: once enabled, names go both ways in UTF-8 and APPEND takes UTF8 (literal8)', async () => {
    const { raw } = await login();
    const send = async (tag: string, line: string) => {
      raw.line.send(Buffer.from(`${tag} ${line}\r\n`, 'utf8'));
      return raw.line.expect(new RegExp(`${tag} (OK|NO|BAD)[^\\r]*\\r\\n`));
    };
    expect(await send('u1', 'CREATE "Caf\u00e9"')).toMatch(/u1 NO /);
    expect(await send('u2', 'ENABLE UTF8=ACCEPT')).toMatch(/\* ENABLED UTF8=ACCEPT\r\nu2 OK/);
    expect(await send('u3', 'CREATE "Caf\u00e9"')).toMatch(/u3 OK/);
    // The test client reads latin1: the UTF-8 bytes of é are C3 A9.
    expect(await send('u4', 'LIST "" "Caf*"')).toContain('"/" "Caf\u00c3\u00a9"');
    const body = 'Subject: caf\u00e9\r\n\r\nbody\r\n';
    expect(await send('u5', `APPEND "Caf\u00e9" UTF8 (~{${Buffer.byteLength(body)}+}\r\n${body})`)).toMatch(/u5 OK \[APPENDUID/);
    expect(await send('u6', 'STATUS "Caf\u00e9" (MESSAGES)')).toContain('(MESSAGES 1)');
    raw.close();
  });

  it('CATENATE builds a message from TEXT and URLs of stored parts; a bad URL is NO [BADURL], a missing folder TRYCREATE', async () => {
    const { raw } = await login();
    const source = 'From: a@remote.test\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\npart one\r\n--b--\r\n';
    await raw.run(appendCommand('INBOX', '()', source));
    const validity = /UIDVALIDITY (\d+)/.exec(await raw.run('STATUS INBOX (UIDVALIDITY)'))![1];
    const text = (data: string) => `TEXT {${data.length}+}\r\n${data}`;
    const built = await raw.run(`APPEND INBOX CATENATE (URL "/INBOX;UIDVALIDITY=${validity}/;UID=1/;SECTION=HEADER" ${text('new body: ')} URL "/INBOX/;uid=1/;section=1")`);
    expect(built).toMatch(/^t\d+ OK \[APPENDUID \d+ 2\]/m);
    await raw.run('SELECT INBOX');
    expect(await raw.run('FETCH 2 BODY.PEEK[TEXT]')).toContain('BODY[TEXT] {18}\r\nnew body: part one');
    expect(await raw.run(`APPEND INBOX CATENATE (${text('x: y\r\n\r\n')} URL "/INBOX;UIDVALIDITY=1/;UID=1")`)).toMatch(/^t\d+ NO \[BADURL \/INBOX;UIDVALIDITY=1\/;UID=1\]/m);
    expect(await raw.run(`APPEND INBOX CATENATE (URL "/INBOX/;UID=99")`)).toMatch(/^t\d+ NO \[BADURL/m);
    expect(await raw.run(`APPEND nosuch CATENATE (URL "/INBOX;UIDVALIDITY=1/;UID=1")`)).toMatch(/^t\d+ NO \[TRYCREATE\]/m);
    expect(await raw.run('STATUS INBOX (MESSAGES)')).toContain('(MESSAGES 2)');
    raw.close();
  });

  it('METADATA: folder and server entries set, read by depth and size, removed with NIL, kept across RENAME', async () => {
    const { raw } = await login();
    await raw.run('CREATE notes');
    expect(await raw.run('SETMETADATA notes (/private/comment "my notes" /shared/comment "team" /private/comment/sub {3+}\r\nx\r\n)')).toMatch(/^t\d+ OK /m);
    expect(await raw.run('SETMETADATA "" (/shared/admin "mailto:admin@conf.test")')).toMatch(/^t\d+ OK /m);
    expect(await raw.run('GETMETADATA notes /private/comment')).toContain('* METADATA "notes" ("/private/comment" "my notes")\r\n');
    expect(await raw.run('GETMETADATA (DEPTH 1) notes (/private/comment /shared/missing)'))
      .toContain('* METADATA "notes" ("/private/comment" "my notes" "/private/comment/sub" {3}\r\nx\r\n "/shared/missing" NIL)\r\n');
    const limited = await raw.run('GETMETADATA (MAXSIZE 3) notes (/private/comment /shared/comment)');
    expect(limited).not.toContain('my notes');
    expect(limited).toMatch(/^t\d+ OK \[METADATA LONGENTRIES 8\]/m);
    expect(await raw.run('GETMETADATA "" /shared/admin')).toContain('* METADATA "" ("/shared/admin" "mailto:admin@conf.test")');
    await raw.run('RENAME notes kept');
    await raw.run('SETMETADATA kept (/shared/comment NIL)');
    const after = await raw.run('GETMETADATA kept (/private/comment /shared/comment)');
    expect(after).toContain('("/private/comment" "my notes" "/shared/comment" NIL)');
    expect(await raw.run('SETMETADATA kept (/other/x "y")')).toMatch(/^t\d+ BAD /m);
    expect(await raw.run('SETMETADATA nosuch (/private/x "y")')).toMatch(/^t\d+ NO \[NONEXISTENT\]/m);
    raw.close();
  });

  it('NOTIFY: STATUS and LIST for other folders as they change, not for the selected one; BADEVENT; NONE stops', async () => {
    const { raw, user } = await login();
    await raw.run('CREATE watched');
    await raw.run(appendCommand('watched', '()', mail()));
    expect(await raw.run('NOTIFY SET (PERSONAL (AnnotationChange))')).toMatch(/^t\d+ NO \[BADEVENT \(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange\)\]/m);
    const initial = await raw.run('NOTIFY SET STATUS (MAILBOXES watched (MessageNew MessageExpunge)) (PERSONAL (MailboxName SubscriptionChange))');
    expect(initial).toMatch(/\* STATUS "watched" \(MESSAGES 1 UIDNEXT 2 UIDVALIDITY \d+\)\r\n/);
    await raw.run('SELECT INBOX');
    const other = await RawImap.open(server, user);
    await other.run(appendCommand('watched', '()', mail()));
    await raw.line.expect(/\* STATUS "watched" \(MESSAGES 2 UIDNEXT 3 UIDVALIDITY \d+\)\r\n/);
    await other.run('CREATE fresh');
    await raw.line.expect(/\* LIST \(\) "\/" "fresh"\r\n/);
    await other.run('RENAME fresh renamed');
    await raw.line.expect(/\* LIST \(\) "\/" "renamed" \("OLDNAME" \("fresh"\)\)\r\n/);
    await other.run('SUBSCRIBE renamed');
    await raw.line.expect(/\* LIST \(\\Subscribed\) "\/" "renamed"\r\n/);
    await other.run('DELETE renamed');
    await raw.line.expect(/\* LIST \(\\NonExistent\) "\/" "renamed"\r\n/);
    // The selected folder reports as always (EXISTS), not with STATUS.
    await other.run(appendCommand('INBOX', '()', mail()));
    const noop = await raw.run('NOOP');
    expect(noop).toMatch(/\* 1 EXISTS/);
    expect(noop).not.toMatch(/STATUS "INBOX"/);
    await raw.run('NOTIFY NONE');
    await other.run(appendCommand('watched', '()', mail()));
    await other.run('NOOP');
    expect(await raw.run('NOOP')).not.toMatch(/STATUS/);
    other.close();
    raw.close();
  });

  it('SAVEDATE: when a message was filed here, not its internal date; SEARCH SAVEDON/SAVEDBEFORE/SAVEDATESUPPORTED', async () => {
    const { raw } = await login();
    await raw.run(`APPEND INBOX () "01-Jan-2001 10:00:00 +0000" {${mail().length}+}\r\n${mail()}`);
    await raw.run('SELECT INBOX');
    const now = new Date();
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const today = `${String(now.getUTCDate()).padStart(2, '0')}-${months[now.getUTCMonth()]}-${now.getUTCFullYear()}`;
    const fetched = await raw.run('FETCH 1 (INTERNALDATE SAVEDATE)');
    expect(fetched).toContain('INTERNALDATE "01-Jan-2001 10:00:00 +0000"');
    expect(fetched).toContain(`SAVEDATE "${today}`);
    expect(await raw.run(`SEARCH SAVEDON ${today}`)).toMatch(/\* SEARCH 1\r\n/);
    expect(await raw.run(`SEARCH SAVEDBEFORE ${today}`)).toMatch(/\* SEARCH\r\n/);
    expect(await raw.run('SEARCH SAVEDATESUPPORTED')).toMatch(/\* SEARCH 1\r\n/);
    expect(await raw.run('SEARCH ON 1-Jan-2001')).toMatch(/\* SEARCH 1\r\n/);
    raw.close();
  });
});
