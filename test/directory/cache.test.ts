// Recipient resolution on the directory cache: users, aliases to local and remote
// targets, catch-all, loops; and the change feed keeping the cache current.
import { describe, expect, it } from 'vitest';
import { DirectoryCache } from '../../src/directory/cache.js';
import type { DirectoryEntry } from '../../src/directory/records.js';

function cacheWith(entries: DirectoryEntry[]): DirectoryCache {
  const cache = new DirectoryCache();
  entries.forEach((entry, i) => cache.apply({ ...entry, seq: i + 1 } as never));
  return cache;
}

const user = (address: string) => ({ kind: 'user' as const, key: address, value: { address, passwordHash: 'x', quota: 0, mailboxId: address, created: 0 } });

describe('DirectoryCache.resolve', () => {
  const cache = cacheWith([
    { kind: 'domain', key: 'a.test', value: { name: 'a.test', created: 0 } },
    user('ann@a.test'), user('bob@a.test'),
    { kind: 'alias', key: 'team@a.test', value: { address: 'team@a.test', targets: ['ann@a.test', 'bob@a.test', 'ext@remote.test'] } },
    { kind: 'alias', key: 'ann@a.test', value: { address: 'ann@a.test', targets: ['ann@a.test', 'archive@remote.test'] } },
    { kind: 'alias', key: 'loop1@a.test', value: { address: 'loop1@a.test', targets: ['loop2@a.test'] } },
    { kind: 'alias', key: 'loop2@a.test', value: { address: 'loop2@a.test', targets: ['loop1@a.test'] } },
  ]);

  it('finds users case-insensitively', () => {
    expect(cache.resolve('BOB@A.test')).toEqual({ ok: true, recipients: [expect.objectContaining({ kind: 'local', address: 'bob@a.test' })] });
  });

  it('expands aliases to local and remote targets, keeping a self-reference as the mailbox', () => {
    const result = cache.resolve('team@a.test');
    expect(result.ok && result.recipients.map((r) => `${r.kind}:${r.address}`).sort()).toEqual([
      'local:ann@a.test', 'local:bob@a.test', 'remote:archive@remote.test', 'remote:ext@remote.test',
    ]);
  });

  it('refuses unknown local users, non-local domains and loops', () => {
    expect(cache.resolve('nobody@a.test')).toEqual({ ok: false, reason: 'unknown-user' });
    expect(cache.resolve('x@elsewhere.test')).toEqual({ ok: false, reason: 'not-local' });
    expect(cache.resolve('loop1@a.test').ok).toBe(false);
  });

  it('uses a catch-all only when no user or alias matches', () => {
    const withCatchAll = cacheWith([
      { kind: 'domain', key: 'c.test', value: { name: 'c.test', created: 0 } },
      user('boss@c.test'), user('real@c.test'),
      { kind: 'alias', key: '@c.test', value: { address: '@c.test', targets: ['boss@c.test'] } },
    ]);
    expect(withCatchAll.resolve('real@c.test').ok && withCatchAll.resolve('real@c.test')).toMatchObject({ recipients: [{ address: 'real@c.test' }] });
    expect(withCatchAll.resolve('anything@c.test')).toMatchObject({ ok: true, recipients: [{ address: 'boss@c.test' }] });
  });

  it('applies changes in feed order and ignores ones already applied', () => {
    const feed = new DirectoryCache();
    feed.apply({ ...user('x@a.test'), seq: 1 } as never);
    feed.apply({ kind: 'user', key: 'x@a.test', value: null, seq: 2 });
    feed.apply({ ...user('x@a.test'), seq: 1 } as never);
    expect(feed.users.has('x@a.test')).toBe(false);
    expect(feed.appliedSeq).toBe(2);
  });
});

describe('DirectoryCache placement counts', () => {
  const placement = (mailboxId: string, node: number | null) =>
    ({ kind: 'placement' as const, key: mailboxId, value: node === null ? null : { mailboxId, node } });

  it('counts mailboxes per node through placements, moves and removals, from a snapshot too', () => {
    const cache = cacheWith([placement('m1', 1), placement('m2', 1), placement('m3', 2), placement('m1', 2), placement('m2', null)]);
    expect(Object.fromEntries(cache.mailboxesPerNode())).toEqual({ 1: 0, 2: 2 });
    const loaded = new DirectoryCache();
    loaded.load([placement('a', 3), placement('b', 3), placement('c', 1)], 7);
    expect(Object.fromEntries(loaded.mailboxesPerNode())).toEqual({ 1: 1, 3: 2 });
    loaded.apply({ ...placement('a', 1), seq: 8 });
    expect(Object.fromEntries(loaded.mailboxesPerNode())).toEqual({ 1: 2, 3: 1 });
  });
});
