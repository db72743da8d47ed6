// Safe defaults of `ternmail start` as an operator meets them: the admin API stays on
// loopback when the listeners face the world, the data folder is private, and a start
// that cannot proceed says why in one line (folder in use, permission, port taken).
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, killAfterEach, cliPath, freePorts, startProcess, type ServerProcess } from '../support/process.js';

const running = killAfterEach(afterEach);

async function start(data: string, args: string[] = []): Promise<ServerProcess> {
  const server = await startProcess(data, args);
  running.push(server);
  return server;
}

/** `ternmail start` expected to fail: its exit code and what it wrote to stderr. */
async function failedStart(args: string[], options: { uid?: number } = {}): Promise<{ code: number | null; stderr: string }> {
  const result = spawnSync(process.execPath, [cliPath, 'start', ...args], {
    encoding: 'utf8', timeout: 20_000, uid: options.uid, gid: options.uid,
    env: { ...process.env, TERNMAIL_PASSWORD_COST: '10' },
  });
  return { code: result.status, stderr: result.stderr };
}

function portArgs(ports: number[]): string[] {
  const [smtp, submission, pop3, imap, admin] = ports;
  return ['--smtp-port', String(smtp), '--submission-port', String(submission), '--pop3-port', String(pop3), '--imap-port', String(imap), '--admin-port', String(admin)];
}

function connects(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** An address of this machine that is not loopback, if it has one. */
function externalAddress(): string | undefined {
  return Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? [full, ...filesUnder(full)] : [full];
  });
}

describe('ternmail start: safe defaults', () => {
  it('keeps the admin API on 127.0.0.1 when --bind 0.0.0.0 opens the mail listeners', async () => {
    const data = tempDir();
    const server = await start(data, ['--bind', '0.0.0.0']);
    const admin = JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8')) as { url: string };
    expect(admin.url).toBe(`http://127.0.0.1:${server.ports.admin}`);
    expect(server.output()).toMatch(/"listener":"mx","port":\d+,"bind":"0.0.0.0"/);
    expect(await connects(server.ports.admin, '127.0.0.1')).toBe(true);
    const external = externalAddress();
    if (external) {
      expect(await connects(server.ports.smtp, external)).toBe(true);
      expect(await connects(server.ports.admin, external)).toBe(false);
    }
    expect((await cli(['stats', '--data', data])).code).toBe(0);
    expect((await cli(['start', '--help'])).stdout).toMatch(/--admin-bind ADDR +admin HTTP API address, apart from --bind \(default 127\.0\.0\.1\)/);
  });

  it('creates the data folder 0700 (tightening an existing one) and its files 0600', async () => {
    const data = tempDir();
    chmodSync(data, 0o755);
    const server = await start(data);
    expect(server.output()).toMatch(/data folder access tightened to its owner/);
    expect((await cli(['domain', 'add', 'modes.test', '--data', data])).code).toBe(0);
    expect((await cli(['user', 'add', 'mo@modes.test', '--password', 'pw', '--data', data])).code).toBe(0);
    const sent = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail('someone@remote.test', ['mo@modes.test'], b'Subject: modes\\r\\n\\r\\nprivate\\r\\n'); s.quit()
`, [String(server.ports.smtp)]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(statSync(data).mode & 0o777).toBe(0o700);
    const paths = filesUnder(data);
    expect(paths.some((p) => p.endsWith('.log') || p.endsWith('.ldb'))).toBe(true);
    const open = paths.filter((p) => (statSync(p).mode & 0o077) !== 0).map((p) => `${p} ${(statSync(p).mode & 0o777).toString(8)}`);
    expect(open).toEqual([]);
  });

  it('names the pid holding a data folder that is in use', async () => {
    const data = tempDir();
    const first = await start(data);
    const second = await failedStart(['--data', data, ...portArgs(await freePorts(5))]);
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim()).toBe(`ternmail: data folder ${data} is in use by pid ${first.child.pid}`);
    expect(first.child.exitCode).toBeNull();
  });

  it('names the pid holding a cluster\'s data folder', async () => {
    const data = tempDir();
    const first = await start(data, ['--workers', '2']);
    const second = await failedStart(['--data', data, '--workers', '2', ...portArgs(await freePorts(5))]);
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim()).toBe(`ternmail: data folder ${data} is in use by pid ${first.child.pid}`);
  });

  it('names the port and its setting when a port is taken', async () => {
    const ports = await freePorts(5);
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(ports[0], '127.0.0.1', resolve));
    try {
      const result = await failedStart(['--data', tempDir(), ...portArgs(ports)]);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim()).toBe(`ternmail: port ${ports[0]} already in use (smtpPort, --smtp-port)`);
    } finally {
      holder.close();
    }
  });

  it('names an unreadable TLS key', async () => {
    const missing = path.join(tempDir(), 'missing-key.pem');
    const result = spawnSync(process.execPath, [cliPath, 'start', '--data', tempDir(), ...portArgs(await freePorts(5))], {
      encoding: 'utf8', timeout: 20_000, env: { ...process.env, TERNMAIL_TLS_KEY: missing, TERNMAIL_TLS_CERT: missing },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr.trim()).toMatch(new RegExp(`^ternmail: cannot read TLS key ${missing}: ENOENT[^\n]*$`));
  });

  it('names the path it may not write', async () => {
    const parent = tempDir();
    chmodSync(parent, 0o700);
    const data = path.join(parent, 'data');
    const result = await failedStart(['--data', data, ...portArgs(await freePorts(5))], { uid: 65534 });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toBe(`ternmail: permission denied: ${data}`);
  });

  it('names the store it may not open', async () => {
    const data = tempDir();
    mkdirSync(path.join(data, 'store'), { mode: 0o700 });
    chownSync(data, 65534, 65534);
    const result = await failedStart(['--data', data, ...portArgs(await freePorts(5))], { uid: 65534 });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toMatch(new RegExp(`^ternmail: permission denied: ${data}/store(/LOCK)?$`));
  });
});
