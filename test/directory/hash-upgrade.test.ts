// Bulk-imported password hashes (cheap cost) are re-hashed at the configured cost at
// the first successful login: once per user, however many sessions log in at once,
// one user at a time (other directory requests are not queued behind a burst of them),
// and the upgrade under way finishes before the store closes.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database } from '../../src/store/database.js';
import { DirectoryStore } from '../../src/directory/directory-store.js';
import { Directory } from '../../src/directory/directory.js';
import { hashCost } from '../../src/directory/password.js';
import { start, stop } from '../../src/core/supervision.js';
import { silentLogger } from '../../src/core/logger.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Waits for the background re-hash of an imported password (drain() would drop it). */
async function upgraded(directory: Directory, address: string): Promise<void> {
  for (let i = 0; i < 200 && hashCost(directory.cache.user(address)!.passwordHash) !== 11; i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('password hash upgrade at login', () => {
  it('re-hashes an imported password once, then logins skip scrypt', async () => {
    const db = new Database(dir);
    await db.open();
    const system = start();
    const directory = new Directory(new DirectoryStore(db), silentLogger(), { passwordCost: 11, defaultQuota: 0 });
    await directory.start(system);
    await directory.request((replyTo) => ({ type: 'add-domain', name: 'up.test', replyTo }));
    await directory.request((replyTo) => ({ type: 'add-users', users: [{ address: 'ann@up.test', password: 'pw' }], hashCost: 6, replyTo }));
    expect(hashCost(directory.cache.user('ann@up.test')!.passwordHash)).toBe(6);
    const before = directory.cache.appliedSeq;

    const logins = await Promise.all(Array.from({ length: 8 }, () => directory.authenticate('ann@up.test', 'pw')));
    expect(logins.every((u) => u?.address === 'ann@up.test')).toBe(true);
    expect(await directory.authenticate('ann@up.test', 'wrong')).toBeNull();
    await directory.drain();

    const changes = await directory.changesSince(before);
    // One re-hash (the other user change records the last login, once an hour at most).
    const hashes = changes.filter((c) => c.kind === 'user').map((c) => (c.value as { passwordHash: string }).passwordHash);
    expect(new Set(hashes).size).toBe(1);
    expect(hashCost(directory.cache.user('ann@up.test')!.passwordHash)).toBe(11);
    // The password the new hash was made from is remembered as checked: no scrypt at the new cost.
    const checks = directory.passwordChecks;
    expect(await directory.authenticate('ann@up.test', 'pw')).not.toBeNull();
    expect(directory.passwordChecks).toBe(checks);
    expect(await directory.authenticate('ann@up.test', 'wrong')).toBeNull();
    expect(directory.passwordChecks).toBe(checks + 1);
    stop(system);
    await db.close();
  });

  it('keeps a success checked against the imported hash in another process once it was re-hashed there', async () => {
    // As on the nodes of a cluster: B checked the imported hash itself, A re-hashed it; B
    // learns the new hash from the change feed and must not pay scrypt at the new cost.
    const db = new Database(`${dir}-replica`);
    await db.open();
    const system = start();
    const a = new Directory(new DirectoryStore(db), silentLogger(), { passwordCost: 11, defaultQuota: 0 });
    await a.start(system);
    await a.request((replyTo) => ({ type: 'add-domain', name: 'rep.test', replyTo }));
    await a.request((replyTo) => ({ type: 'add-users', users: [{ address: 'bo@rep.test', password: 'pw' }], hashCost: 6, replyTo }));
    const b = new Directory(null, silentLogger(), { passwordCost: 11, defaultQuota: 0 });
    // B's own upgrade request goes nowhere: A does it.
    b.startReplica({ request: async () => ({ ok: true, value: null }) }, await a.snapshot());
    expect(await b.authenticate('bo@rep.test', 'pw')).not.toBeNull();
    const checksAfterFirst = b.passwordChecks;

    const seq = a.cache.appliedSeq;
    expect(await a.authenticate('bo@rep.test', 'pw')).not.toBeNull();
    await upgraded(a, 'bo@rep.test');
    await a.drain();
    expect(b.applyChanges(await a.changesSince(seq))).toBe(true);
    expect(hashCost(b.cache.user('bo@rep.test')!.passwordHash)).toBe(11);

    expect(await b.authenticate('bo@rep.test', 'pw')).not.toBeNull();
    expect(b.passwordChecks).toBe(checksAfterFirst);
    expect(await b.authenticate('bo@rep.test', 'wrong')).toBeNull();
    expect(b.passwordChecks).toBe(checksAfterFirst + 1);
    stop(system);
    await db.close();
    rmSync(`${dir}-replica`, { recursive: true, force: true });
  });

  it('forgets the re-hash once the password is changed: the old password no longer logs in', async () => {
    const db = new Database(`${dir}-change`);
    await db.open();
    const system = start();
    const a = new Directory(new DirectoryStore(db), silentLogger(), { passwordCost: 11, defaultQuota: 0 });
    await a.start(system);
    await a.request((replyTo) => ({ type: 'add-domain', name: 'chg.test', replyTo }));
    await a.request((replyTo) => ({ type: 'add-users', users: [{ address: 'cy@chg.test', password: 'old' }], hashCost: 6, replyTo }));
    const b = new Directory(null, silentLogger(), { passwordCost: 11, defaultQuota: 0 });
    b.startReplica({ request: async () => ({ ok: true, value: null }) }, await a.snapshot());
    expect(await b.authenticate('cy@chg.test', 'old')).not.toBeNull();
    const seq = a.cache.appliedSeq;
    expect(await a.authenticate('cy@chg.test', 'old')).not.toBeNull();
    await upgraded(a, 'cy@chg.test');
    expect(a.cache.user('cy@chg.test')!.upgradedFrom).toBeDefined();
    await a.request((replyTo) => ({ type: 'set-password', address: 'cy@chg.test', password: 'new', replyTo }));
    expect(a.cache.user('cy@chg.test')!.upgradedFrom).toBeUndefined();
    expect(b.applyChanges(await a.changesSince(seq))).toBe(true);
    expect(await b.authenticate('cy@chg.test', 'old')).toBeNull();
    expect(await b.authenticate('cy@chg.test', 'new')).not.toBeNull();
    stop(system);
    await db.close();
    rmSync(`${dir}-change`, { recursive: true, force: true });
  });

  it('upgrades a burst of first logins one at a time, not ahead of other directory requests', async () => {
    const db = new Database(`${dir}-burst`);
    await db.open();
    const system = start();
    const directory = new Directory(new DirectoryStore(db), silentLogger(), { passwordCost: 11, defaultQuota: 0, upgradePauseMs: 0 });
    await directory.start(system);
    await directory.request((replyTo) => ({ type: 'add-domain', name: 'burst.test', replyTo }));
    const users = Array.from({ length: 20 }, (_, i) => `u${i}@burst.test`);
    await directory.request((replyTo) => ({ type: 'add-users', users: users.map((address) => ({ address, password: 'pw' })), hashCost: 6, replyTo }));
    const atImportCost = () => users.filter((u) => hashCost(directory.cache.user(u)!.passwordHash) === 6).length;

    const logins = await Promise.all(users.map((u) => directory.authenticate(u, 'pw')));
    expect(logins.every((u) => u !== null)).toBe(true);
    // Queued behind at most the one upgrade under way, not behind all twenty.
    await directory.request((replyTo) => ({ type: 'add-domain', name: 'other.test', replyTo }));
    expect(atImportCost()).toBeGreaterThanOrEqual(18);

    for (let i = 0; i < 600 && atImportCost() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(atImportCost()).toBe(0);
    await directory.drain();
    stop(system);
    await db.close();
    rmSync(`${dir}-burst`, { recursive: true, force: true });
  });
});
