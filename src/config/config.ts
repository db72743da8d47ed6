// Server configuration: defaults < JSON config file < TERNMAIL_* environment < flags.
// Every setting is validated at start; a bad value stops the start with an error naming it.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

export interface TlsSettings {
  key: string;   // path to PEM key
  cert: string;  // path to PEM certificate
}

export interface ServerConfig {
  data: string;
  hostname: string;
  bind: string;
  smtpPort: number;
  submissionPort: number;
  pop3Port: number;
  imapPort: number;
  adminPort: number;
  /** Address of the admin API, apart from `bind`: listeners may face the world, the admin API should not. */
  adminBind: string;
  /** Implicit-TLS listeners; 0 = disabled. Need `tls`. */
  smtpsPort: number;
  pop3sPort: number;
  imapsPort: number;
  tls: TlsSettings | null;
  /** Allow AUTH/LOGIN without TLS from non-loopback clients. */
  allowPlaintextAuth: boolean;
  maxMessageSize: number;
  maxRecipients: number;
  maxLineLength: number;
  maxConnectionsPerIp: number;
  maxAuthFailuresPerIp: number;
  /** Failed logins for one account (from any address) before its logins are locked. */
  maxAuthFailuresPerAccount: number;
  /** Failed logins for one account after which each further attempt waits 1 s, 2 s, 4 s ... (up to 16 s). */
  authDelayAfter: number;
  /** How long a locked account refuses logins, correct passwords included (seconds). */
  authLockSeconds: number;
  /** Open connections per protocol in this process, all addresses together. */
  smtpMaxConnections: number;
  imapMaxConnections: number;
  pop3MaxConnections: number;
  queuePartitions: number;
  localDeliveryConcurrency: number;
  /** Retry schedule for deferred recipients, in seconds; the last value repeats. */
  retrySchedule: number[];
  maxQueueLifetime: number;
  /** Seconds after arrival before a delay warning DSN is sent; 0 = never. */
  delayWarning: number;
  /** Relay every remote domain through this host[:port] unless a static route matches. */
  smarthost: string;
  /** Port used for MX hosts. */
  outboundPort: number;
  /** Connections at once per destination domain. */
  outboundConcurrency: number;
  /** Messages sent over one connection before it is closed. */
  messagesPerConnection: number;
  /** Verify the peer certificate after opportunistic STARTTLS. */
  verifyCertificates: boolean;
  outboundTimeout: number;
  /** Consecutive connection failures after which a whole destination is backed off. */
  domainBackoffAfter: number;
  maxReceivedHeaders: number;
  defaultQuota: number;
  mailboxIdleMs: number;
  passwordCost: number;
  importPasswordCost: number;
  logLevel: string;
  /** IMAP autologout after this many seconds without a command (RFC 3501: at least 30 minutes). */
  imapIdleTimeout: number;
  imapMaxLineLength: number;
  /** Largest literal outside APPEND (APPEND is bounded by maxMessageSize). */
  imapMaxLiteralSize: number;
  /** Output an IMAP client may leave unread before the stall timer starts, and the timer in seconds. */
  imapOutputBuffer: number;
  imapOutputStall: number;
  /** Seconds an IMAP / POP3 connection may last without authenticating before autologout. */
  imapLoginTimeout: number;
  pop3LoginTimeout: number;
  /** Bytes all IMAP connections of this process may hold in literals at once. */
  imapLiteralBudget: number;
  /** Search keys in one IMAP SEARCH command. */
  imapMaxSearchKeys: number;
  /** In a cluster: ready local deliveries on a worker before idle workers borrow from it. */
  lendThreshold: number;
  /** In a cluster: how often workers report to the primary (ms). */
  heartbeatInterval: number;
  /** Worker processes; 1 = everything in one process. */
  workers: number;
  /**
   * Roles of the workers: mta (SMTP), store (mailboxes), access (POP3/IMAP). One
   * list for every worker, or one per worker (`--roles "mta,access;store;store"`).
   */
  roles: string[][];
  /** Hostile-MIME limits: past one of them a body is stored whole, its structure one opaque part. */
  mimeMaxParts: number;
  mimeMaxDepth: number;
  mimeMaxHeaders: number;
  /** Free bytes below which the data folder's disk refuses new mail (452 4.3.1 at MAIL FROM); 0 = no check. */
  minFreeSpace: number;
  /** Seconds a whole SMTP DATA may take, however slowly it trickles (421 4.4.2 past it). */
  smtpDataTimeout: number;
}

export const defaultConfig: ServerConfig = {
  data: './data',
  hostname: 'localhost',
  bind: '127.0.0.1',
  smtpPort: 2525,
  submissionPort: 2587,
  pop3Port: 1110,
  imapPort: 1143,
  adminPort: 8025,
  adminBind: '127.0.0.1',
  smtpsPort: 0,
  pop3sPort: 0,
  imapsPort: 0,
  tls: null,
  allowPlaintextAuth: false,
  maxMessageSize: 50 * 1024 * 1024,
  maxRecipients: 1000,
  maxLineLength: 4096,
  maxConnectionsPerIp: 200,
  maxAuthFailuresPerIp: 20,
  maxAuthFailuresPerAccount: 10,
  authDelayAfter: 5,
  authLockSeconds: 900,
  smtpMaxConnections: 10_000,
  imapMaxConnections: 10_000,
  pop3MaxConnections: 10_000,
  queuePartitions: 4,
  localDeliveryConcurrency: 256,
  retrySchedule: [60, 300, 900, 1800, 3600],
  maxQueueLifetime: 5 * 24 * 3600,
  delayWarning: 4 * 3600,
  smarthost: '',
  outboundPort: 25,
  outboundConcurrency: 5,
  messagesPerConnection: 100,
  verifyCertificates: false,
  outboundTimeout: 60,
  domainBackoffAfter: 3,
  maxReceivedHeaders: 30,
  defaultQuota: 0,
  mailboxIdleMs: 60_000,
  passwordCost: 14,
  importPasswordCost: 8,
  logLevel: 'info',
  imapIdleTimeout: 30 * 60,
  imapMaxLineLength: 64 * 1024,
  imapMaxLiteralSize: 64 * 1024,
  imapOutputBuffer: 4 * 1024 * 1024,
  imapOutputStall: 10,
  imapLoginTimeout: 60,
  pop3LoginTimeout: 60,
  imapLiteralBudget: 256 * 1024 * 1024,
  imapMaxSearchKeys: 1000,
  lendThreshold: 200,
  heartbeatInterval: 1000,
  workers: 1,
  roles: [['mta', 'store', 'access']],
  mimeMaxParts: 1000,
  mimeMaxDepth: 32,
  mimeMaxHeaders: 1000,
  minFreeSpace: 256 * 1024 * 1024,
  smtpDataTimeout: 600,
};

export class ConfigError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
  }
}

type Kind = 'string' | 'optstring' | 'port' | 'posint' | 'nonneg' | 'bool' | 'list' | 'tls' | 'workers' | 'roles' | 'size';

const kinds: Record<keyof ServerConfig, Kind> = {
  data: 'string', hostname: 'string', bind: 'string',
  smtpPort: 'port', submissionPort: 'port', pop3Port: 'port', imapPort: 'port', adminPort: 'port',
  adminBind: 'string',
  smtpsPort: 'port', pop3sPort: 'port', imapsPort: 'port',
  tls: 'tls', allowPlaintextAuth: 'bool',
  maxMessageSize: 'posint', maxRecipients: 'posint', maxLineLength: 'posint',
  maxConnectionsPerIp: 'posint', maxAuthFailuresPerIp: 'posint', queuePartitions: 'posint',
  maxAuthFailuresPerAccount: 'posint', authDelayAfter: 'posint', authLockSeconds: 'posint',
  smtpMaxConnections: 'posint', imapMaxConnections: 'posint', pop3MaxConnections: 'posint',
  localDeliveryConcurrency: 'posint', retrySchedule: 'list', maxQueueLifetime: 'posint',
  delayWarning: 'nonneg', smarthost: 'optstring', outboundPort: 'port', outboundConcurrency: 'posint',
  messagesPerConnection: 'posint', verifyCertificates: 'bool', outboundTimeout: 'posint', domainBackoffAfter: 'posint',
  maxReceivedHeaders: 'posint', workers: 'workers', roles: 'roles',
  lendThreshold: 'posint', heartbeatInterval: 'posint', imapIdleTimeout: 'posint', imapMaxLineLength: 'posint', imapMaxLiteralSize: 'posint', imapOutputBuffer: 'posint', imapOutputStall: 'posint',
  imapLoginTimeout: 'posint', pop3LoginTimeout: 'posint', imapLiteralBudget: 'posint', imapMaxSearchKeys: 'posint',
  defaultQuota: 'nonneg', mailboxIdleMs: 'posint', passwordCost: 'posint', importPasswordCost: 'posint',
  logLevel: 'string',
  mimeMaxParts: 'posint', mimeMaxDepth: 'posint', mimeMaxHeaders: 'posint', minFreeSpace: 'size', smtpDataTimeout: 'posint',
};

/** Flag name (kebab-case) for a setting, e.g. smtpPort → smtp-port. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Environment name for a setting, e.g. smtpPort → TERNMAIL_SMTP_PORT. */
export function envName(key: string): string {
  return 'TERNMAIL_' + flagName(key).replace(/-/g, '_').toUpperCase();
}

function coerce(key: keyof ServerConfig, raw: unknown, source: string): unknown {
  const kind = kinds[key];
  const where = `${key} (from ${source})`;
  switch (kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw new ConfigError(where, 'expected a non-empty string');
      return raw;
    case 'optstring':
      if (typeof raw !== 'string') throw new ConfigError(where, 'expected a string');
      return raw;
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === '1' || raw === 'yes') return true;
      if (raw === 'false' || raw === '0' || raw === 'no') return false;
      throw new ConfigError(where, `expected true or false, got ${JSON.stringify(raw)}`);
    case 'port': {
      const n = toInteger(raw);
      if (n === null || n < 0 || n > 65535) throw new ConfigError(where, `expected a port number 0-65535, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'posint': {
      const n = toInteger(raw);
      if (n === null || n <= 0) throw new ConfigError(where, `expected a positive integer, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'nonneg': {
      const n = toInteger(raw);
      if (n === null || n < 0) throw new ConfigError(where, `expected a non-negative integer, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'list': {
      const items = Array.isArray(raw) ? raw : String(raw).split(',');
      const nums = items.map(toInteger);
      if (nums.length === 0 || nums.some((n) => n === null || n <= 0)) {
        throw new ConfigError(where, `expected a list of positive integers, got ${JSON.stringify(raw)}`);
      }
      return nums;
    }
    case 'tls':
      return coerceTls(raw, where);
    case 'workers': {
      if (raw === 'auto') return availableParallelism();
      const n = toInteger(raw);
      if (n === null || n <= 0 || n > 64) throw new ConfigError(where, `expected a number of workers 1-64 or "auto", got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'roles':
      return parseRoles(raw, where);
    case 'size': {
      const n = toSize(raw);
      if (n === null) throw new ConfigError(where, `expected bytes, optionally with K, M or G (e.g. 256M), got ${JSON.stringify(raw)}`);
      return n;
    }
  }
}

/** Bytes from a number or a string like "512K", "256M", "1G" (binary units). */
function toSize(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? raw : null;
  const match = typeof raw === 'string' ? /^\s*(\d+)\s*([KMG]?)i?B?\s*$/i.exec(raw) : null;
  if (!match) return null;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  const n = Number(match[1]) * unit;
  return Number.isSafeInteger(n) ? n : null;
}

function parseRoles(raw: unknown, where: string): string[][] {
  const groups = Array.isArray(raw) ? raw.map((g) => (Array.isArray(g) ? g.join(',') : String(g))) : String(raw).split(';');
  return groups.map((group) => {
    const roles = group.split(',').map((r) => r.trim()).filter(Boolean);
    const unknown = roles.filter((r) => !['mta', 'store', 'access'].includes(r));
    if (roles.length === 0 || unknown.length > 0) throw new ConfigError(where, `expected roles among mta,store,access (";" between workers), got ${JSON.stringify(raw)}`);
    return roles;
  });
}

/** The roles of worker `node` (1-based); worker 1's for a single process. */
export function rolesOf(config: ServerConfig, node: number): string[] {
  return config.roles.length === 1 ? config.roles[0] : config.roles[node - 1];
}

function coerceTls(raw: unknown, where: string): TlsSettings | null {
  if (raw === null) return null;
  if (typeof raw !== 'object' || raw === null) throw new ConfigError(where, 'expected an object {"key": PATH, "cert": PATH}');
  const { key, cert } = raw as Record<string, unknown>;
  if (typeof key !== 'string' || typeof cert !== 'string') throw new ConfigError(where, 'expected {"key": PATH, "cert": PATH}');
  return { key, cert };
}

function toInteger(raw: unknown): number | null {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  return Number.isSafeInteger(n) ? n : null;
}

export interface ConfigSources {
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
}

/** Builds the effective configuration from all sources, validating each value. */
export function loadConfig(sources: ConfigSources): ServerConfig {
  const config: ServerConfig = structuredClone(defaultConfig);
  const apply = (key: string, raw: unknown, source: string) => {
    if (!(key in kinds)) throw new ConfigError(key, `unknown setting (from ${source})`);
    (config as unknown as Record<string, unknown>)[key] = coerce(key as keyof ServerConfig, raw, source);
  };
  if (sources.configFile) {
    for (const [key, raw] of Object.entries(readConfigFile(sources.configFile))) apply(key, raw, sources.configFile);
  }
  const env = sources.env ?? {};
  for (const key of Object.keys(kinds)) {
    const value = env[envName(key)];
    if (value !== undefined && key !== 'tls') apply(key, value, envName(key));
  }
  if (env.TERNMAIL_TLS_KEY || env.TERNMAIL_TLS_CERT) {
    apply('tls', { key: env.TERNMAIL_TLS_KEY, cert: env.TERNMAIL_TLS_CERT }, 'TERNMAIL_TLS_KEY/TERNMAIL_TLS_CERT');
  }
  for (const [key, raw] of Object.entries(sources.flags ?? {})) {
    if (raw !== undefined) apply(key, raw, `--${flagName(key)}`);
  }
  validateCombination(config);
  return config;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('config', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('config', `${file} must hold a JSON object`);
  }
  const obj = parsed as Record<string, unknown>;
  if (obj.tls && typeof obj.tls === 'object') {
    const tls = obj.tls as Record<string, unknown>;
    const dir = path.dirname(path.resolve(file));
    for (const k of ['key', 'cert']) {
      if (typeof tls[k] === 'string') tls[k] = path.resolve(dir, tls[k] as string);
    }
  }
  return obj;
}

function validateCombination(config: ServerConfig): void {
  for (const key of ['smtpsPort', 'pop3sPort', 'imapsPort'] as const) {
    if (config[key] !== 0 && !config.tls) throw new ConfigError(key, 'an implicit-TLS listener needs tls.key and tls.cert');
  }
  if (config.passwordCost > 20) throw new ConfigError('passwordCost', 'at most 20 (scrypt N = 2^cost)');
  if (config.importPasswordCost > config.passwordCost) {
    throw new ConfigError('importPasswordCost', 'must not exceed passwordCost');
  }
  if (config.roles.length > 1 && config.roles.length !== config.workers) {
    throw new ConfigError('roles', `${config.roles.length} role lists for ${config.workers} workers`);
  }
  if (!config.roles.some((r) => r.includes('store'))) throw new ConfigError('roles', 'at least one worker needs the store role');
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(config.logLevel)) {
    throw new ConfigError('logLevel', `unknown level ${config.logLevel}`);
  }
}
