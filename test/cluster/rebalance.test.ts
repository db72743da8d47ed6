// Cluster rebalance: after a second store worker joins, `ternmail cluster rebalance`
// moves mailboxes until both hold the same number, while mail keeps arriving for
// them; every acknowledged message ends up exactly once in its mailbox. Stopping a
// rebalance halfway leaves every mailbox whole and reachable.
import { afterAll, describe, expect, it } from 'vitest';
import { sendWithReconnect } from '../support/smtp-load.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const users = Array.from({ length: 8 }, (_, i) => `m${i}@rb.test`);
afterAll(async () => cluster.destroy());

const counts = (ok: (c: number[]) => boolean) => cluster.waitForWorkers((rows) => ok(rows.map((r) => r.mailboxes)), 10_000)
  .then((rows) => rows.map((r) => r.mailboxes));

describe('ternmail cluster rebalance', () => {
  const acked = new Set<string>();

  it('moves mailboxes to a new store worker while mail keeps arriving', async () => {
    await cluster.start({ roles: 'mta,access,store;mta,access' });
    await cluster.addUsers('rb.test', users);
    await sendWithReconnect({ port: cluster.ports!.smtp, worker: 0, recipients: (i) => users[i % users.length], acked, count: 80, deadline: Date.now() + 20_000 });
    await cluster.waitDelivered(80);
    expect(await counts((c) => c[0] === 8)).toEqual([8, 0]);
    await cluster.stop();

    await cluster.start();
    const load = Promise.all([1, 2].map((w) => sendWithReconnect({
      port: cluster.ports!.smtp, worker: w, recipients: (i) => users[(i + w) % users.length], acked, count: 60, deadline: Date.now() + 30_000,
    })));
    const result = await cluster.cli(['cluster', 'rebalance']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\[#+\] 4\/4 mailboxes/);
    expect(result.stdout).toMatch(/rebalance finished: 4 moved, 0 skipped of 4/);
    await load;
    await cluster.waitDelivered(acked.size);
    expect(await counts((c) => c[0] === 4 && c[1] === 4)).toEqual([4, 4]);
    expectExactlyOnce(await cluster.subjects(users), acked);
  });

  it('stops safely between two moves', async () => {
    await cluster.stop();
    await cluster.start({ roles: 'mta,access,store;mta,access' });
    const extra = Array.from({ length: 6 }, (_, i) => `n${i}@rb.test`);
    for (const u of extra) await cluster.cli(['user', 'add', u, '--password', 'pw']);
    users.push(...extra);
    const before = acked.size;
    await sendWithReconnect({ port: cluster.ports!.smtp, worker: 9, recipients: (i) => extra[i % extra.length], acked, count: 30, deadline: Date.now() + 20_000 });
    await cluster.waitDelivered(before + 30);
    await cluster.stop();
    await cluster.start();
    await cluster.admin('POST', '/v1/cluster/rebalance');
    const stopped = await cluster.admin<{ stopRequested: boolean }>('DELETE', '/v1/cluster/rebalance');
    expect(stopped.stopRequested).toBe(true);
    let progress: { running: boolean; moved: number; toMove: number };
    do {
      await new Promise((r) => setTimeout(r, 100));
      progress = await cluster.admin('GET', '/v1/cluster/rebalance');
    } while (progress.running);
    expect(progress.moved).toBeLessThan(progress.toMove);
    const total = await counts((c) => c[0] + c[1] === users.length);
    expect(total[0] + total[1]).toBe(users.length);
    expectExactlyOnce(await cluster.subjects(users), acked);
  });
});
