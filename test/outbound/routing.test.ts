// Destination routing: static route > smarthost > MX in preference order > the
// domain's own address without MX; null MX and non-existent domains are permanent.
import { describe, expect, it } from 'vitest';
import { DirectoryCache } from '../../src/directory/cache.js';
import { parseHostPort, routeDomain, type MxResolver } from '../../src/outbound/routing.js';

function resolver(answers: Record<string, Array<{ exchange: string; priority: number }> | string>): MxResolver {
  return {
    async resolveMx(domain) {
      const answer = answers[domain];
      if (typeof answer === 'string') throw Object.assign(new Error(answer), { code: answer });
      if (!answer) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return answer;
    },
  };
}

const dns = resolver({
  'multi.test': [{ exchange: 'mx2.multi.test', priority: 20 }, { exchange: 'mx1.multi.test.', priority: 10 }],
  'nomx.test': 'ENODATA',
  'null.test': [{ exchange: '', priority: 0 }],
  'broken.test': 'ESERVFAIL',
});

describe('routeDomain', () => {
  const directory = new DirectoryCache();
  directory.apply({ kind: 'route', key: 'routed.test', value: { domain: 'routed.test', host: '10.0.0.9', port: 2526 }, seq: 1 });

  it('prefers a static route, then the smarthost', async () => {
    expect(await routeDomain('routed.test', directory, { smarthost: { host: 'relay', port: 587 }, smtpPort: 25, resolver: dns }))
      .toEqual({ ok: true, hosts: [{ host: '10.0.0.9', port: 2526 }], via: 'route' });
    expect(await routeDomain('multi.test', directory, { smarthost: { host: 'relay', port: 587 }, smtpPort: 25, resolver: dns }))
      .toEqual({ ok: true, hosts: [{ host: 'relay', port: 587 }], via: 'smarthost' });
  });

  it('orders MX hosts by preference', async () => {
    expect(await routeDomain('multi.test', directory, { smarthost: null, smtpPort: 25, resolver: dns })).toEqual({
      ok: true, via: 'mx', hosts: [{ host: 'mx1.multi.test', port: 25 }, { host: 'mx2.multi.test', port: 25 }],
    });
  });

  it('falls back to the domain itself without MX records', async () => {
    expect(await routeDomain('nomx.test', directory, { smarthost: null, smtpPort: 25, resolver: dns }))
      .toEqual({ ok: true, via: 'a', hosts: [{ host: 'nomx.test', port: 25 }] });
  });

  it('treats a null MX and a non-existent domain as permanent, a DNS failure as temporary', async () => {
    expect(await routeDomain('null.test', directory, { smarthost: null, smtpPort: 25, resolver: dns })).toMatchObject({ ok: false, temporary: false, error: expect.stringMatching(/^5\.1\.10/) });
    expect(await routeDomain('gone.test', directory, { smarthost: null, smtpPort: 25, resolver: dns })).toMatchObject({ ok: false, temporary: false });
    expect(await routeDomain('broken.test', directory, { smarthost: null, smtpPort: 25, resolver: dns })).toMatchObject({ ok: false, temporary: true });
  });

  it('parses host[:port] and [address]:port', () => {
    expect(parseHostPort('relay.example:2525', 25)).toEqual({ host: 'relay.example', port: 2525 });
    expect(parseHostPort('relay.example', 25)).toEqual({ host: 'relay.example', port: 25 });
    expect(parseHostPort('[::1]:2525', 25)).toEqual({ host: '::1', port: 2525 });
  });
});
