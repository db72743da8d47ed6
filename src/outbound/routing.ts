// Where to deliver a remote domain's mail: a static route from the directory wins,
// then the configured smarthost, then DNS: MX hosts in preference order, the domain's
// own address when it has no MX (RFC 5321 5.1), and a null MX means undeliverable.
import { promises as dnsPromises } from 'node:dns';
import type { DirectoryCache } from '../directory/cache.js';

export interface Destination {
  host: string;
  port: number;
}

export type RouteResult =
  | { ok: true; hosts: Destination[]; via: 'route' | 'smarthost' | 'mx' | 'a' }
  | { ok: false; temporary: boolean; error: string };

export interface MxResolver {
  resolveMx(domain: string): Promise<Array<{ exchange: string; priority: number }>>;
}

export interface RoutingOptions {
  smarthost: Destination | null;
  smtpPort: number;
  resolver?: MxResolver;
}

export function parseHostPort(text: string, defaultPort: number): Destination {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : defaultPort };
  const colon = text.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(text.slice(colon + 1))) return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
  return { host: text, port: defaultPort };
}

const TEMPORARY_DNS = new Set(['ESERVFAIL', 'ETIMEOUT', 'ECONNREFUSED', 'EREFUSED', 'ECANCELLED', 'EOF', 'ECONNRESET']);

export async function routeDomain(domain: string, directory: DirectoryCache, options: RoutingOptions): Promise<RouteResult> {
  const route = directory.routes.get(domain);
  if (route) return { ok: true, hosts: [{ host: route.host, port: route.port }], via: 'route' };
  if (options.smarthost) return { ok: true, hosts: [options.smarthost], via: 'smarthost' };
  const resolver = options.resolver ?? dnsPromises;
  let records: Array<{ exchange: string; priority: number }>;
  try {
    records = await resolver.resolveMx(domain);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENODATA') return { ok: true, hosts: [{ host: domain, port: options.smtpPort }], via: 'a' };
    if (code === 'ENOTFOUND') return { ok: false, temporary: false, error: `5.1.2 domain ${domain} does not exist` };
    return { ok: false, temporary: TEMPORARY_DNS.has(code) || code === '', error: `4.4.3 DNS lookup for ${domain} failed: ${code || (err as Error).message}` };
  }
  if (records.length === 0) return { ok: true, hosts: [{ host: domain, port: options.smtpPort }], via: 'a' };
  if (records.length === 1 && (records[0].exchange === '' || records[0].exchange === '.')) {
    return { ok: false, temporary: false, error: `5.1.10 domain ${domain} accepts no mail (null MX)` };
  }
  const hosts = [...records]
    .filter((r) => r.exchange !== '' && r.exchange !== '.')
    .sort((a, b) => a.priority - b.priority)
    .map((r) => ({ host: r.exchange.replace(/\.$/, ''), port: options.smtpPort }));
  return { ok: true, hosts, via: 'mx' };
}
