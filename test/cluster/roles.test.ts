// Worker roles: with `--roles "mta,access;store"` worker 1 takes every connection and
// worker 2 holds every mailbox; mail accepted on one is delivered to and read from the other.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, cliPath, freePorts } from '../support/process.js';

const data = tempDir();
let primary: ChildProcess | null = null;

afterAll(async () => {
  if (primary && primary.exitCode === null) {
    primary.kill('SIGTERM');
    await new Promise((r) => primary!.once('exit', r));
  }
  rmSync(data, { recursive: true, force: true });
});

describe('worker roles', () => {
  it('separates access/mta and store workers', async () => {
    const [smtp, submission, pop3, imap, admin] = await freePorts(5);
    primary = spawn(process.execPath, [cliPath, 'start', '--workers', '2', '--roles', 'mta,access;store', '--data', data,
      '--smtp-port', String(smtp), '--submission-port', String(submission), '--pop3-port', String(pop3), '--imap-port', String(imap),
      '--admin-port', String(admin), '--log-level', 'warn'], { env: { ...process.env, TERNMAIL_PASSWORD_COST: '10' }, stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    const status = async () => {
      const { url, token } = JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8'));
      return (await (await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        workers: Array<{ node: number; roles: string[]; state: string; mailboxes: number; sessions: number }>;
      };
    };
    for (;;) {
      const ready = existsSync(path.join(data, 'admin.json')) && (await status().catch(() => null))?.workers.every((w) => w.state === 'running');
      if (ready) break;
      if (Date.now() > deadline) throw new Error('cluster did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    await cli(['domain', 'add', 'roles.test', '--data', data]);
    for (const u of ['r1', 'r2', 'r3']) await cli(['user', 'add', `${u}@roles.test`, '--password', 'pw', '--data', data]);
    const { stdout, code, stderr } = await python(`
import smtplib, poplib, sys, time
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
for u in ['r1', 'r2', 'r3']:
    s.sendmail('x@remote.test', [u + '@roles.test'], ('Subject: to ' + u + '\\r\\n\\r\\nhi\\r\\n').encode())
s.quit()
time.sleep(1.5)
for u in ['r1', 'r2', 'r3']:
    p = poplib.POP3('127.0.0.1', int(sys.argv[2])); p.user(u + '@roles.test'); p.pass_('pw')
    print(u, p.stat()[0], [l.decode() for l in p.top(1, 0)[1] if l.startswith(b'Subject')])
    p.quit()
`, [String(smtp), String(pop3)]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("r1 1 ['Subject: to r1']");
    expect(stdout).toContain("r3 1 ['Subject: to r3']");
    const rows = (await status()).workers;
    expect(rows.map((w) => [w.node, w.roles.join(','), w.mailboxes])).toEqual([[1, 'mta,access', 0], [2, 'store', 3]]);
  });
});
