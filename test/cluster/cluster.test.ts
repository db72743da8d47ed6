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

interface TransactionLine { pid: number; rcpts: string[]; nodes?: Record<string, number>; result: string }

/** The `smtp transaction` log lines the workers wrote since `from`. */
function transactions(from: number): TransactionLine[] {
  return cluster.output.slice(from).split('\n').filter((l) => l.includes('"smtp transaction"')).map((l) => JSON.parse(l) as TransactionLine);
}

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

  it('queues mail on the worker holding its mailboxes, whichever worker accepted it', async () => {
    const from = cluster.output.length;
    await sendWithReconnect({ port: cluster.ports!.smtp, worker: 5, recipients: (i) => users[i % users.length], acked, count: 60, deadline: Date.now() + 20_000 });
    expect(acked.size).toBe(120);
    await cluster.waitDelivered(120);
    expectExactlyOnce(await cluster.subjects(users), acked);
    const pids = new Map((await cluster.workers()).map((w) => [w.pid!, w.node]));
    const owners = new Map<string, Set<number>>();
    const lines = transactions(from);
    let forwarded = 0;
    for (const event of lines) {
      expect(event.result).toBe('queued');
      // Queued on the accepting worker itself, or (`nodes`) sent to the worker holding the mailbox.
      const sentTo = Object.keys(event.nodes ?? {}).map(Number);
      const queuedOn = sentTo.length > 0 ? sentTo[0] : pids.get(event.pid)!;
      if (sentTo.length > 0) forwarded += 1;
      const seen = owners.get(event.rcpts[0]) ?? new Set();
      owners.set(event.rcpts[0], seen.add(queuedOn));
    }
    expect(lines.length).toBe(60);
    // Connections are spread over both workers: about half of them had to forward.
    expect(forwarded).toBeGreaterThan(5);
    expect(forwarded).toBeLessThan(55);
    for (const [rcpt, nodes] of owners) expect([rcpt, nodes.size]).toEqual([rcpt, 1]);
  });

  it('splits mail for mailboxes on both workers: each worker queues its own recipients, the body sent once', async () => {
    const group = ['g1', 'g2', 'g3', 'g4'].map((u) => `${u}@cl.test`);
    for (const user of group) expect((await cluster.cli(['user', 'add', user, '--password', 'pw'])).code).toBe(0);
    expect((await cluster.cli(['alias', 'add', 'group@cl.test', group.join(',')])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    const before = JSON.parse((await cluster.cli(['stats'])).stdout).messages as number;
    const groupAcked = new Set<string>();
    // The first message places the four mailboxes, two on each worker (placements in flight count).
    await sendWithReconnect({ port: cluster.ports!.smtp, worker: 6, recipients: () => 'group@cl.test', acked: groupAcked, count: 1, deadline: Date.now() + 20_000 });
    await cluster.waitDelivered(before + 4);
    expect((await cluster.workers()).map((w) => w.mailboxes)).toEqual([5, 5]);
    const from = cluster.output.length;
    await sendWithReconnect({ port: cluster.ports!.smtp, worker: 7, recipients: () => 'group@cl.test', acked: groupAcked, count: 20, deadline: Date.now() + 20_000 });
    expect(groupAcked.size).toBe(21);
    await cluster.waitDelivered(before + 84);
    for (const user of group) expectExactlyOnce(await cluster.subjects([user]), groupAcked);
    // Every message left two recipients where it arrived and sent one copy, for two, to the other worker.
    const events = transactions(from);
    expect(events.length).toBe(20);
    for (const event of events) expect(Object.values(event.nodes ?? {})).toEqual([2]);
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
    // Mail for the dead worker's mailboxes was queued where it arrived (some of it possibly
    // queued on the dead worker too, before it died): still exactly once.
    expect(cluster.output).toContain('forwarding to the mailbox node failed; queued here');
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
