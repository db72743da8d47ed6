// A worker that keeps dying (here: its data folder cannot be created) is restarted
// quickly at first, then backed off and shown as such in `cluster status` and the
// log; once the fault is gone it comes back by itself. The other worker serves on.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, cliPath, freePorts } from '../support/process.js';

const data = tempDir();
let primary: ChildProcess | null = null;
let output = '';

afterAll(async () => {
  if (primary && primary.exitCode === null) {
    primary.kill('SIGTERM');
    await new Promise((r) => primary!.once('exit', r));
  }
  rmSync(data, { recursive: true, force: true });
});

interface Row { node: number; state: string; restarts: number }

async function rows(): Promise<Row[]> {
  const { url, token } = JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8'));
  return ((await (await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${token}` } })).json()) as { workers: Row[] }).workers;
}

async function until(ok: (r: Row[]) => boolean, timeoutMs: number): Promise<Row[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = existsSync(path.join(data, 'admin.json')) ? await rows().catch(() => []) : [];
    if (ok(current)) return current;
    if (Date.now() > deadline) throw new Error(`timed out; workers: ${JSON.stringify(current)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a crash-looping worker', () => {
  it('is backed off, reported, and recovers when the fault is gone', async () => {
    const [smtp, submission, pop3, imap, admin] = await freePorts(5);
    const blocker = path.join(data, 'node-2');
    writeFileSync(blocker, 'not a folder');
    primary = spawn(process.execPath, [cliPath, 'start', '--workers', '2', '--data', data, '--smtp-port', String(smtp), '--submission-port', String(submission),
      '--pop3-port', String(pop3), '--imap-port', String(imap), '--admin-port', String(admin)], { env: { ...process.env, TERNMAIL_PASSWORD_COST: '10' }, stdio: ['ignore', 'pipe', 'pipe'] });
    primary.stdout!.on('data', (c) => (output += c));
    primary.stderr!.on('data', (c) => (output += c));

    const backedOff = await until((r) => r[1]?.state === 'backoff', 20_000);
    expect(backedOff[0].state).toBe('running');
    expect(backedOff[1].restarts).toBeGreaterThan(5);
    expect(output).toMatch(/"crashLoop":true[^\n]*worker exited; restarting/);
    expect((await cli(['cluster', 'status', '--data', data])).stdout).toMatch(/^2\s+-\s+mta,store,access\s+backoff\s/m);

    await cli(['domain', 'add', 'loop.test', '--data', data]);
    await cli(['user', 'add', 'still@loop.test', '--password', 'pw', '--data', data]);
    const served = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); print(s.sendmail('x@remote.test', ['still@loop.test'], b'Subject: up\\r\\n\\r\\nx\\r\\n')); s.quit()
`, [String(smtp)]);
    expect(served.stdout.trim()).toBe('{}');

    rmSync(blocker);
    await until((r) => r[1]?.state === 'running', 30_000);
  }, 60_000);
});
