// Greylisting (`ternmail/plugins/greylist`): the first attempt of an unknown triple
// (client network, sender, recipient) is answered 451; the same triple retried after
// `delay` seconds is accepted, and for `ttl` seconds after that without waiting.
// Real MTAs retry; most spam engines do not. Clients are grouped by /24 (IPv4) or /64
// (IPv6), as a sending farm retries from another address of its network. Authenticated
// senders are not greylisted. Triples live in the plugin's store, per node.
import { definePlugin } from '../contract/index.js';
import { booleanOption, numberOption } from './options.js';

interface Triple { first: number; passed?: number }

export function clientNetwork(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/.exec(ip);
  if (v4) return `${v4[1]}.0/24`;
  return `${ip.split(':').slice(0, 4).join(':')}::/64`;
}

export default definePlugin({
  name: 'greylist',
  setup(api, options) {
    numberOption(options, 'delay', 300, 0, 86_400);
    numberOption(options, 'ttl', 36 * 86_400, 60, 366 * 86_400);
    booleanOption(options, 'skipAuthenticated', true);
  },
  hooks: {
    async rcptTo(event, api) {
      const delayMs = numberOption(api.options, 'delay', 300) * 1000;
      const ttlMs = numberOption(api.options, 'ttl', 36 * 86_400) * 1000;
      if (event.session.user && booleanOption(api.options, 'skipAuthenticated', true)) return;
      const store = api.store('triples');
      const key = `${clientNetwork(event.session.client)}|${event.from.toLowerCase()}|${event.to.toLowerCase()}`;
      const now = Date.now();
      const seen = await store.get<Triple>(key);
      const fresh = seen && now - (seen.passed ?? seen.first) < ttlMs ? seen : undefined;
      if (!fresh) {
        await store.put(key, { first: now });
        return tempfail(delayMs);
      }
      if (now - fresh.first < delayMs) return tempfail(delayMs - (now - fresh.first));
      if (!fresh.passed || now - fresh.passed > 3600_000) await store.put(key, { first: fresh.first, passed: now });
    },
  },
});

function tempfail(waitMs: number) {
  return { tempfail: { code: 451, text: `4.7.1 Greylisted, please try again in ${Math.ceil(waitMs / 1000)} seconds` } };
}
