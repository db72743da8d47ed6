// Configuration by section: the config file's nested form ({"smtp": {"port": 2525}}),
// the old flat keys still read with one deprecation line each, the flags and TERNMAIL_*
// variables of before sections unchanged, and errors naming the setting and its source.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { envName, flagName } from '../../src/config/config.js';
import { ConfigError, defaultConfig, loadConfig, loadSettings, sections } from '../../src/settings.js';
import { tempDir } from '../support/server.js';

function configFile(content: unknown): string {
  const file = path.join(tempDir(), 'ternmail.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

/** Every key of the flat configuration before sections, with its default then. */
const flatDefaultsBefore: Record<string, unknown> = {
  data: './data', hostname: 'localhost', bind: '127.0.0.1', smtpPort: 2525, submissionPort: 2587, pop3Port: 1110,
  imapPort: 1143, adminPort: 8025, adminBind: '127.0.0.1', smtpsPort: 0, pop3sPort: 0, imapsPort: 0, tls: null,
  allowPlaintextAuth: false, maxMessageSize: 50 * 1024 * 1024, maxRecipients: 1000, maxLineLength: 4096,
  maxConnectionsPerIp: 200, maxAuthFailuresPerIp: 20, maxAuthFailuresPerAccount: 10, authDelayAfter: 5,
  authLockSeconds: 900, smtpMaxConnections: 10_000, imapMaxConnections: 10_000, pop3MaxConnections: 10_000,
  queuePartitions: 4, localDeliveryConcurrency: 256, retrySchedule: [60, 300, 900, 1800, 3600],
  maxQueueLifetime: 5 * 24 * 3600, delayWarning: 4 * 3600, smarthost: '', outboundPort: 25, outboundConcurrency: 5,
  messagesPerConnection: 100, verifyCertificates: false, outboundTimeout: 60, domainBackoffAfter: 3,
  maxReceivedHeaders: 30, defaultQuota: 0, mailboxIdleMs: 60_000, passwordCost: 14, importPasswordCost: 8,
  logLevel: 'info', imapIdleTimeout: 30 * 60, imapMaxLineLength: 64 * 1024, imapMaxLiteralSize: 64 * 1024,
  imapOutputBuffer: 4 * 1024 * 1024, imapOutputStall: 10, imapLoginTimeout: 60, pop3LoginTimeout: 60,
  imapLiteralBudget: 256 * 1024 * 1024, imapMaxSearchKeys: 1000, lendThreshold: 200, heartbeatInterval: 1000,
  workers: 1, roles: [['mta', 'store', 'access']], mimeMaxParts: 1000, mimeMaxDepth: 32, mimeMaxHeaders: 1000,
  minFreeSpace: 256 * 1024 * 1024, smtpDataTimeout: 600,
};

/** Where each legacy key lives now: section.name. */
function placeOf(legacy: string): [string, string] {
  for (const section of sections) {
    for (const [name, def] of Object.entries(section.settings)) if (def.legacy === legacy) return [section.name, name];
  }
  throw new Error(`no setting has the legacy name ${legacy}`);
}

function valueAt(config: object, [section, name]: [string, string]): unknown {
  return (config as Record<string, Record<string, unknown>>)[section][name];
}

describe('configuration sections', () => {
  it('keeps every setting of before sections, with the same default, under one section each', () => {
    // Settings added after sections came in have a flat name too, for flags and variables.
    const addedSince = new Set(['dbWriteBuffer', 'logFile', 'logFormat', 'lmtpPort', 'lmtpBind', 'adminMetricsOpen', 'user', 'imapLiteralPlus', 'forwardTimeout']);
    for (const name of ['cluster', 'nodeId', 'leaseInterval', 'leaseTtl']) addedSince.add(name); // nodes joined through NATS
    for (const name of ['sessionProxy', 'clusterSecret', 'natsUser', 'natsPassword', 'natsToken', 'natsCreds', 'natsNkey', 'natsCa', 'natsCert', 'natsKey']) addedSince.add(name); // NATS: session proxy, credentials, TLS
    addedSince.add('workersAccept'); // --workers: each worker accepts its own connections
    const legacyNames = sections.flatMap((s) => Object.values(s.settings).map((d) => d.legacy)).filter((name) => !addedSince.has(name));
    expect([...legacyNames].sort()).toEqual(Object.keys(flatDefaultsBefore).sort());
    for (const [legacy, value] of Object.entries(flatDefaultsBefore)) expect(valueAt(defaultConfig, placeOf(legacy))).toEqual(value);
  });

  it('reads the nested form of the config file without deprecations', () => {
    const file = configFile({ smtp: { port: 25, maxRecipients: 50 }, net: { bind: '0.0.0.0', tls: { key: 'k.pem', cert: 'c.pem' } }, queue: { retrySchedule: [5, 10] } });
    const { config, deprecations } = loadSettings({ configFile: file });
    expect([config.smtp.port, config.smtp.maxRecipients, config.net.bind, config.queue.retrySchedule]).toEqual([25, 50, '0.0.0.0', [5, 10]]);
    expect(config.net.tls).toEqual({ key: path.join(path.dirname(file), 'k.pem'), cert: path.join(path.dirname(file), 'c.pem') });
    expect(deprecations).toEqual([]);
  });

  it('reads the old flat keys with one deprecation line each, the section winning over its old key', () => {
    const file = configFile({ smtpPort: 26, imapsPort: 0, logLevel: 'warn', imap: { port: 144 }, imapPort: 143 });
    const { config, deprecations } = loadSettings({ configFile: file });
    expect([config.smtp.port, config.log.level, config.imap.port]).toEqual([26, 'warn', 144]);
    expect(deprecations).toEqual([
      'config key smtpPort is deprecated: use smtp.port',
      'config key imapsPort is deprecated: use imap.tlsPort',
      'config key logLevel is deprecated: use log.level',
      'config key imapPort is deprecated: use imap.port',
    ]);
  });

  it('takes every setting from its flag and its TERNMAIL_* variable, named as before', () => {
    expect(flagName('maxConnectionsPerIp')).toBe('max-connections-per-ip');
    expect(envName('pop3sPort')).toBe('TERNMAIL_POP3S_PORT');
    for (const section of sections) {
      for (const def of Object.values(section.settings)) {
        if (def.kind !== 'posint') continue;
        const place = placeOf(def.legacy);
        // importPasswordCost may not exceed passwordCost: keep the pair consistent.
        expect(valueAt(loadConfig({ flags: { importPasswordCost: '7', [def.legacy]: '7' } }), place)).toBe(7);
        expect(valueAt(loadConfig({ env: { [envName(def.legacy)]: '9' } }), place)).toBe(9);
      }
    }
    const tls = loadConfig({ env: { TERNMAIL_TLS_KEY: '/k.pem', TERNMAIL_TLS_CERT: '/c.pem' }, flags: { imapsPort: '993' } });
    expect([tls.net.tls, tls.imap.tlsPort]).toEqual([{ key: '/k.pem', cert: '/c.pem' }, 993]);
  });

  it('names a bad or unknown setting of a section and the file it came from', () => {
    const file = configFile({ smtp: { port: 'x' } });
    expect(() => loadConfig({ configFile: file })).toThrow(`invalid setting smtp.port (from ${file}): expected a port number`);
    expect(() => loadConfig({ configFile: configFile({ smtp: { nope: 1 } }) })).toThrow(/smtp\.nope: unknown setting/);
    expect(() => loadConfig({ configFile: configFile({ smtp: { port: 1 }, noSuchThing: 1 }) })).toThrow(/noSuchThing: unknown setting/);
    expect(() => loadConfig({ configFile: configFile({ directory: { passwordCost: 10, importPasswordCost: 12 } }) })).toThrow(ConfigError);
    expect(() => loadConfig({ configFile: configFile({ cluster: { workers: 2, roles: [['mta', 'access'], ['store'], ['store']] } }) })).toThrow(/3 role lists for 2 workers/);
  });
});
