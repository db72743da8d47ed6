// The `plugins` list of the config file: paths relative to the file, validation of
// each entry, and a start refused (with the entry named) for a module that is not a plugin.
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/settings.js';
import { ConfigError } from '../../src/config/config.js';
import { startServer } from '../../src/server.js';
import { silentLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/server.js';
import { fixture } from './plugin-server.js';

function configWith(plugins: unknown): string {
  const file = path.join(tempDir('ternmail-config-'), 'ternmail.json');
  writeFileSync(file, JSON.stringify({ smtp: { port: 0 }, plugins }));
  return file;
}

describe('plugins in the config file', () => {
  it('resolves a module path relative to the config file and applies the defaults', () => {
    const file = configWith([{ module: './mine.mjs' }, { module: 'ternmail/plugins/greylist', options: { delay: 60 }, timeout: 1.5, onError: 'continue' }]);
    const [mine, shipped] = loadConfig({ configFile: file }).plugins;
    expect(mine.specifier).toBe(`file://${path.join(path.dirname(file), 'mine.mjs')}`);
    expect(mine).toMatchObject({ options: {}, timeoutMs: 5000, onError: 'tempfail' });
    expect(shipped).toMatchObject({ specifier: 'ternmail/plugins/greylist', options: { delay: 60 }, timeoutMs: 1500, onError: 'continue' });
  });

  it.each([
    [{ plugins: {} }, /plugins: must be a list/],
    [[{}], /plugins\[0\]\.module/],
    [[{ module: './a.mjs', onError: 'ignore' }], /plugins\[0\]\.onError/],
    [[{ module: './a.mjs', timeout: 0 }], /plugins\[0\]\.timeout/],
    [[{ module: './a.mjs', options: [] }], /plugins\[0\]\.options/],
    [[{ module: './a.mjs', modul: 'x' }], /plugins\[0\]\.modul: unknown key/],
  ])('refuses a bad entry %j', (plugins, error) => {
    const file = configWith(Array.isArray(plugins) ? plugins : (plugins as { plugins: unknown }).plugins);
    expect(() => loadConfig({ configFile: file })).toThrow(error);
  });

  it('refuses to start with a module that names an unknown hook, and releases the data folder', async () => {
    const dir = tempDir('ternmail-config-');
    copyFileSync(fixture('bad-hook.mjs'), path.join(dir, 'bad-hook.mjs'));
    const file = path.join(dir, 'ternmail.json');
    writeFileSync(file, JSON.stringify({ plugins: [{ module: './bad-hook.mjs' }] }));
    const data = tempDir();
    const config = loadConfig({ configFile: file, flags: { data, smtpPort: 0, submissionPort: 0, pop3Port: 0, imapPort: 0, adminPort: 0 } });
    const failed = await startServer(config, silentLogger()).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(ConfigError);
    expect(String((failed as Error).message)).toMatch(/unknown hook rcpt/);
    // The store lock was released: a server with a good config starts on the same folder.
    const again = await startServer(loadConfig({ flags: { data, smtpPort: 0, submissionPort: 0, pop3Port: 0, imapPort: 0, adminPort: 0 } }), silentLogger());
    await again.stop();
  });
});
