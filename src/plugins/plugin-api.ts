// What a plugin is given (`api`): its log, LevelDB sublevels of this node, its own
// actors under the plugin's actor, and a few facts about the node.
import type { Ref } from 'nact';
import type { Logger } from '../core/logger.js';
import { dispatch } from '../core/supervision.js';
import { defineActor, spawnActor } from '../core/actor.js';
import type { Database } from '../store/database.js';
import type { PluginApi, PluginStore } from './contract/plugin.js';

export interface ApiContext {
  name: string;
  options: Record<string, unknown>;
  db: Database;
  log: Logger;
  hostname: string;
  dataDir: string;
  isLocalDomain: (domain: string) => boolean;
}

/** The api for one incarnation of the plugin's actor (`self`): spawned actors are its children. */
export function pluginApi(context: ApiContext, self: Ref<unknown>): PluginApi {
  return {
    name: context.name,
    options: context.options,
    log: context.log,
    hostname: context.hostname,
    dataDir: context.dataDir,
    isLocalDomain: context.isLocalDomain,
    store: (name) => pluginStore(context.db, context.name, name),
    spawn(name, initial, handle) {
      const actor = defineActor({
        what: `actor ${name} of plugin ${context.name}`,
        initialState: () => initial,
        handle: (state, message) => handle(state as never, message as never),
        restart: { strategy: 'reset', intensity: 10, period: 60 },
        reportCrash: () => undefined,
      });
      const ref = spawnActor(self, actor, name, context.log);
      return { tell: (message) => dispatch(ref, message as never) };
    },
  };
}

function pluginStore(db: Database, plugin: string, name: string): PluginStore {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new Error(`store name ${JSON.stringify(name)}: letters, digits, "-", "_" or "."`);
  const space = db.level.sublevel<string, string>(`plugin-${plugin}-${name}`, { valueEncoding: 'utf8' });
  return {
    async get<T>(key: string) {
      const value = await space.get(key);
      return value === undefined ? undefined : (JSON.parse(value) as T);
    },
    async put(key, value) {
      await space.put(key, JSON.stringify(value), { sync: true } as never);
    },
    async del(key) {
      await space.del(key, { sync: true } as never);
    },
    async *entries<T>(prefix = '') {
      const range = prefix === '' ? {} : { gte: prefix, lt: prefix + '\uffff' };
      for await (const [key, value] of space.iterator(range)) yield [key, JSON.parse(value) as T] as [string, T];
    },
  };
}
