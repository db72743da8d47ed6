// `ternmail/plugin`: what a plugin module imports. `definePlugin` only checks the
// shape and gives TypeScript the types; a plain object with the same fields works too.
import { HOOK_NAMES } from './events.js';
import type { PluginDefinition } from './plugin.js';

export type * from './events.js';
export type * from './verdicts.js';
export type * from './plugin.js';
export { HOOK_NAMES } from './events.js';

export function definePlugin<P extends PluginDefinition>(plugin: P): P {
  if (typeof plugin?.name !== 'string' || plugin.name === '') throw new Error('definePlugin: a plugin needs a name');
  for (const hook of Object.keys(plugin.hooks ?? {})) {
    if (!(HOOK_NAMES as readonly string[]).includes(hook)) throw new Error(`definePlugin ${plugin.name}: unknown hook ${hook} (known: ${HOOK_NAMES.join(', ')})`);
  }
  return plugin;
}
