// The doveadm-like commands as an operator uses them against a running server, with
// real clients on the other side: user show/disable/enable/rename (aliases follow the
// rename), mailbox export and import (mbox and Maildir, read back over IMAP with their
// folders and flags), search and expunge across users, and a backup taken while serving
// that, restored into a new data folder, gives every message back over IMAP.
// One server serves every single-process test, each with users of its own: what is
// tested is the commands, not a fresh start, and one start costs more than the checks.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { python } from '../support/clients.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { TestCluster } from '../support/cluster.js';

const running = killAfterEach(afterEach);

async function ok(args: string[]): Promise<string> {
  const result = await cli(args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

const users = [
  'show@example.test', 'disabled@example.test', 'old@example.test', 'other@example.test',
  'mbox-from@example.test', 'mbox-to@example.test', 'maildir-from@example.test', 'maildir-to@example.test', 'moving-in@example.test',
  'abuse-a@example.test', 'abuse-b@example.test', 'kept-a@example.test', 'kept-b@example.test',
];
let server: ServerProcess;
let data: string;

beforeAll(async () => {
  data = tempDir();
  server = await startProcess(data);
  const list = path.join(tempDir(), 'users.txt');
  writeFileSync(list, users.map((u) => `${u} pw\n`).join(''));
  await ok(['domain', 'add', 'example.test', '--data', data]);
  await ok(['user', 'import', list, '--data', data]);
}, 30_000);

afterAll(async () => {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
});

/** The admin API of a server's data folder, as the CLI finds it. */
async function admin<T>(dataDir: string, route: string): Promise<T> {
  const { url, token } = JSON.parse(readFileSync(path.join(dataDir, 'admin.json'), 'utf8'));
  return (await (await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
}

/** Waits until the user's mailbox holds `count` messages. */
async function delivered(dataDir: string, user: string, count: number): Promise<void> {
  await waitFor(async () => (await admin<{ usage: { messages: number } }>(dataDir, `/v1/users/${user}`)).usage.messages === count, 10_000, `${count} message(s) for ${user}`);
}

/** Sends each [to, subject, from] in one SMTP session per message, from one Python process. */
async function send(target: ServerProcess, messages: Array<[string, string, string?]>): Promise<void> {
  const { code, stderr } = await python(`
import smtplib, sys, json
for to, subject, sender in json.loads(sys.argv[2]):
    s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
    s.sendmail(sender, [to], ('From: <%s>\\r\\nSubject: %s\\r\\n\\r\\nFrom the start of a line\\r\\nbody of %s\\r\\n' % (sender, subject, subject)).encode())
    s.quit()
`, [String(target.ports.smtp), JSON.stringify(messages.map(([to, subject, from]) => [to, subject, from ?? 'someone@remote.test']))]);
  expect(code, stderr).toBe(0);
}

/** Over IMAP: {folder: [[subject, flags, body], ...]} for every folder of the user. */
async function mailOf(server: ServerProcess, user: string, password = 'pw'): Promise<Record<string, Array<[string, string[], string]>>> {
  const { stdout, code, stderr } = await python(`
import imaplib, sys, json, re, email
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); c.login(sys.argv[2], sys.argv[3])
out = {}
for line in c.list()[1]:
    name = line.decode().rsplit(' "/" ', 1)[1].strip('"')
    c.select('"%s"' % name, readonly=True)
    typ, data = c.fetch('1:*', '(FLAGS BODY.PEEK[])') if int(c.select('"%s"' % name, readonly=True)[1][0]) > 0 else ('OK', [])
    rows = []
    for item in data:
        if not isinstance(item, tuple): continue
        flags = sorted(f for f in re.search(rb'FLAGS \\(([^)]*)\\)', item[0]).group(1).decode().split() if f != '\\\\Recent')
        msg = email.message_from_bytes(item[1])
        rows.append([msg['Subject'], flags, item[1].decode('latin1').split('\\r\\n\\r\\n', 1)[1]])
    out[name] = sorted(rows)
print(json.dumps(out))
`, [String(server.ports.imap), user, password]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

/** Makes Archive/2024 with one flagged message and marks INBOX's first message seen, over IMAP. */
async function organize(server: ServerProcess, user: string): Promise<void> {
  const { code, stderr } = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); c.login(sys.argv[2], 'pw')
c.create('Archive/2024')
c.append('Archive/2024', '(\\\\Flagged \\\\Answered)', imaplib.Time2Internaldate(1700000000), b'Subject: archived\\r\\n\\r\\nFrom here on\\r\\nold mail\\r\\n')
c.select('INBOX'); c.store('1', '+FLAGS', '\\\\Seen'); c.logout()
`, [String(server.ports.imap), user]);
  expect(code, stderr).toBe(0);
}

async function imapLogin(server: ServerProcess, user: string, password = 'pw'): Promise<boolean> {
  const { stdout } = await python(`
import imaplib, sys
c = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
try:
    c.login(sys.argv[2], sys.argv[3]); print('ok')
except imaplib.IMAP4.error:
    print('refused')
`, [String(server.ports.imap), user, password]);
  return stdout.trim() === 'ok';
}

describe('user show, disable, enable, rename', () => {
  it('shows quota, usage, messages per folder and the last login', async () => {
    await ok(['user', 'quota', 'show@example.test', '1000000', '--data', data]);
    await send(server, [['show@example.test', 'one'], ['show@example.test', 'two']]);
    await delivered(data, 'show@example.test', 2);
    const before = await ok(['user', 'show', 'show@example.test', '--data', data]);
    expect(before).toMatch(/^last login: +never$/m);
    await organize(server, 'show@example.test');
    const shown = await ok(['user', 'show', 'show@example.test', '--data', data]);
    expect(shown).toMatch(/^user: +show@example\.test$/m);
    expect(shown).toMatch(/^quota: +1000000 bytes$/m);
    expect(shown).toMatch(/^usage: +\d+ bytes in 3 messages \(0\.\d% of quota\)$/m);
    expect(shown).toMatch(/^last login: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    expect(shown).toMatch(/^INBOX +2 +1 +\d+$/m);
    expect(shown).toMatch(/^Archive\/2024 +1 +1 +\d+$/m);
  });

  it('disables and enables logins; mail is still delivered meanwhile', async () => {
    expect(await imapLogin(server, 'disabled@example.test')).toBe(true);
    expect(await ok(['user', 'disable', 'disabled@example.test', '--data', data])).toContain('user disabled: disabled@example.test');
    expect(await imapLogin(server, 'disabled@example.test')).toBe(false);
    expect(await ok(['user', 'show', 'disabled@example.test', '--data', data])).toMatch(/^user: +disabled@example\.test \(disabled\)$/m);
    await send(server, [['disabled@example.test', 'while disabled']]);
    await delivered(data, 'disabled@example.test', 1);
    await ok(['user', 'enable', 'disabled@example.test', '--data', data]);
    expect(await imapLogin(server, 'disabled@example.test')).toBe(true);
  });

  it('renames a user: the mail, the password and the aliases go with the new address', async () => {
    await ok(['alias', 'add', 'team@example.test', 'old@example.test,other@example.test', '--data', data]);
    await ok(['alias', 'add', 'solo@example.test', 'old@example.test', '--data', data]);
    await send(server, [['old@example.test', 'before the rename']]);
    await delivered(data, 'old@example.test', 1);

    expect(await ok(['user', 'rename', 'old@example.test', 'new@example.test', '--keep-alias', '--data', data]))
      .toContain('alias kept: old@example.test -> new@example.test');
    expect(await imapLogin(server, 'old@example.test')).toBe(false);
    const aliases = (await ok(['alias', 'list', '--data', data])).trim().split('\n');
    expect(aliases).toEqual(expect.arrayContaining([
      'old@example.test\tnew@example.test', 'solo@example.test\tnew@example.test', 'team@example.test\tnew@example.test,other@example.test',
    ]));
    // Mail to the old address (kept as an alias) and to the aliases arrives in the renamed mailbox.
    await send(server, [['old@example.test', 'to the old address'], ['solo@example.test', 'to solo'], ['team@example.test', 'to the team']]);
    await delivered(data, 'new@example.test', 4);
    expect((await mailOf(server, 'new@example.test')).INBOX.map((r) => r[0])).toEqual(['before the rename', 'to solo', 'to the old address', 'to the team']);

    // Without --keep-alias the address goes; the aliases, the kept one included, follow again.
    expect(await ok(['user', 'rename', 'new@example.test', 'newest@example.test', '--data', data])).not.toContain('alias kept');
    const after = (await ok(['alias', 'list', '--data', data])).trim().split('\n');
    expect(after).toEqual(expect.arrayContaining(['old@example.test\tnewest@example.test', 'team@example.test\tnewest@example.test,other@example.test']));
    expect(after.some((line) => line.startsWith('new@example.test'))).toBe(false);
    const refused = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1])); s.ehlo(); s.mail('a@remote.test'); print(s.rcpt('new@example.test')[0]); s.quit()
`, [String(server.ports.smtp)]);
    expect(refused.stdout.trim()).toBe('550');
    expect((await mailOf(server, 'newest@example.test')).INBOX).toHaveLength(4);
    const clash = await cli(['user', 'rename', 'newest@example.test', 'other@example.test', '--data', data]);
    expect(clash.stderr).toContain('user exists: other@example.test');
  });
});

describe('mailbox export and import', () => {
  for (const format of ['mbox', 'maildir'] as const) {
    it(`moves a user's folders, flags and bodies out and back in (${format})`, async () => {
      const [from, to] = [`${format}-from@example.test`, `${format}-to@example.test`];
      await send(server, [[from, 'first'], [from, 'second']]);
      await delivered(data, from, 2);
      await organize(server, from);
      const dir = path.join(tempDir(), 'export');
      const exported = await cli(['mailbox', 'export', from, '--format', format, dir, '--data', data]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain('exported 3 messages in 2 folders');
      expect(exported.stdout).not.toContain('\r');
      expect(exported.stdout).toMatch(/^export \[#{30}\] 3\/3 messages .*ETA 0:00$/m);
      if (format === 'mbox') {
        expect(readdirSync(dir).sort()).toEqual(['Archive.2024.mbox', 'INBOX.mbox']);
        expect(readFileSync(path.join(dir, 'INBOX.mbox'), 'latin1')).toMatch(/^>From the start of a line$/m);
        for (const file of readdirSync(dir)) {
          const imported = await cli(['mailbox', 'import', to, '--format', 'mbox', path.join(dir, file), '--data', data]);
          expect(imported.code, imported.stderr).toBe(0);
        }
      } else {
        expect(existsSync(path.join(dir, '.Archive.2024', 'cur'))).toBe(true);
        const imported = await cli(['mailbox', 'import', to, '--format', 'maildir', dir, '--data', data]);
        expect(imported.code, imported.stderr).toBe(0);
        expect(imported.stdout).toContain('imported 3 messages into 2 folder(s)');
      }
      expect(await mailOf(server, to)).toEqual(await mailOf(server, from));
    });
  }

  it('imports a Maildir written by another server, with its flags and dates', async () => {
    const root = path.join(tempDir(), 'Maildir');
    for (const sub of ['cur', 'new', 'tmp', '.Sent/cur', '.Sent/new', '.Sent/tmp']) mkdirSync(path.join(root, sub), { recursive: true });
    writeFileSync(path.join(root, 'cur', '1600000000.M1P1.old:2,RS'), 'Subject: replied\nFrom: a@b.test\n\nhello\n');
    writeFileSync(path.join(root, 'new', '1600000001.M2P1.old'), 'Subject: unread\n\nnew one\n');
    writeFileSync(path.join(root, '.Sent', 'cur', '1600000002.M3P1.old:2,S'), 'Subject: sent\n\nsent one\n');
    utimesSync(path.join(root, 'cur', '1600000000.M1P1.old:2,RS'), 1600000000, 1600000000);
    await ok(['mailbox', 'import', 'moving-in@example.test', '--format', 'maildir', root, '--data', data]);
    const mail = await mailOf(server, 'moving-in@example.test');
    expect(mail.INBOX).toEqual([['replied', ['\\Answered', '\\Seen'], 'hello\r\n'], ['unread', [], 'new one\r\n']]);
    expect(mail.Sent).toEqual([['sent', ['\\Seen'], 'sent one\r\n']]);
  });
});

describe('search and expunge across users', () => {
  it('finds messages by sender, subject and date in every mailbox, and expunges exactly those', async () => {
    await send(server, [
      ['abuse-a@example.test', 'cheap pills', 'spammer@bad.test'], ['abuse-b@example.test', 'more cheap pills', 'spammer@bad.test'],
      ['abuse-b@example.test', 'lunch?', 'friend@good.test'],
    ]);
    await delivered(data, 'abuse-b@example.test', 2);
    await delivered(data, 'abuse-a@example.test', 1);

    const byFrom = await ok(['search', '--from', 'BAD.test', '--data', data]);
    expect(byFrom.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t')[0])).toEqual(['abuse-a@example.test', 'abuse-b@example.test']);
    expect(byFrom).toContain('2 message(s) in 2 mailbox(es)');
    expect(await ok(['search', '--subject', 'lunch', '--data', data])).toContain('1 message(s) in 1 mailbox(es)');
    expect(await ok(['search', '--from', 'bad.test', '--before', '2000-01-01', '--data', data])).toContain('0 message(s)');
    const today = new Date().toISOString().slice(0, 10);
    expect(await ok(['search', '--since', today, '--subject', 'pills', '--data', data])).toContain('2 message(s) in 2 mailbox(es)');

    const refused = await cli(['expunge', '--from', 'bad.test', '--data', data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await ok(['expunge', '--from', 'bad.test', '--yes', '--data', data])).toContain('expunged 2 message(s) from 2 mailbox(es)');
    expect((await mailOf(server, 'abuse-a@example.test')).INBOX).toEqual([]);
    expect((await mailOf(server, 'abuse-b@example.test')).INBOX.map((r) => r[0])).toEqual(['lunch?']);
  });
});

describe('backup and restore', () => {
  it('backs up a running server and restores it into a new data folder that serves every message over IMAP', async () => {
    await send(server, [0, 1, 2, 3, 4].map((i) => [i % 2 ? 'kept-b@example.test' : 'kept-a@example.test', `message ${i}`] as [string, string]));
    await delivered(data, 'kept-a@example.test', 3);
    await delivered(data, 'kept-b@example.test', 2);
    await organize(server, 'kept-a@example.test');
    const expected = { a: await mailOf(server, 'kept-a@example.test'), b: await mailOf(server, 'kept-b@example.test') };

    const backupDir = path.join(tempDir(), 'backup');
    const made = await ok(['backup', backupDir, '--data', data]);
    expect(made).toMatch(/^backup written to .*: \d+ keys, \d+ bytes$/m);
    // The server goes on serving (and writing) after the snapshot.
    await send(server, [['kept-b@example.test', 'after the backup']]);

    const restored = tempDir();
    const refused = await cli(['restore', backupDir, '--data', data]);
    expect(refused.stderr).toContain(`a server (pid ${server.child.pid}) is running`);
    expect((await cli(['restore', backupDir, '--data', restored])).code).toBe(0);
    const again = await startProcess(restored);
    running.push(again);
    expect(await mailOf(again, 'kept-a@example.test')).toEqual(expected.a);
    expect(await mailOf(again, 'kept-b@example.test')).toEqual(expected.b);
    expect(await imapLogin(again, 'kept-b@example.test')).toBe(true);
  });
});

describe('in a --workers 2 cluster', () => {
  it('shows, exports, imports, searches, expunges, backs up and restores through the primary', async () => {
    const cluster = new TestCluster();
    const restored = new TestCluster();
    try {
      await cluster.start({ workers: 2 });
      const list = path.join(tempDir(), 'users.txt');
      writeFileSync(list, 'u1@example.test pw\nu2@example.test pw\n');
      await ok(['domain', 'add', 'example.test', '--data', cluster.data]);
      await ok(['user', 'import', list, '--data', cluster.data]);
      const asServer = { ports: cluster.ports! } as ServerProcess;
      await send(asServer, [['u1@example.test', 'cluster one', 'spammer@bad.test'], ['u1@example.test', 'cluster two']]);
      await delivered(cluster.data, 'u1@example.test', 2);
      const data = ['--data', cluster.data];
      expect(await ok(['user', 'show', 'u1@example.test', ...data])).toMatch(/^INBOX +2 +2 +\d+$/m);
      const dir = path.join(tempDir(), 'export');
      await ok(['mailbox', 'export', 'u1@example.test', '--format', 'maildir', dir, ...data]);
      await ok(['mailbox', 'import', 'u2@example.test', '--format', 'maildir', dir, ...data]);
      expect(await mailOf(asServer, 'u2@example.test')).toEqual(await mailOf(asServer, 'u1@example.test'));
      expect(await ok(['search', '--from', 'bad.test', ...data])).toContain('2 message(s) in 2 mailbox(es)');
      expect(await ok(['expunge', '--from', 'bad.test', '--yes', ...data])).toContain('expunged 2 message(s)');
      expect((await mailOf(asServer, 'u2@example.test')).INBOX.map((r) => r[0])).toEqual(['cluster two']);

      const expected = { u1: await mailOf(asServer, 'u1@example.test'), u2: await mailOf(asServer, 'u2@example.test') };
      const backupDir = path.join(tempDir(), 'backup');
      expect(await ok(['backup', backupDir, ...data])).toMatch(/^backup written to /m);
      expect(JSON.parse(readFileSync(path.join(backupDir, 'backup.json'), 'utf8'))).toMatchObject({ layout: 'cluster', workers: 2 });
      await cluster.stop();
      const put = await cli(['restore', backupDir, '--data', restored.data]);
      expect(put.stdout, put.stderr).toContain('a cluster of 2 workers');
      await restored.start({ workers: 2 });
      const again = { ports: restored.ports! } as ServerProcess;
      expect(await mailOf(again, 'u1@example.test')).toEqual(expected.u1);
      expect(await mailOf(again, 'u2@example.test')).toEqual(expected.u2);
    } finally {
      await cluster.destroy();
      await restored.destroy();
    }
  });
});
