// The hold a cluster backup's cut relies on (src/admin/cluster-backup.ts): while a
// store holds its writes, commits and unsynced writes wait (none is lost, none is
// acknowledged), a commit already being written finishes first, and a snapshot taken
// then contains exactly what was written before the hold; release lets the rest go.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database, put } from '../../src/store/database.js';
import { tempDir } from '../support/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function keysOf(entries: AsyncIterable<[string, Buffer]>): Promise<string[]> {
  const keys: string[] = [];
  // The store's own format record is there from the open: only the test's keys count.
  for await (const [key] of entries) if (key !== '!meta!format') keys.push(key);
  return keys;
}

describe('Database.hold (a backup cut)', () => {
  it('holds commits and writes until release, after the one under way; a snapshot then has exactly what came before', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = new Database(dir);
    await db.open();
    const before = db.commit([put('meta', 'before', Buffer.from('1'))]);
    const held = db.hold();
    // Issued after the hold began: they wait.
    let acknowledged = false;
    const during = db.commit([put('meta', 'during', Buffer.from('2'))]).then(() => (acknowledged = true));
    let written = false;
    const unsynced = db.write([put('meta', 'unsynced', Buffer.from('3'))]).then(() => (written = true));
    await held;
    await before;
    const cut = db.snapshotEntries();
    // Whatever else runs meanwhile, nothing held goes through before release.
    await new Promise((r) => setTimeout(r, 50));
    expect([acknowledged, written]).toEqual([false, false]);
    expect(await db.get('meta', 'during')).toBeUndefined();

    db.release();
    await Promise.all([during, unsynced]);
    expect(await db.get('meta', 'during')).toEqual(Buffer.from('2'));
    expect(await db.get('meta', 'unsynced')).toEqual(Buffer.from('3'));
    // The snapshot was taken at the call, during the hold: read later, it still has only what came before.
    expect(await keysOf(cut)).toEqual(['!meta!before']);
    expect(await keysOf(db.snapshotEntries())).toEqual(['!meta!before', '!meta!during', '!meta!unsynced']);
    await db.close();
  });

  it('lets held commits finish when the database closes', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = new Database(dir);
    await db.open();
    await db.hold();
    const during = db.commit([put('meta', 'k', Buffer.from('v'))]);
    await db.close();
    await during;
    const reopened = new Database(dir);
    await reopened.open();
    expect(await reopened.get('meta', 'k')).toEqual(Buffer.from('v'));
    await reopened.close();
  });
});
