// Test support: `ternmail start --workers N` as a real process tree in a temp data
// folder, with its admin API, cluster status, and the mail checks the cluster tests share.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { python } from './clients.js';
import { tempDir } from './server.js';
import { cli, cliPath, freePorts } from './process.js';

export interface WorkerRow {
  node: number;
  pid: number | null;
  roles: string[];
  state: string;
  restarts: number;
  mailboxes: number;
  sessions: number;
}

export class TestCluster {
  readonly data = tempDir();
  ports: { smtp: number; submission: number; pop3: number; imap: number; admin: number } | null = null;
  primary: ChildProcess | null = null;
  output = '';

  /** Starts the primary and waits until every worker runs (unless `waitRunning` is false). */
  /** `args`: more flags, after the ones set here (a repeated flag wins). */
  async start(options: { workers?: number; roles?: string; env?: NodeJS.ProcessEnv; waitRunning?: boolean; args?: string[] } = {}): Promise<void> {
    if (!this.ports) {
      const [smtp, submission, pop3, imap, admin] = await freePorts(5);
      this.ports = { smtp, submission, pop3, imap, admin };
    }
    const workers = options.workers ?? 2;
    rmSync(path.join(this.data, 'admin.json'), { force: true });
    const p = this.ports;
    this.primary = spawn(process.execPath, [cliPath, 'start', '--workers', String(workers), ...(options.roles ? ['--roles', options.roles] : []),
      '--data', this.data, '--smtp-port', String(p.smtp), '--submission-port', String(p.submission), '--pop3-port', String(p.pop3),
      '--imap-port', String(p.imap), '--admin-port', String(p.admin), ...(options.args ?? [])], {
      env: { ...process.env, TERNMAIL_PASSWORD_COST: '10', TERNMAIL_IMPORT_PASSWORD_COST: '8', TERNMAIL_RETRY_SCHEDULE: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.primary.stdout!.on('data', (c) => (this.output += c));
    this.primary.stderr!.on('data', (c) => (this.output += c));
    const outputBefore = this.output.length;
    const deadline = Date.now() + 20_000;
    while (!existsSync(path.join(this.data, 'admin.json'))) {
      // The first lines of this start say why (a worker's crash traces follow and would hide them).
      const started = this.output.slice(outputBefore);
      if (Date.now() > deadline) throw new Error(`cluster did not start: ${started.slice(0, 3000)}\n…\n${started.slice(-1000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (options.waitRunning !== false) await this.waitForWorkers((rows) => rows.length === workers && rows.every((r) => r.state === 'running'));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const primary = this.primary;
    if (!primary || primary.exitCode !== null || primary.signalCode !== null) return;
    const exited = new Promise((r) => primary.once('exit', r));
    primary.kill(signal);
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.data, { recursive: true, force: true });
  }

  async admin<T>(method: string, route: string): Promise<T> {
    const { url, token } = JSON.parse(readFileSync(path.join(this.data, 'admin.json'), 'utf8'));
    return (await (await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}` } })).json()) as T;
  }

  async workers(): Promise<WorkerRow[]> {
    return (await this.admin<{ workers: WorkerRow[] }>('GET', '/v1/cluster')).workers;
  }

  /** Worker rows are refreshed by heartbeats (every second): waits until they satisfy `ok`. */
  async waitForWorkers(ok: (rows: WorkerRow[]) => boolean, timeoutMs = 20_000): Promise<WorkerRow[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await this.workers().catch(() => []);
      if (ok(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`workers not as expected: ${JSON.stringify(rows)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  cli(args: string[]) {
    return cli([...args, '--data', this.data]);
  }

  async addUsers(domain: string, users: string[]): Promise<void> {
    await this.cli(['domain', 'add', domain]);
    for (const user of users) expect((await this.cli(['user', 'add', user, '--password', 'pw'])).code).toBe(0);
  }

  /** Waits until `count` messages are stored and nothing is queued. */
  async waitDelivered(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stats = JSON.parse((await this.cli(['stats'])).stdout || '{}');
      if (stats.messages >= count && stats.queued === 0) return;
      if (Date.now() > deadline) throw new Error(`not delivered: ${JSON.stringify(stats)}, expected ${count}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The Subject of every message in the users' mailboxes, read over POP3 (password "pw"). */
  async subjects(users: string[]): Promise<string[]> {
    const { stdout, code, stderr } = await python(`
import poplib, sys, json
ids = []
for user in sys.argv[2].split(','):
    p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user(user); p.pass_('pw')
    for i in range(p.stat()[0]):
        ids += [l[9:].decode() for l in p.top(i + 1, 0)[1] if l.startswith(b'Subject: ')]
    p.quit()
print(json.dumps(ids))
`, [String(this.ports!.pop3), users.join(',')]);
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout);
  }
}

/** Every acknowledged id is stored, and none twice. */
export function expectExactlyOnce(stored: string[], acked: Set<string>): void {
  const counts = new Map<string, number>();
  for (const id of stored) counts.set(id, (counts.get(id) ?? 0) + 1);
  expect([...acked].filter((id) => !counts.has(id))).toEqual([]);
  expect([...counts].filter(([, n]) => n > 1).map(([id]) => id)).toEqual([]);
}
