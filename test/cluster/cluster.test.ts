// The cluster on one machine, as real processes: `ternmail start --workers 2`. Mailboxes
// are placed on both workers and reachable from either; directory changes reach every
// worker; a worker killed with -9 is restarted and no acknowledged message is lost;
// after a kill -9 of the primary the whole cluster comes back with all its mail.
import { afterAll, describe, expect, it } from 'vitest';
import { python } from '../support/clients.js';
import { sendWithReconnect } from '../support/smtp-load.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';

const cluster = new TestCluster();
const users = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((u) => `${u}@cl.test`);

afterAll(async () => cluster.destroy());

async function logins(password: string): Promise<number> {
  const { stdout } = await python(`
import poplib, sys
ok = 0
for i in range(6):
    p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('late@cl.test')
    try:
        p.pass_(sys.argv[2]); ok += 1
    except poplib.error_proto:
        pass
    p.quit()
print(ok)
`, [String(cluster.ports!.pop3), password]);
  return Number(stdout.trim());
}

describe('ternmail start --workers 2', () => {
  const acked = new Set<string>();

  it('places mailboxes on both workers and serves every mailbox from either', async () => {
    await cluster.start();
    await cluster.addUsers('cl.test', users);
    await sendWithReconnect({ port: cluster.ports!.smtp, worker: 0, recipients: (i) => users[i % users.length], acked, count: 60, deadline: Date.now() + 20_000 });
    expect(acked.size).toBe(60);
    await cluster.waitDelivered(60);
    const rows = await cluster.waitForWorkers((r) => r.reduce((n, w) => n + w.mailboxes, 0) === users.length);
    expect(rows.map((r) => r.mailboxes)).toEqual([3, 3]);
    for (let round = 0; round < 2; round++) expectExactlyOnce(await cluster.subjects(users), acked);
  });

  it('shows a directory change on every worker within a second', async () => {
    expect((await cluster.cli(['user', 'add', 'late@cl.test', '--password', 'pw'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await logins('pw')).toBe(6);
    expect((await cluster.cli(['user', 'passwd', 'late@cl.test', '--password', 'new'])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await logins('new')).toBe(6);
  });

  it('restarts a worker killed with -9; no acknowledged message is lost or doubled', async () => {
    const before = await cluster.workers();
    const victim = before[1];
    const load = Promise.all([0, 1, 2, 3].map((w) => sendWithReconnect({
      port: cluster.ports!.smtp, worker: 10 + w, recipients: (i) => users[(i + w) % users.length], acked, count: 80, deadline: Date.now() + 30_000,
    })));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(victim.pid!, 'SIGKILL');
    await load;
    const after = await cluster.waitForWorkers((rows) => rows[1].restarts === victim.restarts + 1 && rows[1].state === 'running' && rows[1].pid !== victim.pid);
    expect(after[0].pid).toBe(before[0].pid);
    expect(acked.size).toBeGreaterThan(60 + 200);
    await cluster.waitDelivered(acked.size);
    expectExactlyOnce(await cluster.subjects(users), acked);
    const status = await cluster.cli(['cluster', 'status']);
    expect(status.stdout).toMatch(/^ID\s+PID\s+ROLES\s+STATE/m);
    expect(status.stdout).toMatch(/^2\s+\d+\s+mta,store,access\s+running\s+\d+s\s+1\s/m);
  });

  it('comes back with all acknowledged mail after a kill -9 of the primary', async () => {
    const workerPids = (await cluster.workers()).map((r) => r.pid!);
    await cluster.stop('SIGKILL');
    const deadline = Date.now() + 15_000;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (workerPids.some(alive)) {
      if (Date.now() > deadline) throw new Error('workers outlived the primary');
      await new Promise((r) => setTimeout(r, 100));
    }
    await cluster.start();
    await cluster.waitDelivered(acked.size);
    expectExactlyOnce(await cluster.subjects(users), acked);
  });
});
