// Long-lived sessions sharing one mailbox (issue 16), the two protocol points imaptest's
// stress mode found: a FETCH of a message another session expunged is answered with its
// data while this session still shows it (RFC 2180 §4.1.1), the body being kept until the
// EXPUNGE has been sent and collected after; and a keyword new to the mailbox is announced
// with `* FLAGS` and PERMANENTFLAGS before any FETCH that carries it (RFC 3501 §7.2.6).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSends } from '../support/socket-sends.js';
import { provision, startTestServer, stats, waitFor, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'steady.test', ['kim', 'lou']);
  for (const n of [1, 2]) await deliver(server, ['kim@steady.test'], message(`kim ${n}`, `body of kim ${n}\r\n`));
  for (const n of [1, 2]) await deliver(server, ['lou@steady.test'], message(`lou ${n}`));
});

afterAll(async () => server.destroy());


describe('IMAP sessions kept open on one mailbox', () => {
  it('answers a FETCH of a message another session expunged with its data until the EXPUNGE is sent, then collects the body', async () => {
    const a = await RawImap.open(server, 'kim@steady.test');
    const b = await RawImap.open(server, 'kim@steady.test');
    await a.run('SELECT INBOX');
    await b.run('SELECT INBOX');
    const blobsBefore = (await stats(server)).blobs;

    await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    expect(await a.run('EXPUNGE')).toMatch(/\* 1 EXPUNGE\r\n/);

    // B has not been told yet: message 1 is still there for it, with its body and the flags B knows.
    const fetched = await b.run('FETCH 1 (FLAGS BODY[])');
    expect(fetched).toMatch(/^\* 1 FETCH \(FLAGS \([^)]*\) BODY\[\] \{\d+\}\r\n/m);
    expect(fetched).toContain('body of kim 1');
    expect(fetched).toMatch(/\S+ OK [^\r]*\r\n$/);
    expect(fetched).not.toMatch(/EXPUNGE\r\n/);
    // The body is still held for B.
    expect((await stats(server)).blobs).toBe(blobsBefore);

    expect(await b.run('NOOP')).toMatch(/\* 1 EXPUNGE\r\n/);
    await waitFor(async () => (await stats(server)).blobs === blobsBefore - 1, 5000, 'the expunged body collected');
    expect(await b.run('FETCH 1 (BODY[TEXT])')).toContain('body of kim 2');
    a.close();
    b.close();
  });

  it('collects a kept body when the session that still showed it logs out', async () => {
    const a = await RawImap.open(server, 'kim@steady.test');
    const b = await RawImap.open(server, 'kim@steady.test');
    await a.run('SELECT INBOX');
    await b.run('SELECT INBOX');
    const blobsBefore = (await stats(server)).blobs;
    await a.run('STORE 1 +FLAGS.SILENT (\\Deleted)');
    await a.run('EXPUNGE');
    expect((await stats(server)).blobs).toBe(blobsBefore);
    await b.run('LOGOUT');
    await waitFor(async () => (await stats(server)).blobs === blobsBefore - 1, 5000, 'the kept body collected after LOGOUT');
    a.close();
  });

  it('announces a keyword another session set before the FETCH that carries it', async () => {
    const a = await RawImap.open(server, 'lou@steady.test');
    const b = await RawImap.open(server, 'lou@steady.test');
    await a.run('SELECT INBOX');
    expect(await b.run('SELECT INBOX')).not.toContain('$Fresh');
    await a.run('STORE 1 +FLAGS.SILENT ($Fresh)');

    // B's FETCH sets \Seen: the mailbox answers with A's keyword in the flags.
    const fetched = await b.run('FETCH 1 (BODY[])');
    const flagsAt = fetched.search(/\* FLAGS \([^)]*\$Fresh[^)]*\)\r\n/);
    const permanentAt = fetched.search(/\* OK \[PERMANENTFLAGS \([^)]*\$Fresh[^)]*\\\*\)\]/);
    const fetchAt = fetched.search(/\* 1 FETCH \(/);
    expect(fetched).toMatch(/ FLAGS \(\$Fresh \\Seen\)\)\r\n/);
    expect(flagsAt).toBeGreaterThanOrEqual(0);
    expect(permanentAt).toBeGreaterThan(flagsAt);
    expect(fetchAt).toBeGreaterThan(permanentAt);
    expect(fetched).toMatch(/\S+ OK [^\r]*\r\n$/);

    // Announced once: the event that follows does not repeat it.
    expect(await b.run('NOOP')).not.toMatch(/\* FLAGS/);
    a.close();
    b.close();
  });

  it('answers the commands a client pipelined in one write that complete in the same turn in one send, the others after', async () => {
    const a = await RawImap.open(server, 'lou@steady.test');
    await a.run('SELECT INBOX');
    // Count the server's sends on this connection (the server runs in this process): each
    // call of the socket's _write/_writev is one send to the kernel. The client's reads
    // cannot tell (here they always come in one piece: this process reads after the turn).
    const clientPort = a.line.socket.localPort;
    const sends = countSends((socket) => socket.remotePort === clientPort);
    // NOOP and FETCH FLAGS answer from the session's view: one turn of the event loop, one send.
    a.line.send('p1 NOOP\r\np2 FETCH 1:2 (FLAGS UID)\r\np3 NOOP\r\np4 FETCH 1 (RFC822.SIZE)\r\np5 NOOP\r\n');
    const answered = await a.line.expect(/(^|\r\n)p5 OK[^\r\n]*\r\n/);
    for (const tag of ['p1', 'p2', 'p3', 'p4', 'p5']) expect(answered).toMatch(new RegExp(`(^|\\r\\n)${tag} OK`));
    expect(sends.stop()).toBe(1);
    // STATUS and LIST ask the mailbox actor (later turns): every answer still comes, in order.
    a.line.send('q1 NOOP\r\nq2 STATUS INBOX (MESSAGES UIDNEXT)\r\nq3 LIST "" INBOX\r\nq4 NOOP\r\n');
    const later = await a.line.expect(/(^|\r\n)q4 OK[^\r\n]*\r\n/);
    expect(later.indexOf('q1 OK')).toBeLessThan(later.indexOf('* STATUS'));
    expect(later.indexOf('q2 OK')).toBeLessThan(later.indexOf('* LIST'));
    expect(later.indexOf('q3 OK')).toBeLessThan(later.indexOf('q4 OK'));
    a.close();
  });

  it('stores an APPENDed body and its message in one synced write', async () => {
    const a = await RawImap.open(server, 'kim@steady.test');
    await a.run('SELECT INBOX');
    const commits = async () => (await server.admin<{ syncedCommits: number }>('GET', '/v1/stats')).syncedCommits;
    const before = await commits();
    const body = message('appended once', 'a body no other message has\r\n');
    expect(await a.run(`APPEND INBOX {${Buffer.byteLength(body)}+}\r\n${body}`)).toMatch(/OK \[APPENDUID \d+ \d+\]/);
    expect(await commits()).toBe(before + 1);
    expect(await a.run('FETCH * (BODY[TEXT])')).toContain('a body no other message has');
    a.close();
  });
});
