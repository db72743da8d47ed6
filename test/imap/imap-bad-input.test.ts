// Bad input to the IMAP listener: malformed, unknown and wrong-state commands, oversized
// and never-sent literals, invalid sequence sets and mailbox names, and a client that
// never reads. Each gets BAD/NO or a closed connection; the server and stored mail stay fine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAP_LIMITS } from '../../src/imap/deps.js';
import { provision, startTestServer, stats, type TestServer } from '../support/server.js';
import { deliver, message, RawImap } from './imap-support.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ imapIdleTimeout: 2, imapOutputStall: 2, maxMessageSize: IMAP_LIMITS.maxAppendSize });
  await provision(server, 'bad.test', ['jon']);
  await deliver(server, ['jon@bad.test'], message('big', `${'x'.repeat(998)}\r\n`.repeat(1024)));
  await deliver(server, ['jon@bad.test'], message('small'));
});

afterAll(async () => server.destroy());

describe('IMAP bad input', () => {
  it('answers malformed, unknown and wrong-state commands with BAD', async () => {
    const raw = await RawImap.open(server);
    expect(await raw.run('FROBNICATE')).toMatch(/^t1 BAD /m);
    expect(await raw.run('SELECT INBOX')).toMatch(/^t2 BAD .*not-authenticated state/m);
    expect(await raw.run('LOGIN onlyuser')).toMatch(/^t3 BAD /m);
    raw.line.send('\r\n+++\r\n');
    await raw.line.expect(/\* BAD [^\r]*\r\n/);
    await raw.run('LOGIN jon@bad.test pw');
    expect(await raw.run('FETCH 1 FLAGS')).toMatch(/^t5 BAD .*authenticated state/m);
    expect(await raw.run('LOGIN jon@bad.test pw')).toMatch(/^t6 BAD /m);
    await raw.run('SELECT INBOX');
    expect(await raw.run('FETCH 1 (FLAGS')).toMatch(/^t8 BAD /m);
    expect(await raw.run('FETCH 1 NOSUCHITEM')).toMatch(/^t9 BAD /m);
    expect(await raw.run('STORE 1 +FLAGS')).toMatch(/^t10 BAD /m);
    expect(await raw.run('SEARCH FOO')).toMatch(/^t11 BAD /m);
    expect(await raw.run('NOOP')).toMatch(/^t12 OK /m);
    raw.close();
  });

  it('refuses invalid sequence sets and invalid modified UTF-7', async () => {
    const raw = await RawImap.open(server, 'jon@bad.test');
    await raw.run('SELECT INBOX');
    expect(await raw.run('FETCH 0 FLAGS')).toMatch(/^t3 BAD /m);
    expect(await raw.run('FETCH 1:x FLAGS')).toMatch(/^t4 BAD /m);
    expect(await raw.run('FETCH 99 FLAGS')).toMatch(/^t5 BAD /m);
    expect(await raw.run('FETCH 4294967296 FLAGS')).toMatch(/^t6 BAD /m);
    expect(await raw.run('UID FETCH 99 FLAGS')).toMatch(/^t7 OK /m);
    expect(await raw.run('STORE 5:7 +FLAGS (\\Seen)')).toMatch(/^t8 BAD /m);
    expect(await raw.run('COPY 9 Trash')).toMatch(/^t9 BAD /m);
    // Well-formed commands naming a mailbox that cannot exist: NO, as Dovecot (imaptest's atoms group).
    expect(await raw.run('SELECT "&Jjo"')).toMatch(/^t10 NO .*mUTF-7/m);
    expect(await raw.run('CREATE "&AGE-"')).toMatch(/^t11 NO /m);
    expect(await raw.run('CREATE "bad&name"')).toMatch(/^t12 NO /m);
    expect(await raw.run("SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}")).toMatch(/^t13 NO /m);
    expect(await raw.run("LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*")).toMatch(/^t14 OK /m);
    expect(await raw.run('NOOP')).toMatch(/^t15 OK /m);
    raw.close();
  });

  it('refuses literals over the limits without reading them', async () => {
    const before = await RawImap.open(server);
    before.line.send('a1 LOGIN {100000}\r\n');
    await before.line.expect(/a1 (NO|BAD) \[TOOBIG\][^\r]*\r\n/);
    expect(await before.run('NOOP')).toMatch(/OK/);
    before.close();
    const raw = await RawImap.open(server, 'jon@bad.test');
    raw.line.send(`a2 APPEND INBOX {${IMAP_LIMITS.maxAppendSize + 10 * 1024 * 1024}}\r\n`);
    await raw.line.expect(/a2 (NO|BAD) [^\r]*\r\n/);
    raw.line.send('a3 SEARCH TEXT {70000+}\r\n');
    raw.line.send(Buffer.alloc(70000, 0x61));
    raw.line.send('\r\n');
    await raw.line.expect(/a3 (NO|BAD) [^\r]*\r\n/);
    expect(await raw.run('NOOP')).toMatch(/OK/);
    raw.close();
  });

  it('logs out a client that announces a literal and never sends it', async () => {
    const raw = await RawImap.open(server, 'jon@bad.test');
    raw.line.send('a1 APPEND INBOX {500}\r\n');
    await raw.line.expect(/\+ [^\r]*\r\n/);
    raw.line.send('only a few bytes');
    await raw.line.expect(/\* BYE [^\r]*\r\n/, 5000);
    await raw.line.waitClosed(5000);
  });

  it('logs out a logged-in client idling in IDLE after imapIdleTimeout, while one that sends commands stays', async () => {
    // The timeouts of all sessions are watched by one shared sweep (src/net/timeout-sweep.ts).
    const idler = await RawImap.open(server, 'jon@bad.test');
    const busy = await RawImap.open(server, 'jon@bad.test');
    expect(await idler.run('SELECT INBOX')).toMatch(/OK/);
    idler.line.send('i1 IDLE\r\n');
    await idler.line.expect(/\+ [^\r]*\r\n/);
    const ticker = setInterval(() => busy.line.send('n NOOP\r\n'), 300);
    try {
      expect(await idler.line.expect(/\* BYE [^\r]*\r\n/, 8000)).toMatch(/Autologout/);
      await idler.line.waitClosed(5000);
      expect(await busy.run('NOOP')).toMatch(/OK/);
    } finally {
      clearInterval(ticker);
      busy.close();
    }
  });

  it('closes a session whose client never reads, and keeps serving others', async () => {
    const raw = await RawImap.open(server, 'jon@bad.test');
    await raw.run('SELECT INBOX');
    raw.line.socket.pause();
    for (let i = 0; i < 40; i++) raw.line.send(`f${i} FETCH 1 BODY.PEEK[]\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 4000));
    raw.line.socket.resume();
    await raw.line.waitClosed(10_000);
    const other = await RawImap.open(server, 'jon@bad.test');
    expect(await other.run('SELECT INBOX')).toContain('* 2 EXISTS');
    expect(await other.run('FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]')).toContain('Subject: small');
    other.close();
    expect((await stats(server)).messages).toBe(2);
  }, 30_000);
});
