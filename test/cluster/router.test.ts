// The router spreads new mailboxes evenly, also when many are placed at once
// (first deliveries arriving together), and keeps a placement once made.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database } from '../../src/store/database.js';
import { DirectoryStore } from '../../src/directory/directory-store.js';
import { Directory } from '../../src/actors/directory.js';
import { start, stop } from '../../src/actors/supervision.js';
import { silentLogger } from '../../src/logger.js';
import { Router } from '../../src/cluster/router.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Router', () => {
  it('places concurrent new mailboxes evenly and keeps placements', async () => {
    const db = new Database(dir);
    await db.open();
    const system = start();
    const directory = new Directory(new DirectoryStore(db), silentLogger(), { passwordCost: 8, defaultQuota: 0 });
    await directory.start(system);
    const nodes = [1, 2, 3].map((node) => ({ node, state: 'running', stats: { blobBytes: 0 } }));
    const router = new Router(directory, () => nodes);
    const placed = await Promise.all(Array.from({ length: 30 }, (_, i) => router.place(`mb-${i}`)));
    const perNode = [1, 2, 3].map((n) => placed.filter((p) => p === n).length);
    expect(perNode).toEqual([10, 10, 10]);
    expect(await router.place('mb-7')).toBe(placed[7]);
    nodes[0].state = 'backoff';
    const later = await Promise.all(Array.from({ length: 4 }, (_, i) => router.place(`new-${i}`)));
    expect(later.every((n) => n !== 1)).toBe(true);
    stop(system);
    await db.close();
  });
});
