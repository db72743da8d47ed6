// Work sharing: with all mail arriving on a worker whose delivery capacity is small,
// the idle store worker borrows ready deliveries from it (leases, results reported
// back); every acknowledged message is delivered exactly once.
import { afterAll, describe, expect, it } from 'vitest';
import { sendWithReconnect } from '../support/smtp-load.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const users = Array.from({ length: 10 }, (_, i) => `w${i}@share.test`);
afterAll(async () => cluster.destroy());

describe('work sharing between workers', () => {
  it('lets an idle worker take queued deliveries from a busy one', async () => {
    await cluster.start({
      roles: 'mta,access;store',
      env: { TERNMAIL_LOCAL_DELIVERY_CONCURRENCY: '1', TERNMAIL_LEND_THRESHOLD: '5', TERNMAIL_HEARTBEAT_INTERVAL: '100' },
    });
    await cluster.addUsers('share.test', users);
    const acked = new Set<string>();
    await Promise.all([0, 1, 2, 3].map((w) => sendWithReconnect({
      port: cluster.ports!.smtp, worker: w, recipients: (i) => users[(i + w) % users.length], acked, count: 150, deadline: Date.now() + 30_000,
    })));
    expect(acked.size).toBe(600);
    await cluster.waitDelivered(600, 60_000);
    expectExactlyOnce(await cluster.subjects(users), acked);
    const rows = await cluster.admin<{ workers: Array<{ node: number; borrowed: number }> }>('GET', '/v1/cluster');
    expect(rows.workers[1].borrowed).toBeGreaterThan(0);
    expect(rows.workers[0].borrowed).toBe(0);
  }, 90_000);
});
