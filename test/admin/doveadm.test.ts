// The doveadm-like commands as an operator uses them against a running server, with
// real clients on the other side: user show/disable/enable/rename (aliases follow the
// rename), mailbox export and import (mbox and Maildir, read back over IMAP with their
// folders and flags), search and expunge across users, and a backup taken while serving
// that, restored into a new data folder, gives every message back over IMAP.
// One server serves every single-process test, each with users of its own: what is
// tested is the commands, not a fresh start, and one start costs more than the checks.
// The clients (nodemailer, imapflow) run in the test process and set-up goes through
// the admin API (test/support/mail-clients.ts): only the commands under test start a
// process. The same commands in a --workers 2 cluster, with its backup and restore,
// are in cluster-admin.test.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LineClient } from '../support/clients.js';
import { tempDir } from '../support/server.js';
import { cli, killAfterEach, startProcess, type ServerProcess } from '../support/process.js';
import { admin, delivered, imapLogin, mailOf, organize, send, setUp } from '../support/mail-clients.js';

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
  await setUp(data, users);
}, 30_000);

afterAll(async () => {
  if (server.child.exitCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
});

describe('user show, disable, enable, rename', () => {
  it('shows quota, usage, messages per folder and the last login', async () => {
    await admin(data, '/v1/users/show@example.test/quota', 'PUT', { quota: 1000000 });
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
    await admin(data, '/v1/aliases', 'POST', { address: 'team@example.test', targets: ['old@example.test', 'other@example.test'] });
    await admin(data, '/v1/aliases', 'POST', { address: 'solo@example.test', targets: ['old@example.test'] });
    const aliases = async () => (await admin<Array<{ address: string; targets: string[] }>>(data, '/v1/aliases')).map((a) => `${a.address}\t${a.targets.join(',')}`);
    await send(server, [['old@example.test', 'before the rename']]);
    await delivered(data, 'old@example.test', 1);

    expect(await ok(['user', 'rename', 'old@example.test', 'new@example.test', '--keep-alias', '--data', data]))
      .toContain('alias kept: old@example.test -> new@example.test');
    expect(await imapLogin(server, 'old@example.test')).toBe(false);
    expect(await aliases()).toEqual(expect.arrayContaining([
      'old@example.test\tnew@example.test', 'solo@example.test\tnew@example.test', 'team@example.test\tnew@example.test,other@example.test',
    ]));
    // Mail to the old address (kept as an alias) and to the aliases arrives in the renamed mailbox.
    await send(server, [['old@example.test', 'to the old address'], ['solo@example.test', 'to solo'], ['team@example.test', 'to the team']]);
    await delivered(data, 'new@example.test', 4);
    expect((await mailOf(server, 'new@example.test')).INBOX.map((r) => r[0])).toEqual(['before the rename', 'to solo', 'to the old address', 'to the team']);

    // Without --keep-alias the address goes; the aliases, the kept one included, follow again.
    expect(await ok(['user', 'rename', 'new@example.test', 'newest@example.test', '--data', data])).not.toContain('alias kept');
    const after = await aliases();
    expect(after).toEqual(expect.arrayContaining(['old@example.test\tnewest@example.test', 'team@example.test\tnewest@example.test,other@example.test']));
    expect(after.some((line) => line.startsWith('new@example.test'))).toBe(false);
    const smtp = await LineClient.connect(server.ports.smtp);
    await smtp.expect(/^220 .*\r\n/m);
    smtp.send('EHLO client.test\r\n');
    await smtp.expect(/^250 [^\r]*\r\n/m);
    smtp.send('MAIL FROM:<a@remote.test>\r\nRCPT TO:<new@example.test>\r\n');
    await smtp.expect(/^250 .*\r\n/m);
    expect(await smtp.expect(/^\d{3} .*\r\n/m)).toMatch(/^550 5\.1\.1 /m);
    smtp.close();
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
    const today = new Date().toISOString().slice(0, 10);
    expect(await ok(['search', '--subject', 'lunch', '--since', today, '--data', data])).toContain('1 message(s) in 1 mailbox(es)');
    expect(await ok(['search', '--from', 'bad.test', '--before', '2000-01-01', '--data', data])).toContain('0 message(s)');

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
