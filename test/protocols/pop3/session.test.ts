// POP3 sessions over real sockets against the memory backend: a transcript of
// every command, byte-exact RETR/TOP, deletions committed only at QUIT, locking,
// AUTH PLAIN, pipelining and commands in the wrong state.

import { afterEach, describe, expect, it } from 'vitest';
import { chunkedMessage, generatedMessage, MemoryBackend, storedMessage } from './memory-backend.js';
import { expectedRetrBody, Pop3TestClient } from './pop3-client.js';
import { collectingLogger, startServer, stopServers } from './server-fixture.js';

afterEach(stopServers);

const FIRST = 'From: a@example.com\r\nSubject: one\r\n\r\nHello\r\n.hidden dot line\r\nbye\r\n';
const SECOND = 'Subject: two\r\n\r\nline 1\r\nline 2\r\nline 3\r\n';

function backendWithMail(): MemoryBackend {
  const backend = new MemoryBackend();
  backend.addUser('alice', 'secret pass', [storedMessage('uid-1', FIRST), storedMessage('uid-2', SECOND)]);
  return backend;
}

async function loggedIn(port: number): Promise<Pop3TestClient> {
  const client = await Pop3TestClient.connect(port);
  await client.readLine();
  expect(await client.command('USER alice')).toMatch(/^\+OK/);
  expect(await client.command('PASS secret pass')).toMatch(/^\+OK/);
  return client;
}

const plain = (raw: Buffer): string => raw.toString('latin1');

describe('POP3 session transcript', () => {
  it('answers every RFC 1939 command in the order of a normal session', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    expect(await client.readLine()).toBe('+OK ternmail POP3 server ready');
    expect(await client.command('APOP alice 0123456789abcdef')).toBe('-ERR APOP not supported, use USER/PASS or AUTH PLAIN');
    expect(await client.command('user alice')).toBe('+OK send PASS');
    expect(await client.command('pass secret pass')).toBe(`+OK maildrop has 2 messages (${FIRST.length + SECOND.length} octets)`);
    expect(await client.command('STAT')).toBe(`+OK 2 ${FIRST.length + SECOND.length}`);
    const list = await client.multiline('LIST');
    expect(list.status).toBe(`+OK 2 messages (${FIRST.length + SECOND.length} octets)`);
    expect(plain(list.raw)).toBe(`1 ${FIRST.length}\r\n2 ${SECOND.length}\r\n.\r\n`);
    expect(await client.command('LIST 2')).toBe(`+OK 2 ${SECOND.length}`);
    expect(await client.command('uidl 1')).toBe('+OK 1 uid-1');
    expect(plain((await client.multiline('UIDL')).raw)).toBe('1 uid-1\r\n2 uid-2\r\n.\r\n');
    const retr = await client.multiline('RETR 1');
    expect(retr.status).toBe(`+OK ${FIRST.length} octets`);
    expect(plain(retr.raw)).toBe(expectedRetrBody(FIRST));
    expect(plain((await client.multiline('TOP 2 1')).raw)).toBe('Subject: two\r\n\r\nline 1\r\n.\r\n');
    expect(await client.command('NOOP')).toBe('+OK');
    expect(await client.command('DELE 1')).toBe('+OK message 1 deleted');
    expect(await client.command('STAT')).toBe(`+OK 1 ${SECOND.length}`);
    expect(plain((await client.multiline('LIST')).raw)).toBe(`2 ${SECOND.length}\r\n.\r\n`);
    expect(await client.command('RSET')).toBe(`+OK maildrop has 2 messages (${FIRST.length + SECOND.length} octets)`);
    expect(await client.command('DELE 2')).toBe('+OK message 2 deleted');
    expect(await client.command('QUIT')).toBe('+OK ternmail POP3 server signing off (1 messages deleted)');
    await client.closed;
  });

  it('lists capabilities, offering USER and SASL PLAIN on loopback', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    const capa = await client.multiline('CAPA');
    expect(capa.status).toBe('+OK capability list follows');
    expect(plain(capa.raw).split('\r\n')).toEqual([
      'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING', 'AUTH-RESP-CODE', 'USER', 'SASL PLAIN', 'IMPLEMENTATION ternmail', '.', '',
    ]);
  });

  it('QUIT before login closes without touching any maildrop', async () => {
    const { port, backend } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    expect(await client.command('QUIT')).toBe('+OK ternmail POP3 server signing off');
    await client.closed;
    expect(backend.events).toEqual([]);
  });
});

describe('argument validation', () => {
  it('rejects bad message numbers and deleted messages with clear errors', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await loggedIn(port);
    expect(await client.command('RETR abc')).toBe('-ERR invalid message number "abc"');
    expect(await client.command('RETR 0')).toBe('-ERR message numbers start at 1');
    expect(await client.command('RETR 3')).toBe('-ERR no such message, only 2 messages in maildrop');
    expect(await client.command('RETR -1')).toBe('-ERR invalid message number "-1"');
    expect(await client.command('RETR 99999999999999999999')).toMatch(/^-ERR invalid message number/);
    expect(await client.command('RETR')).toBe('-ERR RETR needs exactly one message number');
    expect(await client.command('LIST 1 2')).toBe('-ERR LIST takes at most one message number');
    expect(await client.command('TOP 1')).toBe('-ERR TOP needs a message number and a line count');
    expect(await client.command('TOP 1 x')).toBe('-ERR invalid line count "x"');
    expect(await client.command('STAT now')).toBe('-ERR STAT takes no arguments');
    expect(await client.command('DELE 1')).toBe('+OK message 1 deleted');
    expect(await client.command('DELE 1')).toBe('-ERR message 1 already deleted');
    expect(await client.command('RETR 1')).toBe('-ERR message 1 already deleted');
    expect(await client.command('LIST 1')).toBe('-ERR message 1 already deleted');
    expect(await client.command('UIDL 1')).toBe('-ERR message 1 already deleted');
    expect(await client.command('TOP 1 0')).toBe('-ERR message 1 already deleted');
    expect(await client.command('XYZZY')).toBe('-ERR unknown command');
    expect(await client.command('')).toBe('-ERR empty command');
  });

  it('refuses commands outside their state', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    expect(await client.command('STAT')).toBe('-ERR STAT is not valid before login');
    expect(await client.command('RETR 1')).toBe('-ERR RETR is not valid before login');
    expect(await client.command('PASS secret pass')).toBe('-ERR send USER first');
    expect(await client.command('USER alice')).toBe('+OK send PASS');
    expect(await client.command('NOOP')).toBe('-ERR NOOP is not valid before login');
    expect(await client.command('PASS secret pass')).toBe('-ERR send USER first');
    expect(await client.command('USER alice')).toBe('+OK send PASS');
    expect(await client.command('PASS secret pass')).toMatch(/^\+OK/);
    expect(await client.command('USER alice')).toBe('-ERR USER is not valid after login');
    expect(await client.command('AUTH PLAIN')).toBe('-ERR AUTH is not valid after login');
    expect(await client.command('STLS')).toBe('-ERR STLS is not valid after login');
  });
});

describe('authentication', () => {
  it('answers bad credentials with [AUTH] and closes after the failure limit', async () => {
    const { port } = await startServer({ maxFailedAuths: 2 }, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    await client.command('USER alice');
    expect(await client.command('PASS wrong')).toBe('-ERR [AUTH] invalid user name or password');
    await client.command('USER mallory');
    expect(await client.command('PASS guess')).toBe('-ERR [AUTH] invalid user name or password; too many failures, closing connection');
    await client.closed;
  });

  it('answers [SYS/TEMP] when the directory is unavailable or throws', async () => {
    const backend = backendWithMail();
    const { port } = await startServer({}, backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    backend.authTemporarilyUnavailable = true;
    await client.command('USER alice');
    expect(await client.command('PASS secret pass')).toBe('-ERR [SYS/TEMP] authentication temporarily unavailable, try again later');
    backend.authTemporarilyUnavailable = false;
    backend.throwOnAuthenticate = true;
    await client.command('USER alice');
    expect(await client.command('PASS secret pass')).toBe('-ERR [SYS/TEMP] authentication temporarily unavailable, try again later');
    backend.throwOnAuthenticate = false;
    await client.command('USER alice');
    expect(await client.command('PASS secret pass')).toMatch(/^\+OK/);
  });

  it('answers [IN-USE] while another session holds the maildrop', async () => {
    const { port, backend } = await startServer({}, backendWithMail());
    const first = await loggedIn(port);
    const second = await Pop3TestClient.connect(port);
    await second.readLine();
    await second.command('USER alice');
    expect(await second.command('PASS secret pass')).toBe('-ERR [IN-USE] maildrop already locked by another session');
    expect(await first.command('QUIT')).toMatch(/^\+OK/);
    await first.closed;
    await second.command('USER alice');
    expect(await second.command('PASS secret pass')).toMatch(/^\+OK maildrop has 2 messages/);
    expect(backend.isLocked('alice')).toBe(true);
  });

  it('accepts AUTH PLAIN with an initial response and after a "+ " continuation', async () => {
    const { port } = await startServer({}, backendWithMail());
    const credentials = Buffer.from('\u0000alice\u0000secret pass').toString('base64');
    const initial = await Pop3TestClient.connect(port);
    await initial.readLine();
    expect(await initial.command(`AUTH PLAIN ${credentials}`)).toMatch(/^\+OK maildrop has 2 messages/);
    await initial.command('QUIT');

    const continued = await Pop3TestClient.connect(port);
    await continued.readLine();
    expect(await continued.command('auth plain')).toBe('+ ');
    expect(await continued.command(credentials)).toMatch(/^\+OK maildrop has 2 messages/);
  });

  it('lets "*" cancel AUTH and rejects malformed or foreign PLAIN responses', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    expect(await client.command('AUTH PLAIN')).toBe('+ ');
    expect(await client.command('*')).toBe('-ERR authentication cancelled');
    expect(await client.command('AUTH PLAIN !!!notbase64')).toBe('-ERR [AUTH] invalid user name or password');
    const asSomeoneElse = Buffer.from('bob\u0000alice\u0000secret pass').toString('base64');
    expect(await client.command(`AUTH PLAIN ${asSomeoneElse}`)).toMatch(/^-ERR \[AUTH\]/);
    expect(await client.command('AUTH CRAM-MD5')).toBe('-ERR unsupported SASL mechanism CRAM-MD5');
    expect(plain((await client.multiline('AUTH')).raw)).toBe('PLAIN\r\n.\r\n');
  });

  it('logs logins and failures without the password', async () => {
    const { logger, lines } = collectingLogger();
    const { port } = await startServer({}, backendWithMail(), logger);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    await client.command('USER alice');
    await client.command('PASS not-the-password');
    await client.command('USER alice');
    await client.command('PASS secret pass');
    await client.command('DELE 2');
    await client.command('QUIT');
    await client.closed;
    const events = lines().map((line) => line.event).filter((event) => event !== undefined);
    expect(events).toEqual(expect.arrayContaining(['pop3.login-failed', 'pop3.login', 'pop3.quit']));
    const everything = JSON.stringify(lines());
    expect(everything).not.toContain('not-the-password');
    expect(everything).not.toContain('secret pass');
  });
});

describe('RETR and TOP byte-exactness', () => {
  const cases: Array<[string, string[]]> = [
    ['lines starting with "." and ".."', ['Subject: dots\r\n\r\n.\r\n..\r\n.leading\r\n..double\r\nend\r\n']],
    ['a message that starts with "."', ['.first line\r\n\r\nbody\r\n']],
    ['a message without a final CRLF', ['Subject: x\r\n\r\nno newline at end']],
    ['a message ending in a lone "."', ['Subject: x\r\n\r\nbody\r\n.']],
    ['a CRLF split across chunks before a dot', ['Subject: x\r\n\r\nline\r', '\n.dot after split\r\n']],
    ['a dot at the start of a chunk', ['Subject: x\r\n\r\nline\r\n', '.dot chunk start\r\n', '', '..\r\n']],
    ['an empty message', []],
  ];

  it.each(cases)('RETR sends %s byte for byte', async (_name, chunks) => {
    const backend = new MemoryBackend();
    backend.addUser('alice', 'pw', [chunkedMessage('u1', chunks)]);
    const { port } = await startServer({}, backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    await client.command('USER alice');
    await client.command('PASS pw');
    const content = chunks.join('');
    const retr = await client.multiline('RETR 1');
    expect(retr.status).toBe(`+OK ${Buffer.byteLength(content, 'latin1')} octets`);
    expect(plain(retr.raw)).toBe(expectedRetrBody(content));
  });

  it('RETR streams a 5 MiB message exactly', async () => {
    const lines: string[] = [];
    let length = 0;
    for (let i = 0; length < 5 * 1024 * 1024; i++) {
      const line = i % 7 === 0 ? `.dot ${i}\r\n` : `line ${i} ${'x'.repeat(60)}\r\n`;
      lines.push(line);
      length += line.length;
    }
    const content = lines.join('');
    const backend = new MemoryBackend();
    backend.addUser('alice', 'pw', [storedMessage('big', content, 65_537)]);
    const { port } = await startServer({}, backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    await client.command('USER alice');
    await client.command('PASS pw');
    const retr = await client.multiline('RETR 1');
    expect(retr.status).toBe(`+OK ${content.length} octets`);
    expect(retr.raw.equals(Buffer.from(expectedRetrBody(content), 'latin1'))).toBe(true);
  });

  it('TOP sends headers, the blank line and the first n body lines, dot-stuffed', async () => {
    const message = 'Subject: t\r\nX-A: 1\r\n\r\n.one\r\ntwo\r\nthree\r\n';
    const backend = new MemoryBackend();
    backend.addUser('alice', 'pw', [chunkedMessage('u1', ['Subject: t\r\nX-A: 1\r', '\n\r', '\n.one\r\ntw', 'o\r\nthree\r\n'])]);
    const { port } = await startServer({}, backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    await client.command('USER alice');
    await client.command('PASS pw');
    expect(plain((await client.multiline('TOP 1 0')).raw)).toBe('Subject: t\r\nX-A: 1\r\n\r\n.\r\n');
    expect(plain((await client.multiline('TOP 1 2')).raw)).toBe('Subject: t\r\nX-A: 1\r\n\r\n..one\r\ntwo\r\n.\r\n');
    expect(plain((await client.multiline('TOP 1 100')).raw)).toBe(expectedRetrBody(message));
  });
});

describe('deletions and UPDATE state', () => {
  it('commits the marked indexes at QUIT and writes +OK only after the commit resolved', async () => {
    const backend = backendWithMail();
    backend.addUser('bob', 'pw', [storedMessage('a', 'A\r\n'), storedMessage('b', 'B\r\n'), storedMessage('c', 'C\r\n')]);
    const { port } = await startServer({}, backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    await client.command('USER bob');
    await client.command('PASS pw');
    expect(await client.command('DELE 3')).toMatch(/^\+OK/);
    expect(await client.command('DELE 1')).toMatch(/^\+OK/);
    backend.commitDelayMs = 200;
    let bytesSeenBeforeCommitResolved = -1;
    let received = 0;
    client.rawSocket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    backend.onCommitResolving = () => {
      bytesSeenBeforeCommitResolved = received;
    };
    expect(await client.command('QUIT')).toBe('+OK ternmail POP3 server signing off (2 messages deleted)');
    expect(bytesSeenBeforeCommitResolved).toBe(0);
    expect(backend.events).toEqual([{ kind: 'commit', userId: 'id-bob', deleted: [0, 2] }]);
    expect(backend.messagesOf('bob').map((message) => message.uid)).toEqual(['b']);
  });

  it('RSET unmarks deletions so QUIT commits none', async () => {
    const { port, backend } = await startServer({}, backendWithMail());
    const client = await loggedIn(port);
    await client.command('DELE 1');
    await client.command('DELE 2');
    expect(await client.command('RSET')).toMatch(/^\+OK maildrop has 2 messages/);
    expect(await client.command('QUIT')).toBe('+OK ternmail POP3 server signing off (0 messages deleted)');
    expect(backend.events).toEqual([{ kind: 'commit', userId: 'id-alice', deleted: [] }]);
  });

  it('keeps the messages and answers [SYS/TEMP] when the commit fails', async () => {
    const backend = backendWithMail();
    const { port } = await startServer({}, backend);
    const client = await loggedIn(port);
    await client.command('DELE 1');
    backend.failCommits = true;
    expect(await client.command('QUIT')).toBe('-ERR [SYS/TEMP] could not remove deleted messages, none were removed');
    await client.closed;
    expect(backend.messagesOf('alice')).toHaveLength(2);
    expect(backend.events).toEqual([{ kind: 'release', userId: 'id-alice' }]);
    expect(backend.isLocked('alice')).toBe(false);
  });

  it('a connection that drops without QUIT releases the lock and deletes nothing', async () => {
    const { port, backend } = await startServer({}, backendWithMail());
    const client = await loggedIn(port);
    await client.command('DELE 1');
    client.destroy();
    await expect.poll(() => backend.events).toEqual([{ kind: 'release', userId: 'id-alice' }]);
    expect(backend.messagesOf('alice')).toHaveLength(2);
  });
});

describe('pipelining', () => {
  it('answers commands sent in one write in order', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    client.write('USER alice\r\nPASS secret pass\r\nSTAT\r\nRETR 2\r\nLIST 1\r\nBOGUS\r\nNOOP\r\n');
    expect(await client.readLine()).toBe('+OK send PASS');
    expect(await client.readLine()).toMatch(/^\+OK maildrop has 2/);
    expect(await client.readLine()).toBe(`+OK 2 ${FIRST.length + SECOND.length}`);
    expect(await client.readLine()).toBe(`+OK ${SECOND.length} octets`);
    expect(plain(await client.readUntilTerminator())).toBe(expectedRetrBody(SECOND));
    expect(await client.readLine()).toBe(`+OK 1 ${FIRST.length}`);
    expect(await client.readLine()).toBe('-ERR unknown command');
    expect(await client.readLine()).toBe('+OK');
  });

  it('tolerates bare LF line endings', async () => {
    const { port } = await startServer({}, backendWithMail());
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    client.write('USER alice\nPASS secret pass\nSTAT\n');
    expect(await client.readLine()).toBe('+OK send PASS');
    expect(await client.readLine()).toMatch(/^\+OK maildrop has 2/);
    expect(await client.readLine()).toMatch(/^\+OK 2 /);
  });
});

describe('a big message', () => {
  it('is streamed from the backend, not loaded whole', async () => {
    const progress = { bytesRead: 0 };
    const backend = new MemoryBackend();
    backend.addUser('alice', 'pw', [generatedMessage('huge', 50 * 1024 * 1024, progress)]);
    const { port } = await startServer({}, backend);
    const client = await Pop3TestClient.connect(port);
    await client.readLine();
    await client.command('USER alice');
    await client.command('PASS pw');
    const top = await client.multiline('TOP 1 0');
    expect(top.status).toBe('+OK top of message follows');
    expect(progress.bytesRead).toBeLessThanOrEqual(64 * 1024);
  });
});
