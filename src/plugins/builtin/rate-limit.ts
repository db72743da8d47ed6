// A rate limiter (`ternmail/plugins/rate-limit`): at most `perSender` messages per
// `window` seconds from one authenticated sender and `perClient` from one client IP,
// counted at MAIL FROM; past a limit MAIL FROM is answered 451 4.7.1 until the window
// ends. Counters are in memory, per node: a restart of the plugin starts them afresh.
import { definePlugin } from '../contract/index.js';
import { numberOption } from './options.js';

interface Window { start: number; count: number }

/** Counters per plugin name (a config may load the limiter under one name only). */
const counters = new Map<string, Map<string, Window>>();

export default definePlugin({
  name: 'rate-limit',
  setup(api, options) {
    numberOption(options, 'window', 3600, 1, 7 * 86_400);
    numberOption(options, 'perSender', 500, 0);
    numberOption(options, 'perClient', 1000, 0);
    counters.set(api.name, new Map());
  },
  hooks: {
    mailFrom(event, api) {
      const windowMs = numberOption(api.options, 'window', 3600) * 1000;
      const table = counters.get(api.name)!;
      const now = Date.now();
      if (table.size > 100_000) sweep(table, now, windowMs);
      const checks: Array<[string, number]> = [[`client ${event.session.client}`, numberOption(api.options, 'perClient', 1000)]];
      if (event.session.user) checks.push([`sender ${event.session.user}`, numberOption(api.options, 'perSender', 500)]);
      for (const [key, limit] of checks) {
        const current = table.get(key);
        const window = current && now - current.start < windowMs ? current : { start: now, count: 0 };
        if (window.count >= limit) {
          api.log.info({ key, limit }, 'rate limit reached');
          return { tempfail: { code: 451, text: `4.7.1 Rate limit reached for ${key}, try again later` } };
        }
        window.count += 1;
        table.set(key, window);
      }
    },
  },
});

/** Bounded memory: windows that ended are dropped. */
function sweep(table: Map<string, Window>, now: number, windowMs: number): void {
  for (const [key, window] of table) if (now - window.start >= windowMs) table.delete(key);
}
