// Loads the configured plugin modules, in order, and checks what they export before
// anything runs: a module that cannot be imported, has no plugin as its default
// export, names an unknown hook or repeats another plugin's name stops the start with
// a configuration error naming the entry.
import { ConfigError } from '../config/config.js';
import { HOOK_NAMES, type HookName } from './contract/events.js';
import type { PluginDefinition } from './contract/plugin.js';
import type { PluginSpec } from './plugin-config.js';

export interface LoadedPlugin {
  spec: PluginSpec;
  definition: PluginDefinition;
  hooks: HookName[];
}

export async function loadPlugins(specs: PluginSpec[]): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  const names = new Set<string>();
  for (const [i, spec] of specs.entries()) {
    const where = `plugins[${i}]`;
    let exported: unknown;
    try {
      exported = ((await import(spec.specifier)) as { default?: unknown }).default;
    } catch (err) {
      throw new ConfigError(`${where}.module`, `cannot load ${spec.module}: ${(err as Error).message}`);
    }
    const definition = checkDefinition(exported, `${where} (${spec.module})`);
    if (names.has(definition.name)) throw new ConfigError(where, `a second plugin named ${definition.name}`);
    names.add(definition.name);
    loaded.push({ spec, definition, hooks: HOOK_NAMES.filter((h) => typeof definition.hooks[h] === 'function') });
  }
  return loaded;
}

function checkDefinition(value: unknown, where: string): PluginDefinition {
  if (typeof value !== 'object' || value === null) throw new ConfigError(where, 'the default export must be definePlugin({ name, hooks })');
  const plugin = value as Partial<PluginDefinition>;
  if (typeof plugin.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(plugin.name)) {
    throw new ConfigError(where, 'the plugin needs a name of letters, digits, "-", "_" or "."');
  }
  if (plugin.setup !== undefined && typeof plugin.setup !== 'function') throw new ConfigError(where, 'setup must be a function');
  if (typeof plugin.hooks !== 'object' || plugin.hooks === null) throw new ConfigError(where, 'the plugin needs a hooks object');
  for (const [hook, fn] of Object.entries(plugin.hooks)) {
    if (!(HOOK_NAMES as readonly string[]).includes(hook)) throw new ConfigError(where, `unknown hook ${hook} (known: ${HOOK_NAMES.join(', ')})`);
    if (typeof fn !== 'function') throw new ConfigError(where, `hook ${hook} must be a function`);
  }
  return plugin as PluginDefinition;
}
