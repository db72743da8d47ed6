// `ternmail auth blocked` and `ternmail auth unblock` against a running server process:
// what an operator sees after password guessing, and lifting a lock by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startProcess, type ServerProcess } from '../support/process.js';
import { tempDir } from '../support/server.js';
import { imapLogin } from '../support/logins.js';

let data: string;
let server: ServerProcess;

beforeAll(async () => {
  data = tempDir();
  server = await startProcess(data, [], {
    TERNMAIL_MAX_AUTH_FAILURES_PER_ACCOUNT: '3', TERNMAIL_MAX_AUTH_FAILURES_PER_IP: '2', TERNMAIL_AUTH_DELAY_AFTER: '100',
  });
  expect((await cli(['domain', 'add', 'cli.test', '--data', data])).code).toBe(0);
  expect((await cli(['user', 'add', 'bob@cli.test', '--password', 'right', '--data', data])).code).toBe(0);
});

afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
});

describe('ternmail auth', () => {
  it('says nothing is blocked on a fresh server', async () => {
    const { code, stdout } = await cli(['auth', 'blocked', '--data', data]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('nothing blocked');
  });

  it('lists a locked account and a blocked address with failures and time left, and unblocks them', async () => {
    const imap = server.ports.imap;
    await imapLogin(imap, 'bob@cli.test', 'a', '127.0.0.2');
    await imapLogin(imap, 'bob@cli.test', 'b', '127.0.0.3');
    await imapLogin(imap, 'bob@cli.test', 'c', '127.0.0.3');
    expect(await imapLogin(imap, 'bob@cli.test', 'right', '127.0.0.4')).toContain('[UNAVAILABLE]');

    const listed = await cli(['auth', 'blocked', '--data', data]);
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^KIND\s+ADDRESS\s+FAILURES\s+TIME LEFT$/);
    expect(lines).toContainEqual(expect.stringMatching(/^ip\s+127\.0\.0\.3\s+2\s+\d+s$/));
    expect(lines).toContainEqual(expect.stringMatching(/^account\s+bob@cli\.test\s+3\s+(89\d|900)s$/));

    const unblocked = await cli(['auth', 'unblock', 'bob@cli.test', '--data', data]);
    expect(unblocked.code, unblocked.stderr).toBe(0);
    expect(unblocked.stdout.trim()).toBe('unblocked bob@cli.test');
    expect(await imapLogin(imap, 'bob@cli.test', 'right', '127.0.0.4')).toMatch(/^a1 OK /);
    expect((await cli(['auth', 'unblock', '127.0.0.3', '--data', data])).code).toBe(0);
    expect((await cli(['auth', 'blocked', '--data', data])).stdout.trim()).toBe('nothing blocked');
  });

  it('fails with a message for a target that is not blocked', async () => {
    const { code, stderr } = await cli(['auth', 'unblock', 'nobody@cli.test', '--data', data]);
    expect(code).toBe(2);
    expect(stderr).toContain('not blocked: nobody@cli.test');
  });
});
