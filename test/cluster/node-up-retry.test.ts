// A worker killed with -9 comes back within seconds; the deliveries the other worker
// deferred while it was gone ("node N unavailable") must go as soon as it is back, not
// at their next backoff step (a minute away here): the primary announces the node up.
import { afterAll, describe, expect, it } from 'vitest';
import { sendWithReconnect } from '../support/smtp-load.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const users = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'].map((u) => `${u}@up.test`);

afterAll(async () => cluster.destroy());

describe('a cluster worker back after kill -9', () => {
  it('gets every delivery that waited for it within 10 s of its restart, exactly once', async () => {
    await cluster.start({ env: { TERNMAIL_RETRY_SCHEDULE: '60' } });
    await cluster.addUsers('up.test', users);
    const placed = await cluster.waitForWorkers((rows) => rows.reduce((n, w) => n + w.mailboxes, 0) === users.length || rows.length === 2);
    expect(placed).toHaveLength(2);
    const acked = new Set<string>();
    const victim = (await cluster.workers())[1];
    const load = Promise.all([0, 1, 2, 3].map((w) => sendWithReconnect({
      port: cluster.ports!.smtp, worker: w, recipients: (i) => users[(i + w) % users.length], acked, count: 250, deadline: Date.now() + 40_000,
    })));
    // The kill lands while mail still flows (a fixed pause let a fast server finish first).
    while (acked.size < 40) await new Promise((r) => setTimeout(r, 5));
    process.kill(victim.pid!, 'SIGKILL');
    await cluster.waitForWorkers((rows) => rows[1].state === 'running' && rows[1].pid !== victim.pid);
    const restartedAt = Date.now();
    await load;
    expect(acked.size).toBeGreaterThan(300);
    // The other worker did hold mail for the dead worker's mailboxes.
    expect(cluster.output).toContain('forwarding to the mailbox node failed; queued here');
    expect(cluster.output).toContain('node 2 unavailable');
    await cluster.waitDelivered(acked.size, Math.max(1000, restartedAt + 10_000 - Date.now()));
    expectExactlyOnce(await cluster.subjects(users), acked);
  });
});
