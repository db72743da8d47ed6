// The CLI finds the running server from any folder: --data, then TERNMAIL_DATA, then
// the config file's server.data (--config or TERNMAIL_CONFIG); it says "server not
// running" only when the server's process is gone. `config show` tells where each
// setting came from; `config check` validates what `start` would read.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../support/server.js';
import { cliPath, killAfterEach, startProcess } from '../support/process.js';

const running = killAfterEach(afterEach);

/** The CLI run from `cwd`, with only the environment given (plus PATH). */
function cliIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('finding the server', () => {
  it('reaches a server from another folder through --data, TERNMAIL_DATA or the config file, --data first', async () => {
    const data = tempDir();
    running.push(await startProcess(data));
    const elsewhere = tempDir();
    const configFile = path.join(tempDir(), 'ternmail.json');
    writeFileSync(configFile, JSON.stringify({ server: { data } }));

    const viaFlag = await cliIn(elsewhere, ['domain', 'add', 'one.test', '--data', data]);
    expect(viaFlag.code, viaFlag.stderr).toBe(0);
    const viaEnv = await cliIn(elsewhere, ['domain', 'add', 'two.test'], { TERNMAIL_DATA: data });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    const viaConfigFlag = await cliIn(elsewhere, ['domain', 'add', 'three.test', '--config', configFile]);
    expect(viaConfigFlag.code, viaConfigFlag.stderr).toBe(0);
    const viaConfigEnv = await cliIn(elsewhere, ['domain', 'list'], { TERNMAIL_CONFIG: configFile });
    expect(viaConfigEnv.stdout.split('\n').filter(Boolean)).toEqual(['one.test', 'three.test', 'two.test']);

    const flagWins = await cliIn(elsewhere, ['domain', 'list', '--data', data], { TERNMAIL_DATA: path.join(elsewhere, 'nothing') });
    expect(flagWins.code, flagWins.stderr).toBe(0);
  });

  it('says "server not running" with the folder it looked in when there is no server there', async () => {
    const elsewhere = tempDir();
    const result = await cliIn(elsewhere, ['stats']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`server not running: no data/admin.json (data folder from the default`);
  });

  it('tells a server that was killed from one that is running', async () => {
    const data = tempDir();
    const server = await startProcess(data);
    running.push(server);
    expect((await cliIn(tempDir(), ['stats', '--data', data])).code).toBe(0);
    server.child.kill('SIGKILL');
    await server.exited;
    const result = await cliIn(tempDir(), ['stats', '--data', data]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`server not running: cannot reach the admin API`);
    expect(result.stderr).toContain(`(pid ${server.child.pid} has exited`);
  });
});

describe('ternmail config', () => {
  it('shows every setting with its source, and with -n only those not at their default', async () => {
    const dir = tempDir();
    const configFile = path.join(dir, 'ternmail.json');
    writeFileSync(configFile, JSON.stringify({ smtp: { port: 47025 }, log: { format: 'pretty' } }));
    const all = await cliIn(dir, ['config', 'show', '--config', configFile, '--imap-port', '47143'], { TERNMAIL_POP3_PORT: '47110' });
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.split('\n').filter(Boolean);
    expect(lines).toContain('admin.port = 8025'.padEnd(lines.find((l) => l.startsWith('admin.port'))!.indexOf('#')) + '# default');
    const changed = await cliIn(dir, ['config', 'show', '-n', '--config', configFile, '--imap-port', '47143'], { TERNMAIL_POP3_PORT: '47110' });
    const rows = changed.stdout.split('\n').filter(Boolean).map((l) => l.replace(/ +#/, ' #'));
    expect(rows).toEqual([
      `log.format = pretty # file ${configFile}`,
      `smtp.port = 47025 # file ${configFile}`,
      'imap.port = 47143 # flag --imap-port',
      'pop3.port = 47110 # env TERNMAIL_POP3_PORT',
    ]);
  });

  it('checks a configuration: ok, an invalid value, two listeners on one port, a missing TLS file', async () => {
    const dir = tempDir();
    const good = path.join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ smtp: { port: 47025 } }));
    const ok = await cliIn(dir, ['config', 'check', '--config', good]);
    expect([ok.code, ok.stdout.trim()]).toEqual([0, `config ok: ${good}`]);

    const badValue = await cliIn(dir, ['config', 'check', '--config', good, '--smtp-port', 'seventy']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/smtpPort.*expected a port number/);

    const clash = await cliIn(dir, ['config', 'check', '--config', good, '--imap-port', '47025']);
    expect(clash.stderr).toContain('imap.port and smtp.port both use port 47025');

    const tls = path.join(dir, 'tls.json');
    writeFileSync(tls, JSON.stringify({ net: { tls: { key: 'missing-key.pem', cert: 'missing-cert.pem' } } }));
    const missing = await cliIn(dir, ['config', 'check', '--config', tls]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing-key.pem');
  });
});
