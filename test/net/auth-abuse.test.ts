// Password guessing against IMAP, POP3 and SMTP AUTH: unknown users cost as much as
// known ones, attempts in flight count toward the limits, an account locks whatever the
// client address (other loopback addresses stand in for an attacker's rotating IPs).
import { afterEach, describe, expect, it } from 'vitest';
import { LineClient } from '../support/clients.js';
import { imapLogin, pop3Login, smtpAuth } from '../support/logins.js';
import { provision, startTestServer, type TestServer } from '../support/server.js';
import type { FlatSettings } from '../../src/settings.js';

let server: TestServer | null = null;

afterEach(async () => {
  await server?.destroy();
  server = null;
});

/** A server with one user (alice@auth.test, password "right"); no brakes unless the test sets them. */
async function serverWith(overrides: Partial<FlatSettings>): Promise<TestServer> {
  server = await startTestServer({
    maxAuthFailuresPerIp: 1000, maxAuthFailuresPerAccount: 1000, authDelayAfter: 1000, ...overrides,
  });
  await provision(server, 'auth.test', ['alice'], 'right');
  return server;
}

async function timed(attempt: () => Promise<string>): Promise<number> {
  const started = process.hrtime.bigint();
  await attempt();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

describe('login timing', () => {
  it.each([
    ['a known user with a wrong password', 13],
    ['a user imported with a cheaper hash and a wrong password', 8],
  ])('takes as long for an unknown user as for %s', async (_, importPasswordCost) => {
    const s = await serverWith({ passwordCost: 13, importPasswordCost });
    const unknown: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < 9; i++) {
      unknown.push(await timed(() => imapLogin(s.ports.imap, 'nobody@auth.test', 'guess')));
      known.push(await timed(() => imapLogin(s.ports.imap, 'alice@auth.test', 'guess')));
    }
    const ratio = Math.max(median(unknown), median(known)) / Math.min(median(unknown), median(known));
    expect(ratio, `unknown ${median(unknown)} ms, known ${median(known)} ms`).toBeLessThan(3);
  });
});

describe('attempts in flight', () => {
  it('checks no more concurrent wrong logins from one address than its limit', async () => {
    const s = await serverWith({ maxAuthFailuresPerIp: 3 });
    const replies = await Promise.all(Array.from({ length: 10 }, () => imapLogin(s.ports.imap, 'alice@auth.test', 'guess')));
    expect(replies.filter((r) => r.includes('[AUTHENTICATIONFAILED]'))).toHaveLength(3);
    expect(replies.filter((r) => r.includes('NO [UNAVAILABLE] Too many failed logins, try again later'))).toHaveLength(7);
  });

  it('checks no more concurrent wrong logins for one account than its limit, from any addresses', async () => {
    const s = await serverWith({ maxAuthFailuresPerAccount: 4 });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => imapLogin(s.ports.imap, 'alice@auth.test', 'guess', `127.0.0.${i + 2}`)));
    expect(replies.filter((r) => r.includes('[AUTHENTICATIONFAILED]'))).toHaveLength(4);
    expect(replies.filter((r) => r.includes('[UNAVAILABLE]'))).toHaveLength(6);
  });

  it('lets many concurrent logins with the right password through, in turn', async () => {
    const s = await serverWith({ maxAuthFailuresPerAccount: 3, maxAuthFailuresPerIp: 3 });
    const replies = await Promise.all(Array.from({ length: 15 }, () => imapLogin(s.ports.imap, 'alice@auth.test', 'right')));
    for (const reply of replies) expect(reply).toMatch(/^a1 OK /);
  });
});

describe('per-account lock', () => {
  it('locks an account guessed at from rotating addresses, refusing even the right password on every protocol', async () => {
    const s = await serverWith({ maxAuthFailuresPerAccount: 4, authLockSeconds: 900 });
    for (let i = 0; i < 4; i++) {
      expect(await imapLogin(s.ports.imap, 'alice@auth.test', `guess${i}`, `127.0.0.${i + 2}`)).toContain('[AUTHENTICATIONFAILED]');
    }
    expect(await imapLogin(s.ports.imap, 'alice@auth.test', 'right', '127.0.0.20'))
      .toBe('a1 NO [UNAVAILABLE] Too many failed logins, try again later');
    expect(await pop3Login(s.ports.pop3, 'alice@auth.test', 'right', '127.0.0.21')).toBe('-ERR [AUTH] too many failed logins, try later');
    expect(await smtpAuth(s.ports.submission, 'alice@auth.test', 'right', '127.0.0.22')).toBe('454 4.7.0 Too many failed logins, try again later');

    const blocked = await s.admin<Array<{ kind: string; key: string; failures: number; secondsLeft: number }>>('GET', '/v1/auth/blocked');
    expect(blocked).toEqual([{ kind: 'account', key: 'alice@auth.test', failures: 4, secondsLeft: expect.any(Number) }]);
    expect(blocked[0].secondsLeft).toBeGreaterThan(890);
    expect(blocked[0].secondsLeft).toBeLessThanOrEqual(900);

    await s.admin('DELETE', '/v1/auth/blocked/alice@auth.test');
    expect(await imapLogin(s.ports.imap, 'alice@auth.test', 'right', '127.0.0.20')).toMatch(/^a1 OK /);
  });

  it('locks accounts that do not exist in the same way (no hint that they do not)', async () => {
    const s = await serverWith({ maxAuthFailuresPerAccount: 2 });
    await imapLogin(s.ports.imap, 'ghost@auth.test', 'a', '127.0.0.2');
    await imapLogin(s.ports.imap, 'ghost@auth.test', 'b', '127.0.0.3');
    expect(await imapLogin(s.ports.imap, 'ghost@auth.test', 'c', '127.0.0.4')).toContain('[UNAVAILABLE]');
  });

  it('keeps a per-address limit: an address over it is refused for other accounts too', async () => {
    const s = await serverWith({ maxAuthFailuresPerIp: 2 });
    await imapLogin(s.ports.imap, 'x@auth.test', 'a', '127.0.0.9');
    await imapLogin(s.ports.imap, 'y@auth.test', 'a', '127.0.0.9');
    expect(await imapLogin(s.ports.imap, 'alice@auth.test', 'right', '127.0.0.9')).toContain('[UNAVAILABLE]');
    expect(await imapLogin(s.ports.imap, 'alice@auth.test', 'right', '127.0.0.10')).toMatch(/^a1 OK /);
    const blocked = await s.admin<Array<{ kind: string; key: string }>>('GET', '/v1/auth/blocked');
    expect(blocked).toEqual([expect.objectContaining({ kind: 'ip', key: '127.0.0.9', failures: 2 })]);
  });

  it('clears an account\'s failures after a successful login', async () => {
    const s = await serverWith({ maxAuthFailuresPerAccount: 3 });
    for (let round = 0; round < 3; round++) {
      await imapLogin(s.ports.imap, 'alice@auth.test', 'guess1');
      await imapLogin(s.ports.imap, 'alice@auth.test', 'guess2');
      expect(await imapLogin(s.ports.imap, 'alice@auth.test', 'right')).toMatch(/^a1 OK /);
    }
  });
});

describe('progressive delay', () => {
  it('makes attempts after authDelayAfter failures for an account wait, from any address', async () => {
    const s = await serverWith({ authDelayAfter: 2 });
    const early = [
      await timed(() => imapLogin(s.ports.imap, 'alice@auth.test', 'a', '127.0.0.2')),
      await timed(() => imapLogin(s.ports.imap, 'alice@auth.test', 'b', '127.0.0.3')),
    ];
    const third = await timed(() => imapLogin(s.ports.imap, 'alice@auth.test', 'c', '127.0.0.4'));
    const fourth = await timed(() => imapLogin(s.ports.imap, 'alice@auth.test', 'd', '127.0.0.5'));
    expect(Math.max(...early)).toBeLessThan(900);
    expect(third).toBeGreaterThanOrEqual(950);
    expect(fourth).toBeGreaterThanOrEqual(1950);
  });
});

describe('connection caps', () => {
  it('caps connections per protocol, whatever the addresses', async () => {
    const s = await serverWith({ smtpMaxConnections: 2, imapMaxConnections: 2, pop3MaxConnections: 2 });
    const held: LineClient[] = [];
    try {
      for (const [port, greeting] of [[s.ports.smtp, /^220 /], [s.ports.imap, /^\* OK/], [s.ports.pop3, /^\+OK/]] as const) {
        for (let i = 0; i < 2; i++) {
          const client = await LineClient.connect(port, '127.0.0.1', `127.0.0.${i + 2}`);
          await client.expect(greeting);
          held.push(client);
        }
      }
      const smtp = await LineClient.connect(s.ports.smtp, '127.0.0.1', '127.0.0.30');
      expect(await smtp.expect(/^421 [^\r\n]*\r\n/)).toMatch(/^421 4\.7\.0 Too many connections\r\n/);
      const imap = await LineClient.connect(s.ports.imap, '127.0.0.1', '127.0.0.31');
      expect(await imap.expect(/\r\n/)).toBe('* BYE Too many connections\r\n');
      const pop3 = await LineClient.connect(s.ports.pop3, '127.0.0.1', '127.0.0.32');
      expect(await pop3.expect(/\r\n/)).toBe('-ERR [SYS/TEMP] Too many connections\r\n');
      for (const c of [smtp, imap, pop3]) c.close();
    } finally {
      for (const c of held) c.close();
    }
    // Slots come back when connections close.
    await new Promise((r) => setTimeout(r, 200));
    const again = await LineClient.connect(s.ports.pop3);
    await again.expect(/^\+OK/);
    again.close();
  });

  it('counts POP3 connections with SMTP and IMAP toward the per-address limit', async () => {
    const s = await serverWith({ maxConnectionsPerIp: 3 });
    const held: LineClient[] = [];
    try {
      for (const [port, greeting] of [[s.ports.smtp, /^220 /], [s.ports.imap, /^\* OK/], [s.ports.imap, /^\* OK/]] as const) {
        const client = await LineClient.connect(port, '127.0.0.1', '127.0.0.7');
        await client.expect(greeting);
        held.push(client);
      }
      const pop3 = await LineClient.connect(s.ports.pop3, '127.0.0.1', '127.0.0.7');
      expect(await pop3.expect(/\r\n/)).toBe('-ERR [SYS/TEMP] too many connections from your address\r\n');
      pop3.close();
      const other = await LineClient.connect(s.ports.pop3, '127.0.0.1', '127.0.0.8');
      await other.expect(/^\+OK/);
      other.close();
    } finally {
      for (const c of held) c.close();
    }
  });
});
