// RETR and TOP over the real store for each way a body is read: inline in its record
// (up to 64 KiB), one chunk kept in memory after its first read (up to 128 KiB), and
// several chunks streamed from disk every time. Each is read twice in a session and
// again in a later one, by poplib and over a raw socket, and must be the same bytes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { provision, startTestServer, stats, tempDir, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'sizes.test', ['hal']);
});

afterAll(async () => server.destroy());

/** A message of about `size` bytes whose lines often start with "." or "..", and have dots inside. */
function dottedMessage(subject: string, size: number): Buffer {
  const lines = [`From: s@remote.test`, `Subject: ${subject}`, ''];
  let length = 0;
  for (let i = 0; length < size; i++) {
    const line = i % 3 === 0 ? `.dot line ${i}.` : i % 5 === 0 ? `..two ${i}` : `text ${i} a.b.c ${'x'.repeat(i % 70)}`;
    lines.push(line);
    length += line.length + 2;
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
}

async function deliver(raws: Buffer[]): Promise<void> {
  const before = (await stats(server)).messages;
  for (const raw of raws) {
    const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('sender@remote.test', ['hal@sizes.test'], sys.stdin.buffer.read())
s.quit()
`, [String(server.ports.smtp)], raw.toString('latin1'));
    expect(code, stderr).toBe(0);
  }
  await waitForMessages(server, before + raws.length);
}

const CHECK = `
import hashlib, poplib, re, socket, sys
port = int(sys.argv[1])
raws = [open(path, 'rb').read() for path in sys.argv[2:]]

def stuffed(body):
    return re.sub(rb'(?m)^\\.', b'..', body)

def poplib_session():
    p = poplib.POP3('127.0.0.1', port)
    p.user('hal@sizes.test'); p.pass_('pw')
    sizes = [int(line.split()[1]) for line in p.list()[1]]
    bodies = []
    for i, raw in enumerate(raws):
        for _ in range(2):
            _, lines, octets = p.retr(i + 1)
            body = b'\\r\\n'.join(lines) + b'\\r\\n'
            assert body.startswith(b'Received: from ') and body.endswith(raw), 'message %d differs' % (i + 1)
            assert len(body) == sizes[i], 'message %d: %d octets, LIST says %d' % (i + 1, len(body), sizes[i])
            bodies.append(body)
        top = b'\\r\\n'.join(p.top(i + 1, 4)[1]) + b'\\r\\n'
        head, rest = bodies[-1].split(b'\\r\\n\\r\\n', 1)
        assert top == head + b'\\r\\n\\r\\n' + b''.join(l + b'\\r\\n' for l in rest.split(b'\\r\\n')[:4]), 'TOP %d differs' % (i + 1)
    p.quit()
    return bodies

def raw_session(bodies):
    s = socket.create_connection(('127.0.0.1', port))
    f = s.makefile('rb')
    def line():
        return f.readline()
    def command(text):
        s.sendall(text.encode() + b'\\r\\n')
        reply = line()
        assert reply.startswith(b'+OK'), reply
        return reply
    line()
    command('USER hal@sizes.test'); command('PASS pw')
    for i in range(len(raws)):
        for _ in range(2):
            status = command('RETR %d' % (i + 1))
            expected = stuffed(bodies[2 * i]) + b'.\\r\\n'
            got = f.read(len(expected))
            assert status == b'+OK %d octets\\r\\n' % len(bodies[2 * i]), status
            assert got == expected, 'raw RETR %d differs' % (i + 1)
    command('QUIT')
    s.close()

first = poplib_session()
second = poplib_session()
assert first == second, 'a later session read different bytes'
raw_session(first)
print('ok', [hashlib.sha256(b).hexdigest()[:12] for b in first[::2]])
`;

describe('POP3 RETR by body size', () => {
  it('reads inline, once-chunked and multi-chunk bodies byte-exact, repeatedly, with poplib and a raw socket', async () => {
    const raws = [dottedMessage('inline', 3_000), dottedMessage('one chunk', 100_000), dottedMessage('chunks', 600_000)];
    await deliver(raws);
    const folder = tempDir('ternmail-pop3-sizes-');
    const paths = raws.map((raw, i) => {
      const path = join(folder, `m${i}.eml`);
      writeFileSync(path, raw);
      return path;
    });
    const { code, stdout, stderr } = await python(CHECK, [String(server.ports.pop3), ...paths]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^ok \[/);
  });
});
