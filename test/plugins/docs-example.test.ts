// The first plugin of docs/plugins.md, taken from the page as it is and run: what the
// page promises a reader (a refused recipient, a header, a folder) holds.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provision, tempDir, waitForMessages, type TestServer } from '../support/server.js';
import { python } from '../support/clients.js';
import { startPluginServer } from './plugin-server.js';
import { sendFrom } from './smtp-client.js';

const root = path.resolve(import.meta.dirname, '../..');
let server: TestServer;

beforeAll(async () => {
  const page = readFileSync(path.join(root, 'docs/plugins.md'), 'utf8');
  const code = /```js\n([\s\S]*?)```/.exec(page)![1];
  // Outside the package a bare 'ternmail/plugin' has nothing to resolve against: point it at the build.
  const contract = pathToFileURL(path.join(root, 'build/src/plugins/contract/index.js')).href;
  const module = path.join(tempDir('ternmail-docs-plugin-'), 'greet.mjs');
  writeFileSync(module, code.replace("'ternmail/plugin'", `'${contract}'`));
  server = await startPluginServer([{ module }]);
  await provision(server, 'example.org', ['alice', 'ceo']);
});
afterAll(() => server.destroy());

describe('the first plugin of docs/plugins.md', () => {
  it('refuses ceo@example.org from outside, stamps X-Greeted and files [list] mail into Lists', async () => {
    expect(await sendFrom(server.ports.smtp, 'ceo@example.org')).toBe('550 5.7.1 The CEO takes no mail from outside');
    const message = 'From: list@remote.test\r\nSubject: [list] weekly\r\n\r\nhello\r\n';
    expect(await sendFrom(server.ports.smtp, 'alice@example.org', { message })).toMatch(/^250 /);
    await waitForMessages(server, 1);
    const out = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
c.login('alice@example.org', 'pw')
typ, data = c.select('Lists')
typ, data = c.fetch('1', '(FLAGS BODY.PEEK[HEADER])')
print(data[0][0].decode())
sys.stdout.write(data[0][1].decode())
c.logout()
`, [String(server.ports.imap)]);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/\\Seen/);
    expect(out.stdout).toMatch(/^X-Greeted: hello 127\.0\.0\.1\r$/m);
  });
});
