// `ternmail config show` prints the effective settings, each with where its value came
// from (default, file, env, flag), as `postconf -n`/`doveconf -n` do; with -n only the
// ones that differ from the defaults. `ternmail config check` validates what `start`
// would read, plus what a start would trip over later (TLS files, ports used twice).
import { parseArgs } from 'node:util';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, flagName, envName, showValue, type Origin } from '../config/config.js';
import { loadSettings, sections, type ServerConfig } from '../settings.js';
import { TlsMaterial } from '../net/tls-material.js';
import { CliError, configFileOf } from './admin-client.js';
import { startFlagValues, startOptions } from './start-flags.js';

export const configHelp = `Usage: ternmail config show [-n] [--config FILE] [start flags...]
       ternmail config check [--config FILE] [start flags...]

  show     every setting as section.name = value, with where it came from:
           default, file (--config, TERNMAIL_CONFIG or /etc/ternmail/config.json),
           env (TERNMAIL_*) or flag; -n shows only the settings not at their default
  check    validates the settings 'ternmail start' would use with the same flags,
           environment and file, and that the TLS files load, no two listeners share
           a port and the data folder can be made; exit 0 and 'config ok', or the problems`;

type Out = (line: string) => void;

interface Resolved {
  config: ServerConfig;
  origins: Record<string, Origin>;
  file: string | undefined;
}

function resolve(args: string[]): { resolved: Resolved; changedOnly: boolean; action: string | undefined } {
  const options = { ...startOptions(), n: { type: 'boolean' as const, short: 'n' } };
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const values = parsed.values as Record<string, unknown>;
  const file = configFileOf(values.config as string | undefined);
  const { config, origins } = loadSettings({ flags: startFlagValues(values), env: process.env, configFile: file });
  return { resolved: { config, origins, file }, changedOnly: values.n === true, action: parsed.positionals[0] };
}

function sourceOf(origin: Origin, legacy: string, file: string | undefined): string {
  switch (origin) {
    case 'default': return 'default';
    case 'file': return `file ${file}`;
    case 'env': return `env ${envName(legacy)}`;
    case 'flag': return `flag --${flagName(legacy)}`;
  }
}

function show({ config, origins, file }: Resolved, changedOnly: boolean, out: Out): void {
  const rows: Array<[string, string]> = [];
  for (const section of sections) {
    const values = (config as unknown as Record<string, Record<string, unknown>>)[section.name];
    for (const [name, def] of Object.entries(section.settings)) {
      const origin = origins[`${section.name}.${name}`] ?? 'default';
      if (changedOnly && origin === 'default') continue;
      const value = def.kind === 'tls' && values[name] ? JSON.stringify(values[name]) : showValue(def.kind, values[name]);
      rows.push([`${section.name}.${name} = ${value}`, sourceOf(origin, def.legacy, file)]);
    }
  }
  const width = Math.max(0, ...rows.map(([setting]) => setting.length)) + 2;
  for (const [setting, source] of rows) out(`${setting.padEnd(width)}# ${source}`);
}

/** Problems a start would meet after the settings themselves passed validation. */
function problems(config: ServerConfig): string[] {
  const found: string[] = [];
  if (config.net.tls) {
    try {
      TlsMaterial.load(config.net.tls);
    } catch (err) {
      found.push((err as Error).message);
    }
  }
  const ports: Array<[string, number]> = [
    ['smtp.port', config.smtp.port], ['smtp.submissionPort', config.smtp.submissionPort], ['smtp.tlsPort', config.smtp.tlsPort],
    ['imap.port', config.imap.port], ['imap.tlsPort', config.imap.tlsPort], ['pop3.port', config.pop3.port],
    ['pop3.tlsPort', config.pop3.tlsPort], ['admin.port', config.admin.port],
    ...extraPorts(config),
  ];
  const seen = new Map<number, string>();
  for (const [name, port] of ports) {
    if (port === 0) continue;
    const other = seen.get(port);
    if (other) found.push(`${name} and ${other} both use port ${port}`);
    else seen.set(port, name);
  }
  const data = path.resolve(config.server.data);
  const existing = existsSync(data) ? data : path.dirname(data);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    found.push(`data folder ${data}: ${existing} is not writable by this user`);
  }
  return found;
}

/** Listener ports of sections added later (lmtp), read by name so this file needs no change for them. */
function extraPorts(config: ServerConfig): Array<[string, number]> {
  const lmtp = (config as unknown as { lmtp?: { port?: number } }).lmtp;
  return lmtp?.port ? [['lmtp.port', lmtp.port]] : [];
}

export function runConfig(args: string[], out: Out): void {
  if (args.includes('--help') || args.includes('-h')) return out(configHelp);
  let result;
  try {
    result = resolve(args);
  } catch (err) {
    if (err instanceof ConfigError && args[0] === 'check') throw new CliError(`config invalid: ${err.message}`);
    throw err;
  }
  const { resolved, changedOnly, action } = result;
  if (action === 'show' || action === undefined) return show(resolved, changedOnly, out);
  if (action === 'check') {
    const found = problems(resolved.config);
    if (found.length > 0) throw new CliError(`config invalid: ${found.join('; ')}`);
    return out(`config ok${resolved.file ? `: ${resolved.file}` : ' (no config file: defaults, environment and flags)'}`);
  }
  throw new CliError(`unknown config action: ${action} (show, check)`);
}
