// The `plugins` list of the JSON config file: which modules to load, in order, with
// their options, per-call timeout and failure policy. A module path is relative to the
// config file; anything not starting with ./ ../ or / is a package name (the shipped
// plugins are `ternmail/plugins/NAME`).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../config/config.js';

export interface PluginSpec {
  /** As written in the config file. */
  module: string;
  /** What import() is given: a file URL, or the package name. */
  specifier: string;
  options: Record<string, unknown>;
  /** Per hook call, in milliseconds. */
  timeoutMs: number;
  onError: 'tempfail' | 'continue';
}

export const DEFAULT_PLUGIN_TIMEOUT_MS = 5000;

/** The plugin entries of a config file ([] without a file or without the key). */
export function readPluginSpecs(configFile: string | undefined): PluginSpec[] {
  if (!configFile) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch {
    return []; // the section loader reports an unreadable or invalid file
  }
  const list = (parsed as { plugins?: unknown }).plugins;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new ConfigError('plugins', `must be a list of {"module": ...} entries (in ${configFile})`);
  const dir = path.dirname(path.resolve(configFile));
  return list.map((entry, i) => pluginSpec(entry, `plugins[${i}]`, dir));
}

function pluginSpec(entry: unknown, where: string, dir: string): PluginSpec {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ConfigError(where, 'must be an object with a "module"');
  const { module, options, timeout, onError, ...rest } = entry as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new ConfigError(`${where}.${unknown[0]}`, 'unknown key (module, options, timeout, onError)');
  if (typeof module !== 'string' || module === '') throw new ConfigError(`${where}.module`, 'must be a module path or package name');
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options))) {
    throw new ConfigError(`${where}.options`, 'must be an object');
  }
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0) || timeout > 600)) {
    throw new ConfigError(`${where}.timeout`, 'must be seconds, more than 0 and at most 600');
  }
  if (onError !== undefined && onError !== 'tempfail' && onError !== 'continue') {
    throw new ConfigError(`${where}.onError`, 'must be "tempfail" or "continue"');
  }
  const local = module.startsWith('./') || module.startsWith('../') || path.isAbsolute(module);
  return {
    module,
    specifier: local ? pathToFileURL(path.resolve(dir, module)).href : module,
    options: (options as Record<string, unknown> | undefined) ?? {},
    timeoutMs: timeout === undefined ? DEFAULT_PLUGIN_TIMEOUT_MS : Math.round(timeout * 1000),
    onError: onError ?? 'tempfail',
  };
}
