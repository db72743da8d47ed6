// Inbound mail authentication (`ternmail/plugins/mail-auth`): at data, SPF (client IP,
// HELO, envelope sender), DKIM, DMARC and ARC are checked with mailauth and the result
// is written on top of the message as Authentication-Results (and Received-SPF).
// With `rejectDmarc`, mail failing DMARC from a domain whose policy is p=reject is
// refused (550 5.7.1). Authenticated submissions are not checked. `dnsServers` points
// the lookups at given resolvers (default: the system's).
import { promises as dns } from 'node:dns';
import { Readable } from 'node:stream';
import { authenticate } from 'mailauth';
import { definePlugin, type HeaderField } from '../contract/index.js';
import { booleanOption } from './options.js';

type Resolve = (name: string, type: string) => Promise<unknown>;

const resolvers = new Map<string, Resolve>();

export default definePlugin({
  name: 'mail-auth',
  setup(api, options) {
    booleanOption(options, 'rejectDmarc', false);
    const servers = options.dnsServers;
    if (servers === undefined) {
      resolvers.set(api.name, (name, type) => dns.resolve(name, type as 'TXT'));
      return;
    }
    if (!Array.isArray(servers) || servers.some((s) => typeof s !== 'string')) throw new Error('option dnsServers must be a list of "ip" or "ip:port"');
    const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
    resolver.setServers(servers as string[]);
    resolvers.set(api.name, (name, type) => resolver.resolve(name, type as 'TXT'));
  },
  hooks: {
    async data(event, api) {
      if (event.session.user) return;
      const result = await authenticate(Readable.from(event.body()), {
        ip: event.session.client, helo: event.session.helo || undefined, sender: event.from || undefined, mta: api.hostname,
        resolver: resolvers.get(api.name) as never, disableBimi: true,
      });
      const dmarc = result.dmarc as { status?: { result?: string }; policy?: string; domain?: string } | false;
      if (booleanOption(api.options, 'rejectDmarc', false) && dmarc && dmarc.status?.result === 'fail' && dmarc.policy === 'reject') {
        api.log.info({ domain: dmarc.domain, client: event.session.client }, 'DMARC p=reject: message refused');
        return { reject: { code: 550, text: `5.7.1 Message refused: DMARC policy of ${dmarc.domain} is reject` } };
      }
      return { addHeaders: fieldsOf(result.headers) };
    },
  },
});

/** "Name: value\r\n Name2: ..." (values folded) as fields. */
function fieldsOf(headers: string): HeaderField[] {
  return headers.split(/\r\n(?![ \t])/).filter((h) => h.includes(':')).map((header) => {
    const colon = header.indexOf(':');
    return [header.slice(0, colon), header.slice(colon + 1).replace(/^[ \t]+/, '')];
  });
}
