// Group commit: synced commits issued together share synced batches (fewer fsyncs
// than commits), every commit resolves only once its ops are on disk, and a reopened
// database holds every committed op.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database, del, put } from '../../src/store/database.js';
import { tempDir } from '../support/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('Database.commit (group commit)', () => {
  it('merges concurrent commits into fewer synced batches, and loses none', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = new Database(dir);
    await db.open();
    const commits = Array.from({ length: 500 }, (_, i) => db.commit([put('meta', `k${String(i).padStart(4, '0')}`, Buffer.from(`v${i}`))]));
    await Promise.all(commits);
    expect(db.commitStats.commits).toBe(500);
    expect(db.commitStats.batches).toBeLessThan(100);
    await db.close();

    const reopened = new Database(dir);
    await reopened.open();
    let count = 0;
    for await (const [key, value] of reopened.scan('meta', 'k')) {
      expect(value.toString()).toBe(`v${Number(key.slice(1))}`);
      count += 1;
    }
    expect(count).toBe(500);
    await reopened.close();
  });

  it('puts the commits of one turn of the event loop into one synced batch, the first one included', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = new Database(dir);
    await db.open();
    // Issued in one turn with the committer idle: the first does not go alone.
    await Promise.all(Array.from({ length: 20 }, (_, i) => db.commit([put('meta', `t${i}`, Buffer.from('x'))])));
    expect(db.commitStats).toEqual({ batches: 1, commits: 20 });
    for (let i = 0; i < 20; i++) expect((await db.get('meta', `t${i}`))?.toString()).toBe('x');
    await db.close();
  });

  it('tells each committer when its batch failed', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = new Database(dir);
    await db.open();
    await db.close();
    await expect(db.commit([put('meta', 'late', Buffer.from('x'))])).rejects.toThrow();
  });
});

describe('Database batches (chained, per key space) and the memtable size', () => {
  it('writes puts and deletes into their own key spaces, synced and unsynced, with a small or default memtable', async () => {
    for (const writeBufferSize of [undefined, 64 * 1024]) {
      const dir = tempDir('ternmail-db-');
      dirs.push(dir);
      let db = new Database(dir, { writeBufferSize });
      await db.open();
      const value = Buffer.alloc(4096, 7);
      for (let i = 0; i < 200; i++) {
        await db.commit([put('blob', `k${i}`, value), put('bref', `k${i}:q`, Buffer.alloc(0)), put('queue', `k${i}`, Buffer.from(String(i)))]);
      }
      await db.write(Array.from({ length: 100 }, (_, i) => del('queue', `k${i}`)));
      await db.commit([del('bref', 'k0:q'), put('meta', 'm', Buffer.from('x'))]);
      await db.close();
      db = new Database(dir, { writeBufferSize });
      await db.open();
      expect((await db.get('blob', 'k199'))?.equals(value)).toBe(true);
      expect(await db.get('blob', 'k0:q')).toBeUndefined(); // key spaces stay apart
      expect(await db.get('bref', 'k0:q')).toBeUndefined();
      expect(await db.get('bref', 'k1:q')).toEqual(Buffer.alloc(0));
      expect(await db.get('queue', 'k99')).toBeUndefined();
      expect((await db.get('queue', 'k100'))?.toString()).toBe('100');
      const keys: string[] = [];
      for await (const k of db.scanKeys('queue', '')) keys.push(k);
      expect(keys.length).toBe(100);
      await db.close();
    }
  });
});
