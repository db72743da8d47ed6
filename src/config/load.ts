// Resolves every section from its sources, lowest first: declared defaults < the JSON
// config file < TERNMAIL_* environment < flags. The file takes the nested form
// ({"smtp": {"port": 2525}}) and, for configurations written before sections, the old
// flat keys ("smtpPort"), each noted as a deprecation for the caller to log once it has
// a logger. Flags and environment variables keep their flat names.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, envName, flagName, type TlsSettings } from './errors.js';
import { coerce } from './kinds.js';
import type { Section, SettingDef } from './section.js';

export interface ConfigSources {
  /** Keyed by legacy name (smtpPort); undefined values are skipped. */
  flags?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  configFile?: string;
}

export interface Loaded {
  values: Record<string, Record<string, unknown>>;
  /** One line per old flat key in the config file: `config key smtpPort is deprecated: use smtp.port`. */
  deprecations: string[];
  /** Where each value came from, by `section.name`: default, file, env or flag (`ternmail config show`). */
  origins: Record<string, Origin>;
}

export type Origin = 'default' | 'file' | 'env' | 'flag';

interface Slot { section: Section; name: string; def: SettingDef }

export function loadSections(sections: readonly Section[], sources: ConfigSources): Loaded {
  const values: Record<string, Record<string, unknown>> = {};
  const byLegacy = new Map<string, Slot>();
  for (const section of sections) {
    values[section.name] = {};
    for (const [name, def] of Object.entries(section.settings)) {
      values[section.name][name] = structuredClone(def.default);
      byLegacy.set(def.legacy, { section, name, def });
    }
  }
  const origins: Record<string, Origin> = {};
  const set = (slot: Slot, raw: unknown, where: string, origin: Origin, fileDir?: string) => {
    const value = coerce(slot.def.kind, raw, where);
    origins[`${slot.section.name}.${slot.name}`] = origin;
    values[slot.section.name][slot.name] = fileDir && slot.def.kind === 'tls' ? resolveTls(value as TlsSettings | null, fileDir) : value;
  };
  const deprecations: string[] = [];
  if (sources.configFile) deprecations.push(...applyFile(sections, byLegacy, sources.configFile, set));
  applyEnv(byLegacy, sources.env ?? {}, set);
  for (const [key, raw] of Object.entries(sources.flags ?? {})) {
    if (raw === undefined) continue;
    const slot = byLegacy.get(key);
    if (!slot) throw new ConfigError(key, `unknown setting (from --${flagName(key)})`);
    set(slot, raw, `${key} (from --${flagName(key)})`, 'flag');
  }
  for (const section of sections) section.check?.(values[section.name] as never);
  return { values, deprecations, origins };
}

type Setter = (slot: Slot, raw: unknown, where: string, origin: Origin, fileDir?: string) => void;

/** Flat keys first, then sections, so a section's value wins over its old flat key. */
function applyFile(sections: readonly Section[], byLegacy: Map<string, Slot>, file: string, set: Setter): string[] {
  const obj = readConfigFile(file);
  const dir = path.dirname(path.resolve(file));
  const deprecations: string[] = [];
  const nested: Array<[Section, Record<string, unknown>]> = [];
  for (const [key, raw] of Object.entries(obj)) {
    if (key === 'plugins') continue; // a list, not a section: read by src/plugins/plugin-config.ts
    const section = sections.find((s) => s.name === key);
    if (section && typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
      nested.push([section, raw as Record<string, unknown>]);
      continue;
    }
    const slot = byLegacy.get(key);
    if (!slot) throw new ConfigError(key, `unknown setting (from ${file})`);
    deprecations.push(`config key ${key} is deprecated: use ${slot.section.name}.${slot.name}`);
    set(slot, raw, `${key} (from ${file})`, 'file', dir);
  }
  for (const [section, entries] of nested) {
    for (const [name, raw] of Object.entries(entries)) {
      const def = Object.hasOwn(section.settings, name) ? section.settings[name] : undefined;
      if (!def) throw new ConfigError(`${section.name}.${name}`, `unknown setting (from ${file})`);
      set({ section, name, def }, raw, `${section.name}.${name} (from ${file})`, 'file', dir);
    }
  }
  return deprecations;
}

/** TERNMAIL_<LEGACY_NAME>; a TLS pair reads <NAME>_KEY and <NAME>_CERT. */
function applyEnv(byLegacy: Map<string, Slot>, env: NodeJS.ProcessEnv, set: Setter): void {
  for (const [legacy, slot] of byLegacy) {
    const name = envName(legacy);
    if (slot.def.kind === 'tls') {
      const key = env[`${name}_KEY`];
      const cert = env[`${name}_CERT`];
      if (key || cert) set(slot, { key, cert }, `${legacy} (from ${name}_KEY/${name}_CERT)`, 'env');
      continue;
    }
    if (env[name] !== undefined) set(slot, env[name], `${legacy} (from ${name})`, 'env');
  }
}

function resolveTls(tls: TlsSettings | null, dir: string): TlsSettings | null {
  return tls && { key: path.resolve(dir, tls.key), cert: path.resolve(dir, tls.cert) };
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
  return parsed as Record<string, unknown>;
}
