// IMAP4rev2 (RFC 9051) beside IMAP4rev1, over raw sockets: after `ENABLE IMAP4rev2` no
// \Recent and no RECENT, SEARCH answered as ESEARCH, SELECT with a LIST and without UNSEEN,
// STATUS RECENT refused, OLDNAME for a respelled CREATE, UTF-8 mailbox names; without the
// ENABLE every answer stays IMAP4rev1. LITERAL+ by default, LITERAL- (RFC 7888) when configured.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';

let server: TestServer;
let literalMinus: TestServer;
let users = 0;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'rev2.test', Array.from({ length: 30 }, (_, i) => `u${i}`));
  literalMinus = await startTestServer({ imapLiteralPlus: false });
  await provision(literalMinus, 'rev2.test', ['m0', 'm1']);
});

afterAll(async () => {
  await server?.destroy();
  await literalMinus?.destroy();
});

async function login(): Promise<RawImap> {
  return RawImap.open(server, `u${users++}@rev2.test`);
}

function appendCommand(folder: string, body: string): string {
  return `APPEND ${folder} () {${Buffer.byteLength(body)}+}\r\n${body}`;
}

const mail = (subject: string) => `From: a@remote.test\r\nSubject: ${subject}\r\n\r\nbody\r\n`;

describe('IMAP4rev2 beside IMAP4rev1', () => {
  it('advertises both IMAP4rev1 and IMAP4rev2, and LITERAL+ alone (never both LITERAL+ and LITERAL-)', async () => {
    const raw = await login();
    const caps = await raw.run('CAPABILITY');
    expect(caps).toMatch(/^\* CAPABILITY IMAP4rev1 IMAP4rev2 /m);
    expect(caps).toMatch(/ LITERAL\+ /);
    expect(caps).not.toMatch(/LITERAL-/);
    raw.close();
  });

  it('ENABLE IMAP4rev2 answers ENABLED IMAP4rev2, whatever the case it was asked in', async () => {
    const raw = await login();
    expect(await raw.run('ENABLE imap4REV2')).toMatch(/^\* ENABLED IMAP4rev2\r\n/m);
    expect(await raw.run('ENABLE IMAP4rev2')).toMatch(/^\* ENABLED\r\n/m);
    raw.close();
  });

  it('without ENABLE, SELECT still sends RECENT and OK [UNSEEN], FETCH shows \\Recent and SEARCH answers SEARCH', async () => {
    const raw = await login();
    await raw.run(appendCommand('INBOX', mail('one')));
    const selected = await raw.run('SELECT INBOX');
    expect(selected).toMatch(/^\* 1 RECENT\r\n/m);
    expect(selected).toMatch(/^\* OK \[UNSEEN 1\]/m);
    expect(selected).not.toMatch(/^\* LIST /m);
    expect(await raw.run('FETCH 1 FLAGS')).toMatch(/\\Recent/);
    expect(await raw.run('SEARCH ALL')).toMatch(/^\* SEARCH 1\r\n/m);
    expect(await raw.run('STATUS Drafts (RECENT)')).toMatch(/^\* STATUS "Drafts" \(RECENT 0\)/m);
    raw.close();
  });

  it('after ENABLE, SELECT sends a LIST and neither RECENT nor UNSEEN; FETCH never shows \\Recent', async () => {
    const raw = await login();
    await raw.run(appendCommand('INBOX', mail('one')));
    await raw.run('ENABLE IMAP4rev2');
    const selected = await raw.run('SELECT INBOX');
    expect(selected).toMatch(/^\* 1 EXISTS\r\n/m);
    expect(selected).toMatch(/^\* LIST \([^)]*\) "\/" "INBOX"\r\n/m);
    expect(selected).not.toMatch(/RECENT/);
    expect(selected).not.toMatch(/UNSEEN/);
    expect(selected).toMatch(/^\* OK \[UIDVALIDITY \d+\]/m);
    expect(selected).toMatch(/^\* OK \[UIDNEXT 2\]/m);
    expect(selected).toMatch(/OK \[READ-WRITE\]/);
    expect(await raw.run('FETCH 1 FLAGS')).not.toMatch(/\\Recent/);
    raw.close();
  });

  it('after ENABLE, new mail and APPEND into the selected folder bring EXISTS without RECENT', async () => {
    const raw = await login();
    await raw.run('ENABLE IMAP4rev2');
    await raw.run('SELECT INBOX');
    const appended = await raw.run(appendCommand('INBOX', mail('mine')));
    expect(appended).toMatch(/^\* 1 EXISTS\r\n/m);
    expect(appended).not.toMatch(/RECENT/);
    const other = await RawImap.open(server, `u${users - 1}@rev2.test`);
    await other.run(appendCommand('INBOX', mail('theirs')));
    other.close();
    const noop = await raw.run('NOOP');
    expect(noop).toMatch(/^\* 2 EXISTS\r\n/m);
    expect(noop).not.toMatch(/RECENT/);
    raw.close();
  });

  it('after ENABLE, SEARCH is answered with ESEARCH (ALL), tagged, with UID for UID SEARCH', async () => {
    const raw = await login();
    await raw.run(appendCommand('INBOX', mail('one')));
    await raw.run(appendCommand('INBOX', mail('two')));
    await raw.run('ENABLE IMAP4rev2');
    await raw.run('SELECT INBOX');
    const found = await raw.run('SEARCH ALL');
    expect(found).toMatch(/^\* ESEARCH \(TAG "t\d+"\) ALL 1:2\r\n/m);
    expect(found).not.toMatch(/^\* SEARCH/m);
    expect(await raw.run('UID SEARCH SUBJECT two')).toMatch(/^\* ESEARCH \(TAG "t\d+"\) UID ALL 2\r\n/m);
    // No match: an ESEARCH with no ALL (RFC 4731 §3.1).
    expect(await raw.run('SEARCH SUBJECT nothing')).toMatch(/^\* ESEARCH \(TAG "t\d+"\)\r\n/m);
    expect(await raw.run('SEARCH RETURN (COUNT) ALL')).toMatch(/^\* ESEARCH \(TAG "t\d+"\) COUNT 2\r\n/m);
    raw.close();
  });

  it('after ENABLE, STATUS RECENT is BAD while SIZE and DELETED are answered', async () => {
    const raw = await login();
    await raw.run('ENABLE IMAP4rev2');
    expect(await raw.run('STATUS INBOX (RECENT)')).toMatch(/^t\d+ BAD /m);
    expect(await raw.run('STATUS INBOX (MESSAGES SIZE DELETED)')).toMatch(/^\* STATUS "INBOX" \(MESSAGES 0 SIZE 0 DELETED 0\)/m);
    raw.close();
  });

  it('a rev2 session takes no \\Recent: mail it sees stays \\Recent for the next rev1 SELECT', async () => {
    const user = `u${users++}@rev2.test`;
    const rev2 = await RawImap.open(server, user);
    await rev2.run('ENABLE IMAP4rev2');
    await rev2.run('CREATE Mixed');
    expect(await rev2.run('SELECT Mixed')).toMatch(/^t\d+ OK /m);
    const raw = mail('mixed modes');
    expect(await rev2.run(`APPEND Mixed {${raw.length}+}\r\n${raw}`)).toMatch(/^t\d+ OK /m);
    const rev1 = await RawImap.open(server, user);
    expect(await rev1.run('SELECT Mixed')).toMatch(/^\* 1 RECENT\r$/m);
    rev1.close();
    rev2.close();
  });

  it('DELETE of a folder that has children is NO [HASCHILDREN] (RFC 9051 §7.1), in both modes', async () => {
    for (const rev2 of [false, true]) {
      const raw = await login();
      if (rev2) await raw.run('ENABLE IMAP4rev2');
      const parent = rev2 ? 'Kids2' : 'Kids1';
      await raw.run(`CREATE ${parent}/child`);
      expect(await raw.run(`DELETE ${parent}`)).toMatch(/^t\d+ NO \[HASCHILDREN\] /m);
      expect(await raw.run(`DELETE ${parent}/child`)).toMatch(/^t\d+ OK /m);
      expect(await raw.run(`DELETE ${parent}`)).toMatch(/^t\d+ OK /m);
      raw.close();
    }
  });

  it('after ENABLE, a CREATE the server spells otherwise is announced with LIST ... OLDNAME; an unchanged one is not', async () => {
    const raw = await login();
    await raw.run('ENABLE IMAP4rev2');
    const respelled = await raw.run('CREATE inbox/child');
    expect(respelled).toMatch(/^\* LIST \([^)]*\) "\/" "INBOX\/child" \("OLDNAME" \("inbox\/child"\)\)\r\n/m);
    expect(respelled).toMatch(/^t\d+ OK /m);
    expect(await raw.run('CREATE Plain/')).not.toMatch(/^\* LIST/m);
    raw.close();
  });

  it('after ENABLE, mailbox names are UTF-8 both ways (no modified UTF-7)', async () => {
    const raw = await login();
    await raw.run('ENABLE IMAP4rev2');
    expect(await raw.run('CREATE "Gr\u00fc\u00dfe"')).toMatch(/^t\d+ OK /m);
    const listed = await raw.run('LIST "" "Gr*"');
    expect(Buffer.from(listed, 'latin1').toString('utf8')).toContain('"Gr\u00fc\u00dfe"');
    raw.close();
  });

  it('SELECT of another folder while one is selected sends OK [CLOSED] first (RFC 9051 §6.3.2)', async () => {
    const raw = await login();
    await raw.run('ENABLE IMAP4rev2');
    await raw.run('SELECT INBOX');
    expect(await raw.run('EXAMINE Drafts')).toMatch(/^\* OK \[CLOSED\][^\r]*\r\n(.*\r\n)*\* 0 EXISTS/m);
    raw.close();
  });

  it('a SASL response that is not whole base64 groups is BAD', async () => {
    const raw = await RawImap.open(server);
    // "\0u19@rev2.test\0pw" in base64 without its padding.
    const unpadded = Buffer.from('\0u19@rev2.test\0pw').toString('base64').replace(/=+$/, '');
    expect(unpadded.length % 4).not.toBe(0);
    expect(await raw.run(`AUTHENTICATE PLAIN ${unpadded}`)).toMatch(/^t\d+ BAD /m);
    const padded = Buffer.from('\0u19@rev2.test\0pw').toString('base64');
    expect(await raw.run(`AUTHENTICATE PLAIN ${padded}`)).toMatch(/^t\d+ OK /m);
    raw.close();
  });
});

describe('refused non-synchronizing literals before login', () => {
  it('closes the connection after BAD [TOOBIG] for one larger than a login needs (LITERAL+)', async () => {
    const raw = await RawImap.open(server);
    raw.line.send(`a LOGIN {100000+}\r\n${'x'.repeat(100_000)} pw\r\n`);
    const answer = await raw.line.expect(/^\* BYE [^\r\n]*\r\n/m);
    expect(answer).toMatch(/^a BAD \[TOOBIG\]/m);
    raw.close();
  });

  it('closes the connection after BAD [TOOBIG] for one over 4096 bytes under LITERAL-, yet takes a small one', async () => {
    const small = await RawImap.open(literalMinus);
    expect(await small.run('LOGIN {12-}\r\nm1@rev2.test pw')).toMatch(/^t\d+ OK /m);
    small.close();
    const raw = await RawImap.open(literalMinus);
    raw.line.send(`a LOGIN {10000-}\r\n${'x'.repeat(10_000)} pw\r\n`);
    const answer = await raw.line.expect(/^\* BYE [^\r\n]*\r\n/m);
    expect(answer).toMatch(/^a BAD \[TOOBIG\]/m);
    raw.close();
  });
});

describe('LITERAL- (RFC 7888) when configured', () => {
  it('advertises LITERAL- instead of LITERAL+', async () => {
    const raw = await RawImap.open(literalMinus);
    const caps = await raw.run('CAPABILITY');
    expect(caps).toMatch(/ LITERAL- /);
    expect(caps).not.toMatch(/LITERAL\+/);
    raw.close();
  });

  it('takes a non-synchronizing literal of 4096 bytes and answers a larger one BAD [TOOBIG], skipping its bytes', async () => {
    const raw = await RawImap.open(literalMinus, 'm0@rev2.test');
    const head = 'From: a@remote.test\r\nSubject: big\r\n\r\n';
    const fits = head + 'x'.repeat(4096 - head.length);
    expect(await raw.run(`APPEND INBOX {4096-}\r\n${fits}`)).toMatch(/^t\d+ OK \[APPENDUID/m);
    // The bytes of the refused literal are read and dropped, never run as commands.
    const tooBig = head + 'a NOOP\r\n'.repeat(600);
    const refused = await raw.run(`APPEND INBOX {${tooBig.length}-}\r\n${tooBig}`);
    expect(refused).toMatch(/^t\d+ BAD \[TOOBIG\]/m);
    expect(refused).not.toMatch(/^a OK/m);
    const plus = `APPEND INBOX {${tooBig.length}+}\r\n${tooBig}`;
    expect(await raw.run(plus)).toMatch(/^t\d+ BAD \[TOOBIG\]/m);
    // A synchronizing literal of any allowed size still works, and the session goes on.
    raw.line.send(`s1 APPEND INBOX {${tooBig.length}}\r\n`);
    await raw.line.expect(/^\+ [^\r\n]*\r\n/m);
    raw.line.send(`${tooBig}\r\n`);
    expect(await raw.line.expect(/^s1 (OK|NO|BAD)[^\r\n]*\r\n/m)).toMatch(/^s1 OK /m);
    expect(await raw.run('STATUS INBOX (MESSAGES)')).toMatch(/MESSAGES 2\)/);
    raw.close();
  });
});
