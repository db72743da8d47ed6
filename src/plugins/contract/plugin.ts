// The shape of a plugin module and of what it is given. A module's default export is
// `definePlugin({ name, setup?, hooks })` (or the same plain object); `setup` runs once
// per node (again after a restart), the hooks at their points of the pipeline.
import type { HookEvents, HookName } from './events.js';
import type { HookVerdicts } from './verdicts.js';

/** The log of a plugin (pino): every line carries the plugin's name. */
export interface PluginLog {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** A key-value space of the node's LevelDB for the plugin (values stored as JSON). */
export interface PluginStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order. */
  entries<T = unknown>(prefix?: string): AsyncIterable<[string, T]>;
}

/** A plugin's own actor: one message at a time, like every actor of the server. */
export interface PluginActorRef<M> {
  tell(message: M): void;
}

/** What `setup` and every hook are given. */
export interface PluginApi {
  /** The plugin's name. */
  name: string;
  /** The options object of its config entry ({} when none). */
  options: Record<string, unknown>;
  log: PluginLog;
  /** A LevelDB sublevel of this node, `name` within the plugin (not shared across nodes). */
  store(name: string): PluginStore;
  /**
   * Starts an actor under the plugin's actor: `handle` gets one message at a time and
   * returns the next state. Stopped (and started again by setup) when the plugin restarts.
   */
  spawn<M, S>(name: string, initial: S, handle: (state: S, message: M) => S | Promise<S>): PluginActorRef<M>;
  /** The node's hostname (server.hostname). */
  hostname: string;
  /** The server's data folder (where a plugin may keep files such as keys). */
  dataDir: string;
  /** True for a domain this server receives mail for. */
  isLocalDomain(domain: string): boolean;
}

export type Hook<H extends HookName> = (event: HookEvents[H], api: PluginApi) => HookVerdicts[H] | Promise<HookVerdicts[H]>;

export type PluginHooks = { [H in HookName]?: Hook<H> };

export interface PluginDefinition {
  name: string;
  setup?: (api: PluginApi, options: Record<string, unknown>) => void | Promise<void>;
  hooks: PluginHooks;
}
