// The configuration of a node, composed from the sections the services declare: each
// service reads its own section (`config.smtp.port`), the machinery in src/config
// resolves them all. Rules that span sections (an implicit-TLS port needs net.tls) are
// checked here, where every section is in view.
import { ConfigError, loadSections, renderHelp, renderReference, type ConfigSources, type LegacySettingsOf, type Origin } from './config/config.js';
import { serverSection, type ServerSettings } from './core/server-settings.js';
import { logSection, type LogSettings } from './core/log-settings.js';
import { netSection, type NetSettings } from './net/settings.js';
import { storeSection, type StoreSettings } from './store/settings.js';
import { directorySection, type DirectorySettings } from './directory/settings.js';
import { mailboxSection, type MailboxSettings } from './mailbox/settings.js';
import { outboundSection, type OutboundSettings } from './outbound/settings.js';
import { queueSection, type QueueSettings } from './queue/settings.js';
import { smtpSection, type SmtpSettings } from './smtp/settings.js';
import { imapSection, type ImapSettings } from './imap/settings.js';
import { pop3Section, type Pop3Settings } from './pop3/settings.js';
import { adminSection, type AdminSettings } from './admin/settings.js';
import { clusterSection, type ClusterSettings } from './cluster/settings.js';
import { readPluginSpecs, type PluginSpec } from './plugins/plugin-config.js';
import { lmtpSection, type LmtpSettings } from './lmtp/settings.js';

export { ConfigError, type ConfigSources } from './config/config.js';
export { rolesOf } from './cluster/settings.js';

export interface ServerConfig {
  server: ServerSettings;
  log: LogSettings;
  net: NetSettings;
  smtp: SmtpSettings;
  imap: ImapSettings;
  pop3: Pop3Settings;
  admin: AdminSettings;
  queue: QueueSettings;
  outbound: OutboundSettings;
  store: StoreSettings;
  mailbox: MailboxSettings;
  directory: DirectorySettings;
  cluster: ClusterSettings;
  /** The config file's `plugins` list, in order (src/plugins). */
  plugins: PluginSpec[];
  lmtp: LmtpSettings;
}

/** Every section, in the order help and docs list them. */
export const sections = [
  serverSection, logSection, netSection, smtpSection, imapSection, pop3Section, adminSection,
  queueSection, outboundSection, storeSection, mailboxSection, directorySection, clusterSection, lmtpSection,
] as const;

/** Every setting under its flat name of before sections (smtpPort): what flags and startTestServer take. */
export type FlatSettings = LegacySettingsOf<typeof serverSection> & LegacySettingsOf<typeof logSection> & LegacySettingsOf<typeof netSection>
  & LegacySettingsOf<typeof smtpSection> & LegacySettingsOf<typeof imapSection> & LegacySettingsOf<typeof pop3Section>
  & LegacySettingsOf<typeof adminSection> & LegacySettingsOf<typeof queueSection> & LegacySettingsOf<typeof outboundSection>
  & LegacySettingsOf<typeof storeSection> & LegacySettingsOf<typeof mailboxSection> & LegacySettingsOf<typeof directorySection>
  & LegacySettingsOf<typeof clusterSection> & LegacySettingsOf<typeof lmtpSection>;

/** Resolves the configuration and the deprecation lines to log once a logger exists. */
export function loadSettings(sources: ConfigSources): { config: ServerConfig; deprecations: string[]; origins: Record<string, Origin> } {
  const { values, deprecations, origins } = loadSections(sections, sources);
  const config = { ...values, plugins: readPluginSpecs(sources.configFile) } as unknown as ServerConfig;
  checkAcrossSections(config);
  return { config, deprecations, origins };
}

/** Builds the effective configuration from all sources, validating each value. */
export function loadConfig(sources: ConfigSources): ServerConfig {
  return loadSettings(sources).config;
}

export const defaultConfig: ServerConfig = loadConfig({});

function checkAcrossSections(config: ServerConfig): void {
  const implicitTls = [['smtpsPort', config.smtp.tlsPort], ['pop3sPort', config.pop3.tlsPort], ['imapsPort', config.imap.tlsPort]] as const;
  for (const [legacy, port] of implicitTls) {
    if (port !== 0 && !config.net.tls) throw new ConfigError(legacy, 'an implicit-TLS listener needs tls.key and tls.cert');
  }
}

/** The option list of `ternmail start --help`. */
export function startHelp(): string {
  return renderHelp(sections, [['--config FILE', 'JSON config file (flags > TERNMAIL_* env > file > defaults)']]);
}

/** docs/configuration.md. */
export function configurationReference(): string {
  return renderReference(sections);
}
