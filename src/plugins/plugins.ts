// Starts the configured plugins of a node: loads the modules, spawns one supervised
// actor per plugin under `plugins`, waits for their first setup, and returns the
// PipelineHooks the services call and their status. The DKIM signer is always among them.
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import { spawnGroup } from '../core/actor.js';
import type { Database } from '../store/database.js';
import { NO_HOOKS, type PipelineHooks } from './contract/pipeline-hooks.js';
import type { PluginSpec } from './plugin-config.js';
import { loadPlugins, type LoadedPlugin } from './loader.js';
import { PluginHost, type PluginStatus } from './plugin-host.js';
import { HookChain } from './hook-chain.js';
import { ConfigError } from '../config/config.js';
import { DEFAULT_PLUGIN_TIMEOUT_MS } from './plugin-config.js';

const DKIM_SIGNER = 'ternmail/plugins/dkim-sign';

/**
 * Keys made by `ternmail dkim keygen` are used with no other setting, even the first one
 * made while the server runs: the signer is always loaded and signs once a key exists.
 */
function withDkimSigner(specs: PluginSpec[]): PluginSpec[] {
  if (specs.some((s) => s.specifier === DKIM_SIGNER)) return specs;
  return [...specs, { module: DKIM_SIGNER, specifier: DKIM_SIGNER, options: {}, timeoutMs: DEFAULT_PLUGIN_TIMEOUT_MS, onError: 'tempfail' }];
}

export interface RunningPlugins {
  hooks: PipelineHooks;
  status(): PluginStatus[];
}

export interface PluginNode { db: Database; hostname: string; dataDir: string; isLocalDomain: (domain: string) => boolean }

export async function startPlugins(configured: PluginSpec[], system: Ref<unknown>, node: PluginNode, log: Logger): Promise<RunningPlugins> {
  const specs = withDkimSigner(configured);
  if (specs.length === 0) return { hooks: NO_HOOKS, status: () => [] };
  const loaded = await loadPlugins(specs);
  const parent = spawnGroup(system, 'plugins');
  const pluginLog = log.child({ component: 'plugins' });
  const hooksOf = new Map<PluginHost, LoadedPlugin>();
  for (const plugin of loaded) hooksOf.set(new PluginHost(plugin, parent, node, pluginLog), plugin);
  for (const host of hooksOf.keys()) {
    await host.started().catch((err: Error) => {
      throw new ConfigError('plugins', `setup of plugin ${host.name} failed: ${err.message}`);
    });
  }
  const hosts = [...hooksOf.keys()];
  pluginLog.info({ plugins: loaded.map((p) => ({ name: p.definition.name, hooks: p.hooks })) }, 'plugins loaded');
  return { hooks: new HookChain(hosts, (host) => hooksOf.get(host)!.hooks, pluginLog), status: () => hosts.map((h) => h.status()) };
}
