// Running ternmail as a service: the systemd unit in the repo passes
// `systemd-analyze verify`; started as root with --user, the server binds privileged
// ports and then runs as that user, still storing mail: one process, and a cluster of
// --workers 2 whose every process (a restarted worker too) runs as the user, and
// whose primary exits 75 once it would have to bind port 25 again; --user is refused
// where it cannot work.
import { afterEach, describe, expect, it } from 'vitest';
import { copyFileSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { python, run } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, cliPath, killAfterEach, startProcess } from '../support/process.js';
import { TestCluster } from '../support/cluster.js';
import { childrenOf, idsOf, notOwnedBy, uidOf } from '../support/process-ids.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const running = killAfterEach(afterEach);
const isRoot = process.getuid?.() === 0;

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


  it.skipIf(!isRoot)('with --workers 2: ports 25 and 110 bound as root, then the primary and every worker run as nobody and serve mail; exits 75 when it would have to bind again', async () => {
    const cluster = new TestCluster();
    try {
      await cluster.start({ workers: 2, args: ['--bind', '127.0.0.48', '--smtp-port', '25', '--pop3-port', '110', '--user', 'nobody'] });
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
      const nogroup = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
      const asNobody = { uid: [nobody, nobody, nobody, nobody], gid: [nogroup, nogroup, nogroup, nogroup] };
      const primary = cluster.primary!.pid!;
      await waitFor(async () => uidOf(primary) === nobody, 10_000, 'the primary to run as nobody');
      const workerPids = (await cluster.workers()).map((w) => w.pid!);
      expect(workerPids).toHaveLength(2);
      expect(childrenOf(primary).sort()).toEqual([...workerPids].sort());
      for (const pid of [primary, ...workerPids]) expect(idsOf(pid), `process ${pid}`).toEqual(asNobody);
      const ps = execFileSync('ps', ['-o', 'user=', '-p', [primary, ...workerPids].join(',')], { encoding: 'utf8' }).trim().split('\n').map((l) => l.trim());
      expect(ps).toEqual(['nobody', 'nobody', 'nobody']);

      await cluster.addUsers('example.test', ['alice@example.test', 'bob@example.test']);
      const mail = async (subject: string) => {
        const sent = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.48', 25)
for to in ('alice@example.test', 'bob@example.test'):
    s.sendmail('someone@remote.test', [to], ('Subject: %s\\r\\n\\r\\nhi\\r\\n' % sys.argv[1]).encode())
s.quit()
`, [subject]);
        expect(sent.code, sent.stderr).toBe(0);
      };
      const subjects = async () => {
        const read = await python(`
import poplib, json
out = []
for user in ('alice@example.test', 'bob@example.test'):
    p = poplib.POP3('127.0.0.48', 110); p.user(user); p.pass_('pw')
    out += [l[9:].decode() for i in range(p.stat()[0]) for l in p.top(i + 1, 0)[1] if l.startswith(b'Subject: ')]
    p.quit()
print(json.dumps(sorted(out)))
`);
        expect(read.code, read.stderr).toBe(0);
        return JSON.parse(read.stdout) as string[];
      };
      await mail('low ports');
      await cluster.waitDelivered(2);
      expect(await subjects()).toEqual(['low ports', 'low ports']);

      // A worker killed is restarted as nobody, and takes the listeners back from its sibling.
      process.kill(workerPids[0]!, 'SIGKILL');
      const rows = await cluster.waitForWorkers((r) => r.length === 2 && r.every((w) => w.state === 'running' && w.pid !== null) && r.some((w) => !workerPids.includes(w.pid!)));
      for (const row of rows) expect(idsOf(row.pid!), `worker ${row.node}`).toEqual(asNobody);
      await mail('after a restart');
      await cluster.waitDelivered(4);
      expect(await subjects()).toEqual(['after a restart', 'after a restart', 'low ports', 'low ports']);
      expect(notOwnedBy(cluster.data, nobody)).toEqual([]);

      // Both workers gone at once: no process holds port 25 any more, and the primary, no
      // longer root, cannot bind it again: it exits 75 for its service manager to restart it.
      const exited = new Promise<number | null>((resolve) => cluster.primary!.once('exit', (code) => resolve(code)));
      for (const row of await cluster.workers()) process.kill(row.pid!, 'SIGKILL');
      expect(await exited).toBe(75);
      expect(cluster.output).toMatch(/"level":60[^\n]*cannot bind them again as --user/);
    } finally {
      await cluster.destroy();
    }
  });

  it('refuses an unknown user, and a switch when not root', async () => {
    const unknown = await cli(['start', '--data', tempDir(), '--user', 'no-such-user-here']);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, 'ternmail: --user no-such-user-here: no such user']);
    if (!isRoot) return;
    const notRoot = await run('runuser', ['-u', 'nobody', '--', process.execPath, cliPath, 'start', '--data', path.join('/tmp', `ternmail-not-root-${process.pid}`), '--user', 'root']);
    expect(notRoot.code).toBe(2);
    expect(notRoot.stderr).toContain('--user root: only root can switch to another user');
  });
});
