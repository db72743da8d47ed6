// Running ternmail as a service: the systemd unit in the repo passes
// `systemd-analyze verify`; started as root with --user, the server binds a privileged
// port and then runs as that user, still storing mail; --user is refused where it
// cannot work.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { python, run } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, killAfterEach, startProcess } from '../support/process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const running = killAfterEach(afterEach);
const isRoot = process.getuid?.() === 0;

function uidOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^Uid:\s+(\d+)/m.exec(status)![1]);
}

describe('systemd unit', () => {
  it('passes systemd-analyze verify', async () => {
    const dir = tempDir();
    copyFileSync(path.join(root, 'dist/systemd/ternmail.service'), path.join(dir, 'ternmail.service'));
    const result = await run('systemd-analyze', ['verify', path.join(dir, 'ternmail.service')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('starts the command its ExecStart names, with its environment', () => {
    const unit = readFileSync(path.join(root, 'dist/systemd/ternmail.service'), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1].split(' ');
    expect(execStart.slice(1)).toEqual(['/opt/ternmail/build/src/cli/main.js', 'start']);
    expect(unit).toMatch(/^Environment=TERNMAIL_CONFIG=\/etc\/ternmail\/config\.json$/m);
    expect(unit).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
  });
});

describe('privileged ports with --user', () => {
  it.skipIf(!isRoot)('binds port 25 on 127.0.0.47 as root, then runs as nobody and still stores mail', async () => {
    const data = tempDir();
    const server = await startProcess(data, ['--bind', '127.0.0.47', '--smtp-port', '25', '--user', 'nobody']);
    running.push(server);
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    await waitFor(async () => uidOf(server.child.pid!) === nobody, 5000, 'the server to run as nobody');
    expect(statSync(path.join(data, 'store')).uid).toBe(nobody);
    expect(statSync(path.join(data, 'admin.json')).uid).toBe(nobody);

    expect((await cli(['domain', 'add', 'example.test', '--data', data])).code).toBe(0);
    expect((await cli(['user', 'add', 'alice@example.test', '--password', 'pw', '--data', data])).code).toBe(0);
    const sent = await python(`
import smtplib
s = smtplib.SMTP('127.0.0.47', 25); s.sendmail('someone@remote.test', ['alice@example.test'], b'Subject: low port\\r\\n\\r\\nhi\\r\\n'); s.quit()
`);
    expect(sent.code, sent.stderr).toBe(0);
    await waitFor(async () => JSON.parse((await cli(['stats', '--data', data])).stdout).messages === 1, 10_000, 'the message stored');
  });


  it('refuses an unknown user, and --user with --workers', async () => {
    const unknown = await cli(['start', '--data', tempDir(), '--user', 'no-such-user-here']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, 'ternmail: --user no-such-user-here: no such user']);
    if (!isRoot) return;
    const cluster = await cli(['start', '--data', tempDir(), '--user', 'nobody', '--workers', '2']);
    expect(cluster.code).toBe(2);
    expect(cluster.stderr).toContain('AmbientCapabilities=CAP_NET_BIND_SERVICE');
  });
});
