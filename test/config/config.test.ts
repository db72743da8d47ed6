// Configuration precedence (flags > TERNMAIL_* env > JSON file > defaults) and
// validation that names the bad setting.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, defaultConfig, loadConfig } from '../../src/settings.js';
import { tempDir } from '../support/server.js';

function configFile(content: unknown): string {
  const file = path.join(tempDir(), 'ternmail.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const config = loadConfig({});
    expect([config.server.data, config.smtp.port, config.smtp.submissionPort, config.pop3.port, config.imap.port, config.admin.port])
      .toEqual(['./data', 2525, 2587, 1110, 1143, 8025]);
    expect(config.store.maxMessageSize).toBe(50 * 1024 * 1024);
    expect(config).toEqual(defaultConfig);
  });

  it('applies file < environment < flags', () => {
    const file = configFile({ smtpPort: 1000, pop3Port: 1001, imapPort: 1002 });
    const config = loadConfig({
      configFile: file,
      env: { TERNMAIL_POP3_PORT: '2001', TERNMAIL_IMAP_PORT: '2002' },
      flags: { imapPort: '3002' },
    });
    expect([config.smtp.port, config.pop3.port, config.imap.port]).toEqual([1000, 2001, 3002]);
  });

  it('resolves TLS paths in the config file relative to the file', () => {
    const file = configFile({ tls: { key: 'k.pem', cert: 'c.pem' } });
    const config = loadConfig({ configFile: file });
    expect(config.net.tls).toEqual({ key: path.join(path.dirname(file), 'k.pem'), cert: path.join(path.dirname(file), 'c.pem') });
  });

  it('names the bad setting and where it came from', () => {
    expect(() => loadConfig({ flags: { smtpPort: '70000' } })).toThrow(/smtpPort \(from --smtp-port\)/);
    expect(() => loadConfig({ env: { TERNMAIL_QUEUE_PARTITIONS: '0' } })).toThrow(/queuePartitions \(from TERNMAIL_QUEUE_PARTITIONS\)/);
    expect(() => loadConfig({ configFile: configFile({ noSuchThing: 1 }) })).toThrow(/noSuchThing/);
    expect(() => loadConfig({ flags: { pop3sPort: '995' } })).toThrow(ConfigError);
    expect(() => loadConfig({ configFile: '/nonexistent/file.json' })).toThrow(/cannot read/);
    expect(() => loadConfig({ env: { TERNMAIL_ALLOW_PLAINTEXT_AUTH: 'maybe' } })).toThrow(/allowPlaintextAuth/);
  });

  it('keeps the admin API on loopback unless adminBind says otherwise, whatever bind is', () => {
    expect(loadConfig({ flags: { bind: '0.0.0.0' } }).admin.bind).toBe('127.0.0.1');
    expect(loadConfig({ configFile: configFile({ adminBind: '10.0.0.1' }) }).admin.bind).toBe('10.0.0.1');
    expect(loadConfig({ configFile: configFile({ adminBind: '10.0.0.1' }), env: { TERNMAIL_ADMIN_BIND: '10.0.0.2' } }).admin.bind).toBe('10.0.0.2');
    expect(loadConfig({ env: { TERNMAIL_ADMIN_BIND: '10.0.0.2' }, flags: { adminBind: '::1' } }).admin.bind).toBe('::1');
    expect(() => loadConfig({ flags: { adminBind: '' } })).toThrow(/adminBind \(from --admin-bind\)/);
  });
});

