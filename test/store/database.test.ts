// Group commit: synced commits issued together share synced batches (fewer fsyncs
// than commits), every commit resolves only once its ops are on disk, and a reopened
// database holds every committed op.
import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database, put } from '../../src/store/database.js';
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

  it('tells each committer when its batch failed', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const db = new Database(dir);
    await db.open();
    await db.close();
    await expect(db.commit([put('meta', 'late', Buffer.from('x'))])).rejects.toThrow();
  });
});
