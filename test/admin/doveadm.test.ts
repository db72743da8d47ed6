// The doveadm-like commands as an operator uses them against a running server, with
// real clients on the other side: user show/disable/enable/rename, mailbox export and
// import (mbox and Maildir, read back over IMAP with their folders and flags), search
// and expunge across users, and a backup taken while serving that, restored into a
// new data folder, gives every message back over IMAP.
import { afterEach, describe, expect, it } from 'vitest';
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

async function serverWith(users: string[]): Promise<{ server: ServerProcess; data: string }> {
  const data = tempDir();
  const server = await startProcess(data);
  running.push(server);
  await ok(['domain', 'add', 'example.test', '--data', data]);
  for (const user of users) await ok(['user', 'add', user, '--password', 'pw', '--data', data]);
  return { server, data };
}

async function send(server: ServerProcess, to: string, subject: string, from = 'someone@remote.test'): Promise<void> {
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
s.sendmail(sys.argv[4], [sys.argv[2]], ('From: <%s>\\r\\nSubject: %s\\r\\n\\r\\nFrom the start of a line\\r\\nbody of %s\\r\\n' % (sys.argv[4], sys.argv[3], sys.argv[3])).encode())
s.quit()
`, [String(server.ports.smtp), to, subject, from]);
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
    const { server, data } = await serverWith(['alice@example.test']);
    await ok(['user', 'quota', 'alice@example.test', '1000000', '--data', data]);
    await send(server, 'alice@example.test', 'one');
    await send(server, 'alice@example.test', 'two');
    await waitFor(async () => JSON.parse(await ok(['stats', '--data', data])).messages === 2, 10_000, 'two messages');
    const before = await ok(['user', 'show', 'alice@example.test', '--data', data]);
    expect(before).toMatch(/^last login: +never$/m);
    await organize(server, 'alice@example.test');
    const shown = await ok(['user', 'show', 'alice@example.test', '--data', data]);
    expect(shown).toMatch(/^user: +alice@example\.test$/m);
    expect(shown).toMatch(/^quota: +1000000 bytes$/m);
    expect(shown).toMatch(/^usage: +\d+ bytes in 3 messages \(0\.\d% of quota\)$/m);
    expect(shown).toMatch(/^last login: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/m);
    expect(shown).toMatch(/^INBOX +2 +1 +\d+$/m);
    expect(shown).toMatch(/^Archive\/2024 +1 +1 +\d+$/m);
  });

  it('disables and enables logins; mail is still delivered meanwhile', async () => {
    const { server, data } = await serverWith(['alice@example.test']);
    expect(await imapLogin(server, 'alice@example.test')).toBe(true);
    expect(await ok(['user', 'disable', 'alice@example.test', '--data', data])).toContain('user disabled: alice@example.test');
    expect(await imapLogin(server, 'alice@example.test')).toBe(false);
    expect(await ok(['user', 'show', 'alice@example.test', '--data', data])).toMatch(/^user: +alice@example\.test \(disabled\)$/m);
    await send(server, 'alice@example.test', 'while disabled');
    await waitFor(async () => JSON.parse(await ok(['stats', '--data', data])).messages === 1, 10_000, 'delivery to the disabled user');
    await ok(['user', 'enable', 'alice@example.test', '--data', data]);
    expect(await imapLogin(server, 'alice@example.test')).toBe(true);
  });

  it('renames a user: the mail and the password go with the new address', async () => {
    const { server, data } = await serverWith(['alice@example.test']);
    await send(server, 'alice@example.test', 'before the rename');
    await waitFor(async () => JSON.parse(await ok(['stats', '--data', data])).messages === 1, 10_000, 'one message');
    await ok(['user', 'rename', 'alice@example.test', 'carol@example.test', '--data', data]);
    expect(await imapLogin(server, 'alice@example.test')).toBe(false);
    expect((await mailOf(server, 'carol@example.test')).INBOX.map((r) => r[0])).toEqual(['before the rename']);
    const clash = await cli(['user', 'rename', 'carol@example.test', 'carol@example.test', '--data', data]);
    expect(clash.stderr).toContain('user exists: carol@example.test');
  });
});

describe('mailbox export and import', () => {
  for (const format of ['mbox', 'maildir'] as const) {
    it(`moves a user's folders, flags and bodies out and back in (${format})`, async () => {
      const { server, data } = await serverWith(['alice@example.test', 'bob@example.test']);
      await send(server, 'alice@example.test', 'first');
      await send(server, 'alice@example.test', 'second');
      await waitFor(async () => JSON.parse(await ok(['stats', '--data', data])).messages === 2, 10_000, 'two messages');
      await organize(server, 'alice@example.test');
      const dir = path.join(tempDir(), 'export');
      const exported = await cli(['mailbox', 'export', 'alice@example.test', '--format', format, dir, '--data', data]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toContain('exported 3 messages in 2 folders');
      expect(exported.stdout).not.toContain('\r');
      expect(exported.stdout).toMatch(/^export \[#{30}\] 3\/3 messages .*ETA 0:00$/m);
      if (format === 'mbox') {
        expect(readdirSync(dir).sort()).toEqual(['Archive.2024.mbox', 'INBOX.mbox']);
        expect(readFileSync(path.join(dir, 'INBOX.mbox'), 'latin1')).toMatch(/^>From the start of a line$/m);
        for (const file of readdirSync(dir)) {
          const imported = await cli(['mailbox', 'import', 'bob@example.test', '--format', 'mbox', path.join(dir, file), '--data', data]);
          expect(imported.code, imported.stderr).toBe(0);
        }
      } else {
        expect(existsSync(path.join(dir, '.Archive.2024', 'cur'))).toBe(true);
        const imported = await cli(['mailbox', 'import', 'bob@example.test', '--format', 'maildir', dir, '--data', data]);
        expect(imported.code, imported.stderr).toBe(0);
        expect(imported.stdout).toContain('imported 3 messages into 2 folder(s)');
      }
      expect(await mailOf(server, 'bob@example.test')).toEqual(await mailOf(server, 'alice@example.test'));
    });
  }

  it('imports a Maildir written by another server, with its flags and dates', async () => {
    const { server, data } = await serverWith(['alice@example.test']);
    const root = path.join(tempDir(), 'Maildir');
    for (const sub of ['cur', 'new', 'tmp', '.Sent/cur', '.Sent/new', '.Sent/tmp']) mkdirSync(path.join(root, sub), { recursive: true });
    writeFileSync(path.join(root, 'cur', '1600000000.M1P1.old:2,RS'), 'Subject: replied\nFrom: a@b.test\n\nhello\n');
    writeFileSync(path.join(root, 'new', '1600000001.M2P1.old'), 'Subject: unread\n\nnew one\n');
    writeFileSync(path.join(root, '.Sent', 'cur', '1600000002.M3P1.old:2,S'), 'Subject: sent\n\nsent one\n');
    utimesSync(path.join(root, 'cur', '1600000000.M1P1.old:2,RS'), 1600000000, 1600000000);
    await ok(['mailbox', 'import', 'alice@example.test', '--format', 'maildir', root, '--data', data]);
    const mail = await mailOf(server, 'alice@example.test');
    expect(mail.INBOX).toEqual([['replied', ['\\Answered', '\\Seen'], 'hello\r\n'], ['unread', [], 'new one\r\n']]);
    expect(mail.Sent).toEqual([['sent', ['\\Seen'], 'sent one\r\n']]);
  });
});

describe('search and expunge across users', () => {
  it('finds messages by sender, subject and date in every mailbox, and expunges exactly those', async () => {
    const { server, data } = await serverWith(['alice@example.test', 'bob@example.test']);
    await send(server, 'alice@example.test', 'cheap pills', 'spammer@bad.test');
    await send(server, 'bob@example.test', 'more cheap pills', 'spammer@bad.test');
    await send(server, 'bob@example.test', 'lunch?', 'friend@good.test');
    await waitFor(async () => JSON.parse(await ok(['stats', '--data', data])).messages === 3, 10_000, 'three messages');

    const byFrom = await ok(['search', '--from', 'BAD.test', '--data', data]);
    expect(byFrom.split('\n').filter((l) => l.includes('\t')).map((l) => l.split('\t')[0])).toEqual(['alice@example.test', 'bob@example.test']);
    expect(byFrom).toContain('2 message(s) in 2 mailbox(es)');
    expect(await ok(['search', '--subject', 'lunch', '--data', data])).toContain('1 message(s) in 1 mailbox(es)');
    expect(await ok(['search', '--from', 'bad.test', '--before', '2000-01-01', '--data', data])).toContain('0 message(s)');
    const today = new Date().toISOString().slice(0, 10);
    expect(await ok(['search', '--since', today, '--data', data])).toContain('3 message(s) in 2 mailbox(es)');

    const refused = await cli(['expunge', '--from', 'bad.test', '--data', data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await ok(['expunge', '--from', 'bad.test', '--yes', '--data', data])).toContain('expunged 2 message(s) from 2 mailbox(es)');
    expect((await mailOf(server, 'alice@example.test')).INBOX).toEqual([]);
    expect((await mailOf(server, 'bob@example.test')).INBOX.map((r) => r[0])).toEqual(['lunch?']);
  });
});

describe('backup and restore', () => {
  it('backs up a running server and restores it into a new data folder that serves every message over IMAP', async () => {
    const { server, data } = await serverWith(['alice@example.test', 'bob@example.test']);
    for (let i = 0; i < 5; i++) await send(server, i % 2 ? 'bob@example.test' : 'alice@example.test', `message ${i}`);
    await waitFor(async () => JSON.parse(await ok(['stats', '--data', data])).messages === 5, 10_000, 'five messages');
    await organize(server, 'alice@example.test');
    const expected = { alice: await mailOf(server, 'alice@example.test'), bob: await mailOf(server, 'bob@example.test') };

    const backupDir = path.join(tempDir(), 'backup');
    const made = await ok(['backup', backupDir, '--data', data]);
    expect(made).toMatch(/^backup written to .*: \d+ keys, \d+ bytes$/m);
    // The server goes on serving (and writing) after the snapshot.
    await send(server, 'bob@example.test', 'after the backup');

    const restored = tempDir();
    const refused = await cli(['restore', backupDir, '--data', data]);
    expect(refused.stderr).toContain(`a server (pid ${server.child.pid}) is running`);
    expect((await cli(['restore', backupDir, '--data', restored])).code).toBe(0);
    const again = await startProcess(restored);
    running.push(again);
    expect(await mailOf(again, 'alice@example.test')).toEqual(expected.alice);
    expect(await mailOf(again, 'bob@example.test')).toEqual(expected.bob);
    expect(await imapLogin(again, 'bob@example.test')).toBe(true);
  });
});

describe('in a --workers 2 cluster', () => {
  it('shows, exports, imports, searches, expunges, backs up and restores through the primary', async () => {
    const cluster = new TestCluster();
    const restored = new TestCluster();
    try {
      await cluster.start({ workers: 2 });
      await cluster.addUsers('example.test', ['u1@example.test', 'u2@example.test', 'u3@example.test']);
      const asServer = { ports: cluster.ports! } as ServerProcess;
      await send(asServer, 'u1@example.test', 'cluster one', 'spammer@bad.test');
      await send(asServer, 'u1@example.test', 'cluster two');
      await cluster.waitDelivered(2);
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
