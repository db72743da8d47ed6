// Work sharing: mail for mailboxes on several store workers is queued on the worker that
// accepted it (a front worker with little delivery capacity); the idle store workers
// borrow its ready deliveries (leases, results reported back), and every acknowledged
// message is delivered exactly once to every recipient.
import { afterAll, describe, expect, it } from 'vitest';
import { sendWithReconnect } from '../support/smtp-load.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const users = Array.from({ length: 6 }, (_, i) => `w${i}@share.test`);
afterAll(async () => cluster.destroy());

describe('work sharing between workers', () => {
  it('lets idle workers take queued deliveries from a busy one', async () => {
    await cluster.start({
      workers: 3,
      roles: 'mta,access;store;store',
      env: { TERNMAIL_LOCAL_DELIVERY_CONCURRENCY: '1', TERNMAIL_LEND_THRESHOLD: '5', TERNMAIL_HEARTBEAT_INTERVAL: '100' },
    });
    await cluster.addUsers('share.test', users);
    // Mailboxes created together are spread over both store workers, so mail to the
    // alias is never queued on one of them: the front worker queues it.
    expect((await cluster.cli(['alias', 'add', 'all@share.test', users.join(',')])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    const acked = new Set<string>();
    await Promise.all([0, 1].map((w) => sendWithReconnect({
      port: cluster.ports!.smtp, worker: w, recipients: () => 'all@share.test', acked, count: 40, deadline: Date.now() + 30_000,
    })));
    expect(acked.size).toBe(80);
    await cluster.waitDelivered(80 * users.length, 60_000);
    for (const user of users) expectExactlyOnce(await cluster.subjects([user]), acked);
    const rows = await cluster.admin<{ workers: Array<{ node: number; borrowed: number; mailboxes: number }> }>('GET', '/v1/cluster');
    expect(rows.workers.map((w) => w.mailboxes)).toEqual([0, 3, 3]);
    expect(rows.workers[1].borrowed + rows.workers[2].borrowed).toBeGreaterThan(0);
    expect(rows.workers[0].borrowed).toBe(0);
  }, 90_000);
});
