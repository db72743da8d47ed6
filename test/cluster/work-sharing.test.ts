// Work sharing: mail too large to be sent on to the workers holding its mailboxes is
// queued where it arrived, on a front worker with little delivery capacity; the idle
// store workers borrow its ready deliveries (leases, results reported back), and
// every acknowledged message is delivered exactly once to every recipient.
import { afterAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const users = Array.from({ length: 6 }, (_, i) => `w${i}@share.test`);
afterAll(async () => cluster.destroy());

/** Sends one message of about `size` bytes per id (Subject = the id) to `to` over one connection: the ids acknowledged. */
async function send(to: string, ids: string[], size: number): Promise<Set<string>> {
  const { stdout, stderr, code } = await python(`
import smtplib, sys, json
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
acked = []
for id in sys.argv[3].split(','):
    body = ('Subject: %s\\r\\n\\r\\n' % id) + ('x' * 998 + '\\r\\n') * (int(sys.argv[4]) // 1000)
    s.sendmail('load@remote.test', [sys.argv[2]], body)
    acked.append(id)
s.quit()
print(json.dumps(acked))
`, [String(cluster.ports!.smtp), to, ids.join(','), String(size)]);
  expect(code, stderr).toBe(0);
  return new Set(JSON.parse(stdout) as string[]);
}

describe('work sharing between workers', () => {
  it('lets idle workers take queued deliveries from a busy one', async () => {
    await cluster.start({
      workers: 3,
      roles: 'mta,access;store;store',
      env: { TERNMAIL_LOCAL_DELIVERY_CONCURRENCY: '1', TERNMAIL_LEND_THRESHOLD: '5', TERNMAIL_HEARTBEAT_INTERVAL: '100' },
    });
    await cluster.addUsers('share.test', users);
    expect((await cluster.cli(['alias', 'add', 'all@share.test', users.join(',')])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    // The first message places the six mailboxes, three on each store worker.
    const acked = await send('all@share.test', ['first'], 1000);
    await cluster.waitDelivered(users.length);
    // Bodies over 1 MiB are not sent on at DATA: the front worker queues them.
    for (const id of await send('all@share.test', Array.from({ length: 12 }, (_, i) => `big${i}`), 1_200_000)) acked.add(id);
    expect(acked.size).toBe(13);
    await cluster.waitDelivered(13 * users.length, 60_000);
    for (const user of users) expectExactlyOnce(await cluster.subjects([user]), acked);
    const rows = await cluster.admin<{ workers: Array<{ node: number; borrowed: number; mailboxes: number }> }>('GET', '/v1/cluster');
    expect(rows.workers.map((w) => w.mailboxes)).toEqual([0, 3, 3]);
    expect(rows.workers[1].borrowed + rows.workers[2].borrowed).toBeGreaterThan(0);
    expect(rows.workers[0].borrowed).toBe(0);
  }, 90_000);
});
