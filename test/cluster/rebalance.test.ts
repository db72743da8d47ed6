// Cluster rebalance: after a second store worker joins, `ternmail cluster rebalance`
// moves mailboxes until both hold the same number, while mail keeps arriving for
// them; every acknowledged message ends up exactly once in its mailbox. Stopping a
// rebalance halfway leaves every mailbox whole and reachable.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, cliPath, freePorts } from '../support/process.js';
import { sendWithReconnect } from '../support/smtp-load.js';

const data = tempDir();
let ports: number[] = [];
let primary: ChildProcess | null = null;
const users = Array.from({ length: 8 }, (_, i) => `m${i}@rb.test`);

afterAll(async () => {
  await stopCluster();
  rmSync(data, { recursive: true, force: true });
});

async function admin<T>(method: string, route: string): Promise<T> {
  const { url, token } = JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8'));
  return (await (await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}` } })).json()) as T;
}

async function startCluster(roles: string): Promise<void> {
  if (ports.length === 0) ports = await freePorts(5);
  rmSync(path.join(data, 'admin.json'), { force: true });
  primary = spawn(process.execPath, [cliPath, 'start', '--workers', '2', '--roles', roles, '--data', data, '--smtp-port', String(ports[0]),
    '--submission-port', String(ports[1]), '--pop3-port', String(ports[2]), '--imap-port', String(ports[3]), '--admin-port', String(ports[4]), '--log-level', 'warn'],
  { env: { ...process.env, TERNMAIL_PASSWORD_COST: '10', TERNMAIL_RETRY_SCHEDULE: '1' }, stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const rows = existsSync(path.join(data, 'admin.json')) ? (await admin<{ workers: Array<{ state: string }> }>('GET', '/v1/cluster').catch(() => null))?.workers : null;
    if (rows && rows.length === 2 && rows.every((w) => w.state === 'running')) return;
    if (Date.now() > deadline) throw new Error('cluster did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopCluster(): Promise<void> {
  if (!primary || primary.exitCode !== null) return;
  primary.kill('SIGTERM');
  await new Promise((r) => primary!.once('exit', r));
}

async function mailboxCounts(): Promise<number[]> {
  return (await admin<{ workers: Array<{ mailboxes: number }> }>('GET', '/v1/cluster')).workers.map((w) => w.mailboxes);
}

/** Worker rows are refreshed by heartbeats (every second): wait until they show `ok`. */
async function countsWhen(ok: (counts: number[]) => boolean): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const counts = await mailboxCounts();
    if (ok(counts) || Date.now() > deadline) return counts;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function subjects(): Promise<string[]> {
  const { stdout, code, stderr } = await python(`
import poplib, sys, json
ids = []
for user in sys.argv[2].split(','):
    p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user(user); p.pass_('pw')
    for i in range(p.stat()[0]):
        ids += [l[9:].decode() for l in p.top(i + 1, 0)[1] if l.startswith(b'Subject: ')]
    p.quit()
print(json.dumps(ids))
`, [String(ports[2]), users.join(',')]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

async function settled(expected: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const stats = JSON.parse((await cli(['stats', '--data', data])).stdout);
    if (stats.messages >= expected && stats.queued === 0) return;
    if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify(stats)} expected ${expected}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function exactlyOnce(stored: string[], acked: Set<string>): void {
  const counts = new Map<string, number>();
  for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect([...acked].filter((id) => !counts.has(id))).toEqual([]);
  expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
}

describe('ternmail cluster rebalance', () => {
  const acked = new Set<string>();

  it('moves mailboxes to a new store worker while mail keeps arriving', async () => {
    await startCluster('mta,access,store;mta,access');
    await cli(['domain', 'add', 'rb.test', '--data', data]);
    for (const u of users) await cli(['user', 'add', u, '--password', 'pw', '--data', data]);
    await sendWithReconnect({ port: ports[0], worker: 0, recipients: (i) => users[i % users.length], acked, count: 80, deadline: Date.now() + 20_000 });
    await settled(80);
    expect(await countsWhen((c) => c[0] === 8)).toEqual([8, 0]);
    await stopCluster();

    await startCluster('mta,access,store');
    const load = Promise.all([1, 2].map((w) => sendWithReconnect({
      port: ports[0], worker: w, recipients: (i) => users[(i + w) % users.length], acked, count: 60, deadline: Date.now() + 30_000,
    })));
    const result = await cli(['cluster', 'rebalance', '--data', data]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\[#+\] 4\/4 mailboxes/);
    expect(result.stdout).toMatch(/rebalance finished: 4 moved, 0 skipped of 4/);
    await load;
    await settled(acked.size);
    expect(await countsWhen((c) => c[0] === 4 && c[1] === 4)).toEqual([4, 4]);
    exactlyOnce(await subjects(), acked);
  });

  it('stops safely between two moves', async () => {
    await stopCluster();
    await startCluster('mta,access,store;mta,access');
    const extra = Array.from({ length: 6 }, (_, i) => `n${i}@rb.test`);
    for (const u of extra) await cli(['user', 'add', u, '--password', 'pw', '--data', data]);
    users.push(...extra);
    const before = acked.size;
    await sendWithReconnect({ port: ports[0], worker: 9, recipients: (i) => extra[i % extra.length], acked, count: 30, deadline: Date.now() + 20_000 });
    await settled(before + 30);
    await stopCluster();
    await startCluster('mta,access,store');
    await admin('POST', '/v1/cluster/rebalance');
    const stopped = await admin<{ stopRequested: boolean }>('DELETE', '/v1/cluster/rebalance');
    expect(stopped.stopRequested).toBe(true);
    let progress: { running: boolean; moved: number; toMove: number };
    do {
      await new Promise((r) => setTimeout(r, 100));
      progress = await admin('GET', '/v1/cluster/rebalance');
    } while (progress.running);
    expect(progress.moved).toBeLessThan(progress.toMove);
    const counts = await countsWhen((c) => c[0] + c[1] === users.length);
    expect(counts[0] + counts[1]).toBe(users.length);
    exactlyOnce(await subjects(), acked);
  });
});
