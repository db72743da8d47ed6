// `npm start` as a developer runs it: stopping npm (SIGTERM or SIGINT to npm's pid, as
// a process supervisor or a terminal would) stops the server too, so its ports and
// the store's lock are free again instead of held by an orphaned node process. npm
// passes on no other signal: `ternmail reload` and `ternmail log reopen` reach the
// server itself through the data folder's pid file.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Level } from 'level';
import { tempDir, waitFor } from '../support/server.js';
import { cli, freePorts } from '../support/process.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const started: ChildProcess[] = [];

afterEach(() => {
  // Whatever a failed test left running: npm's whole process group.
  for (const npm of started.splice(0)) {
    try {
      process.kill(-npm.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

async function storeUnlocked(data: string): Promise<boolean> {
  const db = new Level(path.join(data, 'store'));
  try {
    await db.open();
    await db.close();
    return true;
  } catch {
    return false;
  }
}

/** `logFile`: the server logs there (TERNMAIL_LOG_FILE) instead of standard output. */
async function npmStart(data: string, logFile?: string): Promise<{ npm: ChildProcess; ports: number[]; output: () => string }> {
  const ports = await freePorts(5);
  const [smtp, submission, pop3, imap, admin] = ports;
  const npm = spawn('npm', ['start', '--', '--data', data], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, TERNMAIL_SMTP_PORT: String(smtp), TERNMAIL_SUBMISSION_PORT: String(submission), TERNMAIL_POP3_PORT: String(pop3),
      TERNMAIL_IMAP_PORT: String(imap), TERNMAIL_ADMIN_PORT: String(admin), TERNMAIL_PASSWORD_COST: '10',
      ...(logFile ? { TERNMAIL_LOG_FILE: logFile } : {}),
    },
  });
  started.push(npm);
  let output = '';
  npm.stdout!.on('data', (c) => (output += c));
  npm.stderr!.on('data', (c) => (output += c));
  const deadline = Date.now() + 30_000;
  const logged = () => (logFile ? (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') : output);
  while (!(/ternmail started/.test(logged()) && existsSync(path.join(data, 'admin.json')))) {
    if (npm.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not start the server: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { npm, ports, output: () => output };
}

describe('npm start', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops the server when npm gets %s', async (signal) => {
    const data = tempDir();
    const { npm, ports, output } = await npmStart(data);
    expect(await listening(ports[0])).toBe(true);
    expect(await storeUnlocked(data)).toBe(false);
    process.kill(npm.pid!, signal);
    await waitFor(async () => !(await Promise.all(ports.map(listening))).some(Boolean), 10_000, 'ports to be free');
    await waitFor(() => storeUnlocked(data), 10_000, `store lock released: ${output()}`);
  });

  it('reloads and reopens the log of a server npm started, through ternmail reload and ternmail log reopen', async () => {
    const data = tempDir();
    const logFile = path.join(tempDir(), 'ternmail.log');
    const { npm } = await npmStart(data, logFile);
    const reloaded = await cli(['reload', '--data', data]);
    expect(reloaded.code, reloaded.stderr).toBe(0);
    const serverPid = Number(readFileSync(path.join(data, 'ternmail.pid'), 'utf8'));
    expect(serverPid).not.toBe(npm.pid);
    expect(reloaded.stdout.trim()).toBe(`reload (settings, TLS key and certificate) requested: SIGHUP sent to pid ${serverPid}`);
    await waitFor(async () => /"msg":"reload requested"/.test(readFileSync(logFile, 'utf8')), 10_000, 'the reload in the log');

    renameSync(logFile, `${logFile}.1`);
    const reopened = await cli(['log', 'reopen', '--data', data]);
    expect(reopened.code, reopened.stderr).toBe(0);
    await waitFor(async () => existsSync(logFile) && /"msg":"log file reopened"/.test(readFileSync(logFile, 'utf8')), 10_000, 'a new log file');
    // Still serving: neither signal stopped it.
    expect(npm.exitCode).toBe(null);
    expect((await cli(['stats', '--data', data])).code).toBe(0);
  });

  it('refuses to signal a pid that is not a ternmail server (a stale pid file)', async () => {
    const data = tempDir();
    writeFileSync(path.join(data, 'ternmail.pid'), `${process.pid}\n`);
    const result = await cli(['reload', '--data', data]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`ternmail: server not running: pid ${process.pid} of ${data} is not a ternmail server (a stale pid file)`);
    const missing = await cli(['log', 'reopen', '--data', tempDir()]);
    expect(missing.stderr).toContain('server not running: no pid file in');
  });
});
