// The `ternmail` command as a user runs it: a real server process, admin commands
// through the admin API, clear one-line errors with a non-zero exit, and clean
// shutdown on SIGTERM with a protocol goodbye to open sessions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LineClient, python } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, startProcess, type ServerProcess } from '../support/process.js';

let data: string;
let server: ServerProcess;

beforeAll(async () => {
  data = tempDir();
  server = await startProcess(data);
});

afterAll(async () => {
  if (server.child.exitCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  rmSync(data, { recursive: true, force: true });
});

describe('ternmail CLI', () => {
  it('prints its version and help', async () => {
    const version = await cli(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await cli(['--help']);
    for (const command of ['start', 'domain add', 'user add', 'user import', 'alias add', 'queue list', 'stats']) expect(help.stdout).toContain(command);
    const startHelp = await cli(['start', '--help']);
    for (const flag of ['--data', '--hostname', '--bind', '--smtp-port', '--submission-port', '--pop3-port', '--imap-port', '--admin-port', '--config']) {
      expect(startHelp.stdout).toContain(flag);
    }
    expect((await cli(['user', '--help'])).stdout).toContain('--password-stdin');
  });

  it('writes the admin address and token to a file only its owner can read', () => {
    const mode = statSync(path.join(data, 'admin.json')).mode & 0o777;
    expect(mode).toBe(0o600);
  });

  it('manages domains, users and aliases, with clear errors', async () => {
    expect((await cli(['domain', 'add', 'Corp.Test', '--data', data])).stdout).toContain('domain added: corp.test');
    expect((await cli(['domain', 'list', '--data', data])).stdout.trim().split('\n')).toContain('corp.test');
    const added = await cli(['user', 'add', 'gus@corp.test', '--password-stdin', '--data', data], 'secret one\n');
    expect(added.code, added.stderr).toBe(0);
    const dup = await cli(['user', 'add', 'gus@corp.test', '--password', 'x', '--data', data]);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr.trim()).toBe('ternmail: user exists: gus@corp.test');
    const unknown = await cli(['user', 'add', 'x@nowhere.test', '--password', 'x', '--data', data]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe('ternmail: unknown domain: nowhere.test');
    expect((await cli(['alias', 'add', 'all@corp.test', 'gus@corp.test,ext@remote.test', '--data', data])).code).toBe(0);
    expect((await cli(['alias', 'list', '--data', data])).stdout).toContain('all@corp.test\tgus@corp.test,ext@remote.test');
    expect((await cli(['user', 'list', '--data', data])).stdout).toContain('gus@corp.test');
    const login = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('gus@corp.test'); print(p.pass_('secret one')); p.quit()
`, [String(server.ports.pop3)]);
    expect(login.stdout).toContain("b'+OK");
    expect((await cli(['user', 'passwd', 'gus@corp.test', '--password', 'two', '--data', data])).code).toBe(0);
    const relogin = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('gus@corp.test')
try:
    p.pass_('secret one'); print('old ok')
except poplib.error_proto as e:
    print('old refused')
`, [String(server.ports.pop3)]);
    expect(relogin.stdout).toContain('old refused');
    const removeDomain = await cli(['domain', 'remove', 'corp.test', '--data', data]);
    expect(removeDomain.code).not.toBe(0);
    expect(removeDomain.stderr).toMatch(/still has 1 user/);
    expect((await cli(['user', 'remove', 'gus@corp.test', '--data', data])).code).toBe(0);
    expect((await cli(['domain', 'remove', 'corp.test', '--data', data])).code).toBe(0);
  });

  it('imports users in bulk and reports each skipped line with its reason', async () => {
    await cli(['domain', 'add', 'bulk.test', '--data', data]);
    const lines = ['# comment', ''];
    for (let i = 1; i <= 2000; i++) lines.push(`user${String(i).padStart(4, '0')}@bulk.test pw${i}`);
    lines.push('{"address": "json@bulk.test", "password": "with space"}');
    lines.push('user0001@bulk.test again');
    lines.push('stranger@unknown.test pw');
    lines.push('justoneword');
    lines.push('{"address": broken');
    const file = path.join(data, 'users.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    const result = await cli(['user', 'import', file, '--data', data]);
    expect(result.stdout).toMatch(/imported: 2001 added, 4 skipped/);
    expect(result.stdout).toContain('line 2004: user0001@bulk.test: user exists: user0001@bulk.test');
    expect(result.stdout).toContain('line 2005: stranger@unknown.test: unknown domain: unknown.test');
    expect(result.stdout).toContain('line 2006: justoneword: expected "address password"');
    expect(result.stdout).toContain('line 2007: ');
    expect(result.code).not.toBe(0);
    const login = await python(`
import poplib, sys
p = poplib.POP3('127.0.0.1', int(sys.argv[1])); p.user('json@bulk.test'); print(p.pass_('with space')); p.quit()
`, [String(server.ports.pop3)]);
    expect(login.stdout).toContain("b'+OK");
  });

  it('manages static routes and shows the queue like mailq', async () => {
    expect((await cli(['route', 'add', 'Partner.Test', 'mx.partner.test:2526', '--data', data])).stdout).toContain('route added: partner.test -> mx.partner.test:2526');
    expect((await cli(['route', 'add', 'v6.test', '[::1]:25', '--data', data])).code).toBe(0);
    expect((await cli(['route', 'list', '--data', data])).stdout).toContain('partner.test\tmx.partner.test:2526');
    expect((await cli(['route', 'remove', 'partner.test', '--data', data])).code).toBe(0);
    const gone = await cli(['route', 'remove', 'partner.test', '--data', data]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr.trim()).toBe('ternmail: unknown route: partner.test');
    expect((await cli(['queue', 'list', '--data', data])).stdout.trim()).toBe('Mail queue is empty');
    const hold = await cli(['queue', 'hold', 'NOSUCHID', '--data', data]);
    expect(hold.code).not.toBe(0);
    expect(hold.stderr.trim()).toBe('ternmail: unknown queue id: NOSUCHID');
  });

  it('prints stats as one line of JSON', async () => {
    const result = await cli(['stats', '--data', data]);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    const stats = JSON.parse(result.stdout);
    for (const key of ['messages', 'queued', 'blobs', 'blobBytes']) expect(typeof stats[key]).toBe('number');
  });

  it('fails with one clear line on a bad token or when no server runs', async () => {
    const bad = await cli(['domain', 'list', '--admin', `http://127.0.0.1:${server.ports.admin}`, '--token', 'wrong']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^ternmail: bad admin token/);
    const none = await cli(['stats', '--data', path.join(data, 'nothing-here')]);
    expect(none.code).not.toBe(0);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/server not running/);
  });

  it('refuses to start on a bad setting and names it', async () => {
    const dir = tempDir();
    const result = await cli(['start', '--data', dir, '--smtp-port', 'abc']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/smtpPort \(from --smtp-port\)/);
    const env = await cli(['start', '--data', dir], undefined, { TERNMAIL_MAX_MESSAGE_SIZE: '-5' });
    expect(env.stderr).toMatch(/maxMessageSize \(from TERNMAIL_MAX_MESSAGE_SIZE\)/);
    const configFile = path.join(dir, 'bad.json');
    writeFileSync(configFile, JSON.stringify({ queuePartitions: 0 }));
    const file = await cli(['start', '--data', dir, '--config', configFile]);
    expect(file.stderr).toMatch(/queuePartitions/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('shuts down cleanly on SIGTERM: sessions get a goodbye, the process exits 0', async () => {
    const pop = await LineClient.connect(server.ports.pop3);
    await pop.expect(/^\+OK.*\r\n/);
    const smtp = await LineClient.connect(server.ports.smtp);
    await smtp.expect(/^220 .*\r\n/);
    server.child.kill('SIGTERM');
    await pop.expect(/(-ERR|\+OK)[^\r\n]*shutting down[^\r\n]*\r\n/i, 10_000);
    await smtp.expect(/421 [^\r\n]*\r\n/, 10_000);
    expect(await server.exited).toBe(0);
  });
});
