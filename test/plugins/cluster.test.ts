// Plugins in a cluster: every worker loads them (here the DKIM signer, loaded by the
// keys in DATA/dkim), and `ternmail plugins` on the primary lists each worker's.
import { afterAll, describe, expect, it } from 'vitest';
import { TestCluster } from '../support/cluster.js';
import { generateDkimKey, saveDkimKey } from '../../src/plugins/dkim-keys.js';

const cluster = new TestCluster();
afterAll(() => cluster.destroy());

describe('plugins in a cluster', () => {
  it('load on every worker and are listed per node by ternmail plugins', async () => {
    saveDkimKey(cluster.data, generateDkimKey('example.test', 'sel', 'rsa'));
    await cluster.start({ workers: 2 });
    const json = await cluster.cli(['plugins', '--json']);
    expect(json.stderr).toBe('');
    const rows = JSON.parse(json.stdout) as Array<{ node: number; name: string; state: string }>;
    expect(rows.map((r) => `${r.node}:${r.name}:${r.state}`).sort()).toEqual(['1:dkim-sign:running', '2:dkim-sign:running']);
    const text = await cluster.cli(['plugins']);
    expect(text.stdout).toMatch(/^node 1  dkim-sign  ternmail\/plugins\/dkim-sign  running/m);
  }, 60_000);
});
