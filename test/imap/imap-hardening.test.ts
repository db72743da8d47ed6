// IMAP against hostile clients: literals are admitted before a byte is buffered (8 KiB
// before login, LITERAL+ included; a per-process budget, freed when a literal stalls),
// LIST patterns and SEARCH keys cost bounded work, unauthenticated connections are
// logged out after the short login timeout, and COMPRESS drops cleartext sent before
// its OK and inflates a deflate bomb no faster than the session reads it.
import net from 'node:net';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAP_LIMITS } from '../../src/imap/deps.js';
import { LineClient } from '../support/clients.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import { RawImap } from './imap-support.js';

let server: TestServer;
const MiB = 1024 * 1024;

beforeAll(async () => {
  IMAP_LIMITS.literalStallMs = 1000;
  server = await startTestServer({ imapLoginTimeout: 1, pop3LoginTimeout: 1, imapLiteralBudget: MiB });
  await provision(server, 'hard.test', ['ann', 'bob']);
});

afterAll(async () => server.destroy());

/** Writes `total` bytes of `x` in 64 KiB pieces as long as the peer reads; returns how many were accepted. */
async function pour(socket: net.Socket, total: number): Promise<number> {
  const piece = Buffer.alloc(64 * 1024, 'x');
  let sent = 0;
  while (sent < total && !socket.destroyed) {
    const ok = socket.write(piece);
    sent += piece.length;
    if (!ok) {
      const drained = await new Promise<boolean>((resolve) => {
        socket.once('drain', () => resolve(true));
        socket.once('close', () => resolve(false));
      });
      if (!drained) break;
    }
  }
  return sent;
}

function externalMemory(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe('IMAP literals before login', () => {
  it('refuses a 40 MiB LITERAL+ APPEND before login with BAD and BYE, without buffering it', async () => {
    const client = await LineClient.connect(server.ports.imap);
    await client.expect(/^\* OK .*\r\n/);
    const before = externalMemory();
    client.send('a APPEND INBOX {41943040+}\r\n');
    const sending = pour(client.socket, 40 * MiB);
    const answer = await client.expect(/\* BYE [^\r]*\r\n/);
    expect(answer).toMatch(/a BAD \[TOOBIG\]/);
    await client.waitClosed();
    // Closed early: most of the 40 MiB was never even accepted by the server's socket.
    expect(await sending).toBeLessThan(40 * MiB);
    expect(externalMemory() - before).toBeLessThan(10 * MiB);
  });

  it('refuses a synchronizing literal over 8 KiB before login, and the session goes on', async () => {
    const raw = await RawImap.open(server);
    raw.line.send('a LOGIN {9000}\r\n');
    expect(await raw.line.expect(/a (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/a NO \[TOOBIG\]/);
    expect(await raw.run('NOOP')).toMatch(/OK/);
    raw.close();
  });

  it('still logs in with a small LITERAL+ password', async () => {
    const raw = await RawImap.open(server);
    expect(await raw.run('LOGIN ann@hard.test {2+}\r\npw')).toMatch(/OK/);
    raw.close();
  });
});

describe('the process-wide literal budget', () => {
  it('refuses a synchronizing literal over the budget with NO [LIMIT] before the continuation', async () => {
    const raw = await RawImap.open(server, 'ann@hard.test');
    raw.line.send(`a APPEND INBOX {${2 * MiB}}\r\n`);
    const answer = await raw.line.expect(/a (OK|NO|BAD)[^\r]*\r\n/);
    expect(answer).toMatch(/^a NO \[LIMIT\]/);
    expect(answer).not.toContain('+ ');
    expect(await raw.run('NOOP')).toMatch(/OK/);
    raw.close();
  });

  it('refuses a LITERAL+ over the budget with BAD and closes the connection', async () => {
    const raw = await RawImap.open(server, 'ann@hard.test');
    raw.line.send(`a APPEND INBOX {${2 * MiB}+}\r\n`);
    void pour(raw.line.socket, 2 * MiB);
    const answer = await raw.line.expect(/\* BYE [^\r]*\r\n/);
    expect(answer).toMatch(/a BAD \[LIMIT\]/);
    await raw.line.waitClosed();
  });

  it('is shared by connections: a literal being received holds its part until the command ran', async () => {
    const first = await RawImap.open(server, 'ann@hard.test');
    const second = await RawImap.open(server, 'bob@hard.test');
    const size = 700 * 1024;
    const body = Buffer.alloc(size, 'y');
    body.write('Subject: big\r\n\r\n');
    first.line.send(`f APPEND INBOX {${size}}\r\n`);
    await first.line.expect(/^\+ [^\r]*\r\n/);
    first.line.send(body.subarray(0, size / 2));
    second.line.send(`s APPEND INBOX {${size}}\r\n`);
    expect(await second.line.expect(/s (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/^s NO \[LIMIT\]/);
    first.line.send(Buffer.concat([body.subarray(size / 2), Buffer.from('\r\n')]));
    expect(await first.line.expect(/f (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/f OK \[APPENDUID/);
    second.line.send(`s2 APPEND INBOX {${size}}\r\n`);
    await second.line.expect(/^\+ [^\r]*\r\n/);
    second.line.send(Buffer.concat([body, Buffer.from('\r\n')]));
    expect(await second.line.expect(/s2 (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/s2 OK \[APPENDUID/);
    first.close();
    second.close();
  });
});

describe('a literal that stops coming', () => {
  it('ends the session after the literal stall time and gives its budget back', async () => {
    const staller = await RawImap.open(server, 'ann@hard.test');
    staller.line.send(`st APPEND INBOX {${900 * 1024}}\r\n`);
    await staller.line.expect(/^\+ [^\r]*\r\n/);
    staller.line.send('Subject: never finished\r\n\r\n');
    const other = await RawImap.open(server, 'bob@hard.test');
    other.line.send(`o1 APPEND INBOX {${200 * 1024}}\r\n`);
    expect(await other.line.expect(/o1 (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/^o1 NO \[LIMIT\]/);
    expect(await staller.line.expect(/\* BYE [^\r]*\r\n/, 5000)).toMatch(/Autologout/);
    await staller.line.waitClosed();
    other.line.send(`o2 APPEND INBOX {${200 * 1024}}\r\n`);
    await other.line.expect(/^\+ [^\r]*\r\n/);
    const head = Buffer.from('Subject: fits now\r\n\r\n');
    other.line.send(Buffer.concat([head, Buffer.alloc(200 * 1024 - head.length, 'z'), Buffer.from('\r\n')]));
    expect(await other.line.expect(/o2 (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/^o2 OK/);
    other.close();
  });
});

describe('LIST patterns', () => {
  it('answers 20 wildcards against a 200-character folder name while another connection is served', async () => {
    const raw = await RawImap.open(server, 'ann@hard.test');
    const probe = await RawImap.open(server, 'bob@hard.test');
    const folder = `${'a'.repeat(199)}b`;
    expect(await raw.run(`CREATE ${folder}`)).toMatch(/OK/);
    raw.line.send(`l LIST "" ${'*a'.repeat(20)}c\r\n`);
    const sent = Date.now();
    expect(await probe.run('NOOP')).toMatch(/OK/);
    // Generous bound: the backtracking matcher blocked the process for far longer.
    expect(Date.now() - sent).toBeLessThan(2000);
    const listed = await raw.line.expect(/l (OK|NO|BAD)[^\r]*\r\n/);
    expect(listed).toMatch(/^l OK/);
    expect(listed).not.toContain(folder);
    expect(await raw.run(`LIST "" ${'*a'.repeat(20)}b`)).toContain(folder);
    raw.close();
    probe.close();
  });
});

describe('SEARCH', () => {
  it('answers many TEXT keys on a large encoded message correctly', async () => {
    const raw = await RawImap.open(server, 'bob@hard.test');
    expect(await raw.run('CREATE Big')).toMatch(/OK/);
    const words = Array.from({ length: 300 }, (_, i) => `Wort${i}X`);
    const text = `${'filler line of the big message, Grüße\r\n'.repeat(12_000)}${words.join(' ')}\r\n`;
    const body = Buffer.from(text, 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
    const mail = `Subject: big one\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${body}\r\n`;
    await appendMessage(raw, 'Big', mail);
    await appendMessage(raw, 'Big', 'Subject: small\r\n\r\nnothing here\r\n');
    expect(await raw.run('SELECT Big')).toMatch(/OK/);
    const every = words.map((word) => `TEXT ${word.toLowerCase()}`).join(' ');
    expect(await raw.run(`SEARCH ${every}`)).toMatch(/\* SEARCH 1\r\n/);
    expect(await raw.run(`SEARCH ${every} BODY wort299x BODY filler SUBJECT "big one"`)).toMatch(/\* SEARCH 1\r\n/);
    expect(await raw.run(`SEARCH ${every} TEXT absent`)).toMatch(/\* SEARCH\r\n/);
    expect(await raw.run(`SEARCH OR ${every.split(' TEXT ').slice(0, 1)} TEXT nothing`)).toMatch(/\* SEARCH 1 2\r\n/);
    raw.close();
  });

  it('lets other connections run while 1000 TEXT keys search a large message', async () => {
    const raw = await RawImap.open(server, 'bob@hard.test');
    expect(await raw.run('CREATE Huge')).toMatch(/OK/);
    const words = Array.from({ length: 1000 }, (_, i) => `w${i}x`);
    await appendMessage(raw, 'Huge', `Subject: huge\r\n\r\n${'many words in a long line of text '.repeat(25_000)}\r\n${words.join(' ')}\r\n`);
    expect(await raw.run('SELECT Huge')).toMatch(/OK/);
    // Every key matches, so every one of them is evaluated.
    const keys = words.map((word) => `TEXT ${word}`).join(' ');
    let longestGap = 0;
    let last = performance.now();
    const probe = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 5);
    try {
      expect(await raw.run(`SEARCH ${keys}`, 60_000)).toMatch(/\* SEARCH 1\r\n/);
    } finally {
      clearInterval(probe);
    }
    // Generous bound for a shared machine: one key over the text takes a millisecond or so.
    expect(longestGap).toBeLessThan(500); // 2.15 s before SEARCH yielded; scheduling noise alone reaches ~150 ms
    raw.close();
  }, 90_000);

  it('refuses more than imapMaxSearchKeys keys with BAD', async () => {
    const raw = await RawImap.open(server, 'bob@hard.test');
    expect(await raw.run('SELECT INBOX')).toMatch(/OK/);
    expect(await raw.run(`SEARCH ${'TEXT x '.repeat(1000).trim()}`)).toMatch(/t\d+ OK/);
    expect(await raw.run(`SEARCH ${'TEXT x '.repeat(1001).trim()}`)).toMatch(/t\d+ BAD \[LIMIT\] Too many search keys/);
    expect(await raw.run(`SEARCH ${'OR SEEN DRAFT '.repeat(333).trim()}`)).toMatch(/t\d+ OK/);
    expect(await raw.run(`SEARCH ${'OR SEEN DRAFT '.repeat(334).trim()}`)).toMatch(/t\d+ BAD \[LIMIT\]/);
    raw.close();
  });
});

async function appendMessage(raw: RawImap, folder: string, mail: string): Promise<void> {
  const bytes = Buffer.from(mail, 'utf8');
  raw.line.send(`ap APPEND ${folder} {${bytes.length}}\r\n`);
  await raw.line.expect(/^\+ [^\r]*\r\n/);
  raw.line.send(Buffer.concat([bytes, Buffer.from('\r\n')]));
  expect(await raw.line.expect(/ap (OK|NO|BAD)[^\r]*\r\n/)).toMatch(/^ap OK/);
}

describe('IMAP login timeout', () => {
  it('logs out a connection that does not authenticate within imapLoginTimeout', async () => {
    const client = await LineClient.connect(server.ports.imap);
    await client.expect(/^\* OK .*\r\n/);
    expect(await client.expect(/\* BYE [^\r]*\r\n/, 5000)).toMatch(/Autologout/);
    await client.waitClosed();
  });

  it('counts from the connection start: NOOPs now and then do not keep an unauthenticated connection', async () => {
    const raw = await RawImap.open(server);
    const ticker = setInterval(() => raw.line.send('k NOOP\r\n'), 200);
    try {
      expect(await raw.line.expect(/\* BYE [^\r]*\r\n/, 5000)).toMatch(/Autologout/);
      await raw.line.waitClosed();
    } finally {
      clearInterval(ticker);
    }
  });

  it('does not apply once the client is logged in', async () => {
    const raw = await RawImap.open(server, 'ann@hard.test');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await raw.run('NOOP')).toMatch(/OK/);
    raw.close();
  });
});

describe('POP3 login timeout (pop3LoginTimeout)', () => {
  it('logs out a POP3 connection that does not authenticate in time', async () => {
    const client = await LineClient.connect(server.ports.pop3);
    await client.expect(/^\+OK .*\r\n/);
    expect(await client.expect(/-ERR [^\r]*\r\n/, 5000)).toMatch(/autologout/);
    await client.waitClosed();
  });
});

describe('IMAP COMPRESS and cleartext sent before its OK', () => {
  it('drops commands pipelined in the clear after COMPRESS DEFLATE (same packet)', async () => {
    const answers = await pipelineAfterCompress(async (raw) => raw.line.send('z COMPRESS DEFLATE\r\nb NOOP\r\nc LOGOUT\r\n'));
    expect(answers).not.toMatch(/(^|\n)[bc] /);
    expect(answers).toMatch(/d OK/);
  });

  it('drops commands pipelined in the clear after COMPRESS DEFLATE (later packet)', async () => {
    const answers = await pipelineAfterCompress(async (raw) => {
      // Many NOOPs first keep the session busy, so the second packet is queued before COMPRESS runs.
      raw.line.send(`${'n NOOP\r\n'.repeat(20_000)}z COMPRESS DEFLATE\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      raw.line.send('b NOOP\r\nc LOGOUT\r\n');
    });
    expect(answers).not.toMatch(/(^|\n)[bc] /);
    expect(answers).toMatch(/d OK/);
  });
});

/** Logs in, sends COMPRESS (and what `pipeline` adds in the clear), then `d NOOP` compressed: the inflated answers. */
async function pipelineAfterCompress(pipeline: (raw: RawImap) => Promise<void>): Promise<string> {
  const raw = await RawImap.open(server, 'ann@hard.test');
  await pipeline(raw);
  await raw.line.expect(/(^|\n)z OK [^\r]*\r\n/, 10_000);
  const socket = raw.line.socket;
  socket.removeAllListeners('data');
  const replies = zlib.createInflateRaw();
  let answers = '';
  replies.on('data', (chunk: Buffer) => (answers += chunk.toString('latin1')));
  replies.on('error', () => undefined);
  socket.on('data', (chunk: string) => replies.write(Buffer.from(chunk, 'latin1')));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const requests = zlib.createDeflateRaw();
  requests.on('data', (chunk: Buffer) => socket.write(chunk));
  requests.write('d NOOP\r\n');
  requests.flush(zlib.constants.Z_SYNC_FLUSH);
  const deadline = Date.now() + 5000;
  while (!/(^|\n)d (OK|NO|BAD)/.test(answers) && !raw.line.closed && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  raw.close();
  return answers;
}

/** Sends compressed bytes after COMPRESS and returns the server's inflated replies once it closes. */
async function sendUntilClosed(raw: RawImap, bomb: Buffer): Promise<string> {
  const replies = zlib.createInflateRaw();
  let text = '';
  replies.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  replies.on('error', () => undefined);
  raw.line.socket.removeAllListeners('data');
  raw.line.socket.on('data', (chunk: string) => replies.write(Buffer.from(chunk, 'latin1')));
  raw.line.socket.write(bomb);
  await raw.line.waitClosed(20_000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return text;
}

describe('IMAP COMPRESS against a deflate bomb', () => {
  it('closes the connection on a bomb hidden in an oversized LITERAL+ too', async () => {
    const raw = await RawImap.open(server, 'ann@hard.test');
    raw.line.send('z COMPRESS DEFLATE\r\n');
    await raw.line.expect(/z OK [^\r]*\r\n/);
    const bomb = await deflateBomb(100 * MiB, 'x LOGIN {999999999999+}\r\n');
    const text = await sendUntilClosed(raw, bomb);
    expect(text).toMatch(/x BAD \[TOOBIG\]/);
    expect(text).toContain('* BYE');
  }, 30_000);

  it('closes the connection without inflating the bomb into memory', async () => {
    const raw = await RawImap.open(server, 'ann@hard.test');
    raw.line.send('z COMPRESS DEFLATE\r\n');
    await raw.line.expect(/z OK [^\r]*\r\n/);
    const bomb = await deflateBomb(100 * MiB);
    expect(bomb.length).toBeLessThan(MiB);
    const before = externalMemory();
    const text = await sendUntilClosed(raw, bomb);
    expect(text).toMatch(/BAD \[LIMIT\] Command line too long/);
    expect(text).toContain('* BYE');
    expect(externalMemory() - before).toBeLessThan(20 * MiB);
  }, 30_000);
});

/** `head` then `size` bytes of 'a' (no line end) compressed without ever holding them. */
async function deflateBomb(size: number, head = ''): Promise<Buffer> {
  const deflate = zlib.createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  deflate.write(head);
  const piece = Buffer.alloc(MiB, 'a');
  for (let written = 0; written < size; written += piece.length) {
    if (!deflate.write(piece)) await new Promise((resolve) => deflate.once('drain', resolve));
  }
  await new Promise((resolve) => deflate.end(resolve));
  return Buffer.concat(chunks);
}
