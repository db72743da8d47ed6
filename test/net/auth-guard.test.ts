// The auth guard's own bookkeeping: bounded maps whatever the number of addresses and
// accounts tried, expiry of old failures, and one warning per lockout.
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../support/log-capture.js';
import { AuthGuard } from '../../src/net/auth-guard.js';
import { silentLogger } from '../../src/core/logger.js';

const limits = { maxFailuresPerIp: 5, maxFailuresPerAccount: 3, delayAfter: 100, lockSeconds: 60 };

describe('AuthGuard', () => {
  it('keeps at most maxEntries addresses and accounts however many are tried', () => {
    const guard = new AuthGuard({ ...limits, maxEntries: 100 }, silentLogger());
    for (let i = 0; i < 10_000; i++) {
      const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      const reservation = guard.reserve(ip, `user${i}@x.test`);
      expect(reservation.ok).toBe(true);
      guard.settle(ip, `user${i}@x.test`, 'failure');
    }
    expect(guard.size.ips).toBeLessThanOrEqual(100);
    expect(guard.size.accounts).toBeLessThanOrEqual(100);
    guard.close();
  });

  it('stays fast when full: a flood of new addresses evicts the oldest instead of sweeping every time', () => {
    const guard = new AuthGuard({ ...limits, maxEntries: 20_000 }, silentLogger());
    const started = Date.now();
    for (let i = 0; i < 100_000; i++) guard.reserve(`2001:db8::${i.toString(16)}`, 'kim@x.test', started);
    expect(guard.size.ips).toBeLessThanOrEqual(20_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    guard.close();
  });

  it('keeps an entry small however long the account name sent', () => {
    const guard = new AuthGuard(limits, silentLogger());
    const huge = 'x'.repeat(60_000);
    for (let i = 0; i < 3; i++) {
      expect(guard.reserve(`192.0.2.${50 + i}`, huge).ok).toBe(true);
      guard.settle(`192.0.2.${50 + i}`, huge, 'failure');
    }
    const [row] = guard.blocked();
    expect(row).toMatchObject({ kind: 'account', failures: 3 });
    expect(row.key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(guard.reserve('192.0.2.60', huge.toUpperCase())).toEqual({ ok: false, reason: 'account' });
    guard.close();
  });

  it('forgets failures after the window and lifts a lock after lockSeconds', () => {
    const guard = new AuthGuard({ ...limits, windowMs: 60_000 }, silentLogger());
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      expect(guard.reserve(`192.0.2.${i}`, 'eve@x.test', t0)).toEqual({ ok: true, delayMs: 0 });
      guard.settle(`192.0.2.${i}`, 'eve@x.test', 'failure', t0);
    }
    expect(guard.reserve('192.0.2.9', 'eve@x.test', t0 + 1000)).toEqual({ ok: false, reason: 'account' });
    expect(guard.blocked(t0 + 1000)).toEqual([{ kind: 'account', key: 'eve@x.test', failures: 3, secondsLeft: 59 }]);
    guard.sweep(t0 + 59_000);
    expect(guard.size.accounts).toBe(1);
    expect(guard.reserve('192.0.2.9', 'EVE@x.test', t0 + 61_000).ok).toBe(true);
    guard.settle('192.0.2.9', 'eve@x.test', 'aborted', t0 + 61_000);
    guard.sweep(t0 + 200_000);
    expect(guard.size).toEqual({ ips: 0, accounts: 0 });
    guard.close();
  });

  it('reserves slots before the check: in-flight attempts count toward the limits', () => {
    const guard = new AuthGuard(limits, silentLogger());
    const results = Array.from({ length: 8 }, (_, i) => guard.reserve(`198.51.100.${i}`, 'frank@x.test'));
    expect(results.filter((r) => r.ok)).toHaveLength(3);
    expect(results.filter((r) => !r.ok)).toEqual(Array(5).fill({ ok: false, reason: 'account', busy: true }));
    guard.settle('198.51.100.0', 'frank@x.test', 'success');
    expect(guard.reserve('198.51.100.0', 'frank@x.test').ok).toBe(true);
    guard.close();
  });

  it('grows the wait after delayAfter failures, up to its cap', () => {
    const guard = new AuthGuard({ ...limits, maxFailuresPerAccount: 20, maxFailuresPerIp: 100, delayAfter: 2 }, silentLogger());
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const reservation = guard.reserve('203.0.113.1', 'gina@x.test');
      delays.push(reservation.ok ? reservation.delayMs : -1);
      guard.settle('203.0.113.1', 'gina@x.test', 'failure');
    }
    expect(delays).toEqual([0, 0, 1000, 2000, 4000, 8000, 16_000, 16_000, 16_000, 16_000]);
    guard.close();
  });

  it('does not slow down attempts in flight: only failures bring the wait', () => {
    const guard = new AuthGuard({ ...limits, maxFailuresPerAccount: 20, maxFailuresPerIp: 100, delayAfter: 2 }, silentLogger());
    const concurrent = Array.from({ length: 10 }, () => guard.reserve('203.0.113.1', 'ivy@x.test'));
    expect(concurrent.map((r) => (r.ok ? r.delayMs : -1))).toEqual(Array(10).fill(0));
    guard.close();
  });

  it('takes slots never given back (a worker killed during a login) as lost after two minutes', () => {
    const guard = new AuthGuard(limits, silentLogger());
    const t0 = 5_000_000;
    for (let i = 0; i < 3; i++) expect(guard.reserve('198.51.100.1', 'jack@x.test', t0).ok).toBe(true);
    expect(guard.reserve('198.51.100.1', 'jack@x.test', t0 + 1000)).toMatchObject({ ok: false, busy: true });
    expect(guard.reserve('198.51.100.1', 'jack@x.test', t0 + 121_000).ok).toBe(true);
    guard.close();
  });

  it('logs one warning per lockout, naming the account and the address', () => {
    const { log, lines } = capturingLogger();
    const guard = new AuthGuard(limits, log);
    for (let i = 0; i < 6; i++) {
      const reservation = guard.reserve(`203.0.113.${i}`, 'hank@x.test');
      if (reservation.ok) guard.settle(`203.0.113.${i}`, 'hank@x.test', 'failure');
    }
    const warnings = lines.filter((l) => l.level === 40 && 'account' in l);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ account: 'hank@x.test', client: '203.0.113.2', msg: 'account logins locked after too many failed logins' });
    guard.close();
  });
});
