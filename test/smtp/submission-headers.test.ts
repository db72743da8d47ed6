// Submission completes what a client left out: an authenticated message lacking
// Date: and Message-ID: is stored with both (read back with Python's poplib); a
// message that has them, and mail on the MX port, are left as they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubmissionHeaders } from '../../src/smtp/submission-headers.js';
import { python } from '../support/clients.js';
import { provision, startTestServer, stats, waitForMessages, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await provision(server, 'sub.test', ['gil', 'hana', 'ivo']);
});

afterAll(async () => server.destroy());

async function submit(port: number, login: boolean, to: string, raw: string): Promise<void> {
  const before = (await stats(server)).messages;
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
if sys.argv[3] == 'login': s.login('gil@sub.test', 'pw')
s.sendmail('gil@sub.test', [sys.argv[2]], sys.stdin.buffer.read())
s.quit()
`, [String(port), to, login ? 'login' : 'anonymous'], raw);
  expect(code, stderr).toBe(0);
  await waitForMessages(server, before + 1);
}

async function retrieveFirst(user: string): Promise<string> {
  const { stdout, code, stderr } = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1]))
p.user(sys.argv[2]); p.pass_('pw')
resp, lines, octets = p.retr(1)
sys.stdout.buffer.write(b'\\r\\n'.join(lines) + b'\\r\\n')
p.quit()
`, [String(server.ports.pop3), user]);
  expect(code, stderr).toBe(0);
  return stdout;
}

function headerOf(message: string): string {
  return message.slice(0, message.indexOf('\r\n\r\n') + 2);
}

describe('submission header completion', () => {
  it('adds Date and Message-ID to authenticated mail lacking them, leaving the rest byte-exact', async () => {
    const raw = 'From: gil@sub.test\r\nTo: hana@sub.test\r\nSubject: bare\r\n\r\nbody line\r\n';
    await submit(server.ports.submission, true, 'hana@sub.test', raw);
    const stored = await retrieveFirst('hana@sub.test');
    const header = headerOf(stored);
    expect(header).toMatch(/^Date: (Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000\r$/m);
    expect(header).toMatch(/^Message-ID: <[0-9a-f]+\.[^@\s>]+@localhost>\r$/m);
    expect(stored.endsWith(raw)).toBe(true);
  });

  it('keeps the fields a client gave, and adds nothing on the MX port', async () => {
    const given = 'Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nMessage-ID: <given@sub.test>\r\nSubject: full\r\n\r\nhello\r\n';
    await submit(server.ports.submission, true, 'ivo@sub.test', given);
    const fromMx = 'Subject: via mx\r\n\r\nhello\r\n';
    await submit(server.ports.smtp, false, 'gil@sub.test', fromMx);
    const kept = headerOf(await retrieveFirst('ivo@sub.test'));
    expect(kept.match(/^Date:/gm)).toHaveLength(1);
    expect(kept.match(/^Message-ID:/gim)).toHaveLength(1);
    const mx = headerOf(await retrieveFirst('gil@sub.test'));
    expect(mx).not.toMatch(/^(Date|Message-ID):/im);
  });
});

describe('SubmissionHeaders on any chunking', () => {
  const feedAll = (raw: string, size: number): string => {
    const completer = new SubmissionHeaders('mx.test', 'Q1');
    const out: Buffer[] = [];
    for (let i = 0; i < raw.length; i += size) out.push(...completer.feed(Buffer.from(raw.slice(i, i + size), 'latin1')));
    out.push(...completer.end());
    return Buffer.concat(out).toString('latin1');
  };

  it('finds the end of the header however the bytes arrive, and adds only what is missing', () => {
    const withDate = 'Date: Mon, 01 Jan 2024 00:00:00 +0000\r\nSubject: s\r\n\r\nbody\r\nMessage-ID: <not-a-header@x>\r\n';
    for (const size of [1, 2, 3, 7, 1000]) {
      const out = feedAll(withDate, size);
      expect(out.endsWith(withDate)).toBe(true);
      expect(out.slice(0, out.length - withDate.length)).toMatch(/^Message-ID: <[0-9a-f]+\.Q1@mx\.test>\r\n$/);
    }
  });

  it('adds both to a message that is all header, and nothing past 256 KiB of header', () => {
    expect(feedAll('Subject: only\r\n', 4)).toMatch(/^Date: .*\r\nMessage-ID: .*\r\nSubject: only\r\n$/);
    const huge = 'X-Long: ' + 'a'.repeat(300 * 1024) + '\r\n\r\nbody\r\n';
    expect(feedAll(huge, 64 * 1024)).toBe(huge);
  });
});
