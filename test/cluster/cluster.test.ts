// The cluster on one machine, as real processes: `ternmail start --workers 2`. Mailboxes
// are placed on both workers and reachable from either; directory changes reach every
// worker; a worker killed with -9 is restarted and no acknowledged message is lost;
// after a kill -9 of the primary the whole cluster comes back with all its mail.
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

afterAll(async () => {
  if (primary && primary.exitCode === null) {
    primary.kill('SIGTERM');
    await new Promise((r) => primary!.once('exit', r));
  }
  rmSync(data, { recursive: true, force: true });
});

interface ClusterRow { node: number; pid: number | null; state: string; restarts: number; mailboxes: number }

async function startCluster(): Promise<void> {
  if (ports.length === 0) ports = await freePorts(5);
  const [smtp, submission, pop3, imap, admin] = ports;
  rmSync(path.join(data, 'admin.json'), { force: true });
  primary = spawn(process.execPath, [cliPath, 'start', '--workers', '2', '--data', data, '--smtp-port', String(smtp), '--submission-port', String(submission),
    '--pop3-port', String(pop3), '--imap-port', String(imap), '--admin-port', String(admin), '--log-level', 'warn'], {
    env: { ...process.env, TERNMAIL_PASSWORD_COST: '10', TERNMAIL_IMPORT_PASSWORD_COST: '8', TERNMAIL_RETRY_SCHEDULE: '1' }, stdio: ['ignore', 'ignore', 'ignore'],
  });
  const deadline = Date.now() + 20_000;
  while (!existsSync(path.join(data, 'admin.json'))) {
    if (Date.now() > deadline) throw new Error('cluster did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  await waitForWorkers((rows) => rows.length === 2 && rows.every((r) => r.state === 'running'));
}

async function status(): Promise<ClusterRow[]> {
  const { url, token } = JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8'));
  const res = await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { workers: ClusterRow[] }).workers;
}

async function waitForWorkers(ok: (rows: ClusterRow[]) => boolean, timeoutMs = 20_000): Promise<ClusterRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await status().catch(() => []);
    if (ok(rows)) return rows;
    if (Date.now() > deadline) throw new Error(`workers not as expected: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stats(): Promise<{ messages: number; queued: number }> {
  return JSON.parse((await cli(['stats', '--data', data])).stdout);
}

async function storedSubjects(users: string[]): Promise<string[]> {
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

async function waitDelivered(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await stats().catch(() => ({ messages: -1, queued: -1 }));
    if (s.messages >= count && s.queued === 0) return;
    if (Date.now() > deadline) throw new Error(`not delivered: ${JSON.stringify(s)}, expected ${count}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const users = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'].map((u) => `${u}@cl.test`);

function expectExactlyOnce(stored: string[], acked: Set<string>): void {
  const counts = new Map<string, number>();
  for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect([...acked].filter((id) => !counts.has(id))).toEqual([]);
  expect([...counts].filter(([, n]) => n > 1).map(([id]) => id)).toEqual([]);
}

describe('ternmail start --workers 2', () => {
  const acked = new Set<string>();

  it('places mailboxes on both workers and serves every mailbox from either', async () => {
    await startCluster();
    await cli(['domain', 'add', 'cl.test', '--data', data]);
    for (const user of users) expect((await cli(['user', 'add', user, '--password', 'pw', '--data', data])).code).toBe(0);
    await sendWithReconnect({ port: ports[0], worker: 0, recipients: (i) => users[i % users.length], acked, count: 60, deadline: Date.now() + 20_000 });
    expect(acked.size).toBe(60);
    await waitDelivered(60);
    const rows = await waitForWorkers((r) => r.reduce((n, w) => n + w.mailboxes, 0) === users.length);
    expect(rows.map((r) => r.mailboxes)).toEqual([3, 3]);
    for (let round = 0; round < 2; round++) expectExactlyOnce(await storedSubjects(users), acked);
  });

  it('shows a directory change on every worker within a second', async () => {
    expect((await cli(['user', 'add', 'late@cl.test', '--password', 'pw', '--data', data])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    const logins = await python(`
import poplib, sys
ok = 0
for i in range(6):
    p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('late@cl.test')
    try:
        p.pass_('pw'); ok += 1
    except poplib.error_proto:
        pass
    p.quit()
print(ok)
`, [String(ports[2])]);
    expect(logins.stdout.trim()).toBe('6');
    expect((await cli(['user', 'passwd', 'late@cl.test', '--password', 'new', '--data', data])).code).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    const old = await python(`
import poplib, sys
refused = 0
for i in range(6):
    p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('late@cl.test')
    try:
        p.pass_('pw')
    except poplib.error_proto:
        refused += 1
    p.quit()
print(refused)
`, [String(ports[2])]);
    expect(old.stdout.trim()).toBe('6');
  });

  it('restarts a worker killed with -9; no acknowledged message is lost or doubled', async () => {
    const before = await status();
    const victim = before[1];
    const load = Promise.all([0, 1, 2, 3].map((w) => sendWithReconnect({
      port: ports[0], worker: 10 + w, recipients: (i) => users[(i + w) % users.length], acked, count: 80, deadline: Date.now() + 30_000,
    })));
    await new Promise((r) => setTimeout(r, 300));
    process.kill(victim.pid!, 'SIGKILL');
    await load;
    const after = await waitForWorkers((rows) => rows[1].restarts === victim.restarts + 1 && rows[1].state === 'running' && rows[1].pid !== victim.pid);
    expect(after[0].pid).toBe(before[0].pid);
    expect(acked.size).toBeGreaterThan(60 + 200);
    await waitDelivered(acked.size);
    expectExactlyOnce(await storedSubjects(users), acked);
    const cliStatus = await cli(['cluster', 'status', '--data', data]);
    expect(cliStatus.stdout).toMatch(/^ID\s+PID\s+ROLES\s+STATE/m);
    expect(cliStatus.stdout).toMatch(/^2\s+\d+\s+mta,store,access\s+running\s+\d+s\s+1\s/m);
  });

  it('comes back with all acknowledged mail after a kill -9 of the primary', async () => {
    const workerPids = (await status()).map((r) => r.pid!);
    primary!.kill('SIGKILL');
    await new Promise((r) => primary!.once('exit', r));
    const deadline = Date.now() + 15_000;
    while (workerPids.some((pid) => { try { process.kill(pid, 0); return true; } catch { return false; } })) {
      if (Date.now() > deadline) throw new Error('workers outlived the primary');
      await new Promise((r) => setTimeout(r, 100));
    }
    await startCluster();
    await waitDelivered(acked.size);
    expectExactlyOnce(await storedSubjects(users), acked);
  });
});
