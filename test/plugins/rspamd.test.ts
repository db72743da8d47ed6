// rspamd integration (ternmail/plugins/rspamd) against a real rspamd: X-Spam-* headers
// on every scanned message, Junk above one score, refused above another.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, waitForMessages, type TestServer } from '../support/server.js';
import { python } from '../support/clients.js';
import { startPluginServer } from './plugin-server.js';
import { sendFrom } from './smtp-client.js';
import { startRspamd, type TestRspamd } from './rspamd-server.js';

let rspamd: TestRspamd;
let server: TestServer;

beforeAll(async () => {
  rspamd = await startRspamd();
  server = await startPluginServer([{ module: 'ternmail/plugins/rspamd', timeout: 30, options: { url: rspamd.url, junkScore: 6, rejectScore: 15 } }]);
  await provision(server, 'example.test', ['alice']);
}, 120_000);
afterAll(async () => {
  await server?.destroy();
  await rspamd?.stop();
});

const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const message = (subject: string, body = 'Hello Alice, see you on Monday.') =>
  `From: Bob <bob@remote.test>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n${body}\r\n`;

async function folder(name: string): Promise<string> {
  const out = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('alice@example.test', 'pw')
typ, data = c.select(sys.argv[2])
n = int(data[0])
for i in range(1, n + 1):
    typ, d = c.fetch(str(i), '(BODY.PEEK[HEADER])')
    sys.stdout.buffer.write(d[0][1])
c.logout()
`, [String(server.ports.imap), name]);
  return out.stdout;
}

describe('ternmail/plugins/rspamd', () => {
  it('adds X-Spam headers and files mail above junkScore into Junk; refuses mail above rejectScore', async () => {
    expect(await sendFrom(server.ports.smtp, 'alice@example.test', { from: 'bob@remote.test', message: message('lunch on monday') })).toMatch(/^250 /);
    expect(await sendFrom(server.ports.smtp, 'alice@example.test', { from: 'bob@remote.test', message: message('spammy-test offer') })).toMatch(/^250 /);
    expect(await sendFrom(server.ports.smtp, 'alice@example.test', { from: 'bob@remote.test', message: message('gtube', GTUBE) }))
      .toMatch(/^550 5\.7\.1 Message refused as spam \(score \d+\.\d\)$/);
    await waitForMessages(server, 2, 20_000);

    const inbox = await folder('INBOX');
    expect(inbox).toContain('Subject: lunch on monday');
    expect(inbox).toMatch(/^X-Spam-Status: No, score=-?\d+\.\d\d required=6\.00\r$/m);
    expect(inbox).toMatch(/^X-Spam-Action: /m);
    expect(inbox).not.toContain('spammy-test');

    const junk = await folder('Junk');
    expect(junk).toContain('Subject: spammy-test offer');
    expect(junk).toMatch(/^X-Spam: Yes\r$/m);
    expect(junk).toMatch(/^X-Spam-Symbols: .*TERNMAIL_TEST_SPAMMY/m);
    const score = Number(/^X-Spam-Score: (\S+)\r$/m.exec(junk)![1]);
    expect(score).toBeGreaterThanOrEqual(6);
    expect(score).toBeLessThan(15);
  });
});
