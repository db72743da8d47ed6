// The router actor spreads new mailboxes evenly, also when many are placed at once
// (first deliveries arriving together), keeps a placement once made, and answers
// without a store node with an error instead of crashing.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database } from '../../src/store/database.js';
import { DirectoryStore } from '../../src/directory/directory-store.js';
import { Directory } from '../../src/directory/directory.js';
import { spawn, start, stop, type Ref } from '../../src/core/supervision.js';
import { silentLogger } from '../../src/core/logger.js';
import { initialRouterState, placeMailbox, routerBehaviour, type RouterMessage, type StoreNodeLoad } from '../../src/cluster/router.js';
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
    let nodes: StoreNodeLoad[] = [1, 2, 3].map((node) => ({ node, state: 'running', stats: { blobBytes: 0 } }));
    const router = spawn(system, routerBehaviour(directory, () => nodes), 'router', { initialStateFunc: initialRouterState }) as Ref<RouterMessage>;
    const place = (mailboxId: string) => placeMailbox(router, mailboxId);
    const placed = await Promise.all(Array.from({ length: 30 }, (_, i) => place(`mb-${i % 25}`)));
    // 25 mailboxes, 5 of them asked for twice at once: one placement each.
    expect(placed.slice(25)).toEqual(placed.slice(0, 5));
    expect([...directory.cache.mailboxesPerNode().values()].sort()).toEqual([8, 8, 9]);
    expect(await place('mb-7')).toBe(placed[7]);
    nodes[0].state = 'backoff';
    const later = await Promise.all(Array.from({ length: 4 }, (_, i) => place(`new-${i}`)));
    expect(later.every((n) => n !== 1)).toBe(true);
    nodes = [];
    await expect(place('nowhere')).rejects.toThrow('no store node');
    expect(await place('mb-3')).toBe(placed[3]);
    stop(system);
    await db.close();
  });
});
