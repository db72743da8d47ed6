// IMAP in a cluster (`ternmail start --workers 2`): connections land on either worker
// while each mailbox lives on one; FETCH reads bodies from the owning node, APPEND
// hands the bytes over, and flag changes made through one worker reach a session on
// the other through the forwarded folder events.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from '../../support/clients.js';
import { cli, cliPath, freePorts } from '../../support/process.js';
import { tempDir } from '../../support/server.js';

const data = tempDir();
let ports: number[] = [];
let primary: ChildProcess | null = null;
const users = ['u1', 'u2', 'u3', 'u4'].map((u) => `${u}@icl.test`);

async function workersRunning(): Promise<boolean> {
  try {
    const { url, token } = JSON.parse(readFileSync(path.join(data, 'admin.json'), 'utf8'));
    const res = await fetch(`${url}/v1/cluster`, { headers: { authorization: `Bearer ${token}` } });
    const rows = ((await res.json()) as { workers: Array<{ state: string }> }).workers;
    return rows.length === 2 && rows.every((r) => r.state === 'running');
  } catch {
    return false;
  }
}

beforeAll(async () => {
  ports = await freePorts(5);
  const [smtp, submission, pop3, imap, admin] = ports;
  primary = spawn(process.execPath, [cliPath, 'start', '--workers', '2', '--data', data, '--smtp-port', String(smtp),
    '--submission-port', String(submission), '--pop3-port', String(pop3), '--imap-port', String(imap),
    '--admin-port', String(admin), '--log-level', 'warn'], {
    env: { ...process.env, TERNMAIL_PASSWORD_COST: '10', TERNMAIL_IMPORT_PASSWORD_COST: '8' }, stdio: ['ignore', 'ignore', 'ignore'],
  });
  const deadline = Date.now() + 20_000;
  while (!existsSync(path.join(data, 'admin.json')) || !(await workersRunning())) {
    if (Date.now() > deadline) throw new Error('cluster did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  await cli(['domain', 'add', 'icl.test', '--data', data]);
  for (const user of users) expect((await cli(['user', 'add', user, '--password', 'pw', '--data', data])).code).toBe(0);
}, 40_000);

afterAll(async () => {
  if (primary && primary.exitCode === null) {
    primary.kill('SIGTERM');
    await new Promise((r) => primary!.once('exit', r));
  }
  rmSync(data, { recursive: true, force: true });
});

describe('IMAP across cluster workers', () => {
  it('appends, fetches and sees the other worker\'s flag changes for every mailbox', async () => {
    const { code, stdout, stderr } = await python(`
import imaplib, sys, time
port = int(sys.argv[1])
for user in sys.argv[2].split(','):
    body = ('Subject: for %s\\r\\n\\r\\n' % user + 'line\\r\\n' * 200).encode()
    sessions = []
    for i in range(6):
        c = imaplib.IMAP4('127.0.0.1', port)
        c.login(user, 'pw')
        sessions.append(c)
    typ, data = sessions[0].append('INBOX', '()', None, body)
    assert typ == 'OK', data
    for c in sessions:
        typ, data = c.select('INBOX')
        assert typ == 'OK' and data[0] == b'1', data
        typ, data = c.fetch('1', '(BODY.PEEK[])')
        assert data[0][1] == body, (user, len(data[0][1]))
    sessions[0].store('1', '+FLAGS', '(\\\\Flagged)')
    time.sleep(0.3)
    for c in sessions[1:]:
        typ, data = c.noop()
        seen = [r for r in c.untagged_responses.get('FETCH', [])]
        c.untagged_responses.pop('FETCH', None)
        assert any(b'\\\\Flagged' in r for r in seen), (user, seen)
    for c in sessions:
        c.logout()
    print('ok', user)
`, [String(ports[3]), users.join(',')]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(users.length);
  }, 60_000);
});
