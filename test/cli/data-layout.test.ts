// The data folder's layout against the number of processes: a single-process folder
// started with --workers N, or a cluster folder started as one process, is refused with
// one line naming the way out; `ternmail migrate` converts it, and no mail is lost.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { python } from '../support/clients.js';
import { cli, startProcess, type ServerProcess } from '../support/process.js';
import { tempDir } from '../support/server.js';
import { TestCluster } from '../support/cluster.js';

const users = ['m1', 'm2', 'm3', 'm4'].map((u) => `${u}@mig.test`);
const cluster = new TestCluster();
const roundTrip = tempDir();

afterAll(async () => {
  await cluster.destroy();
  rmSync(roundTrip, { recursive: true, force: true });
});

async function send(port: number, subjects: string[]): Promise<void> {
  const { code, stderr } = await python(`
import smtplib, sys
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]))
for i, subject in enumerate(sys.argv[3].split(',')):
    to = sys.argv[2].split(',')[i % 4]
    s.sendmail('x@remote.test', [to], ('Subject: %s\\r\\n\\r\\nbody\\r\\n' % subject).encode())
s.quit()
`, [String(port), users.join(','), subjects.join(',')]);
  expect(code, stderr).toBe(0);
}

/** Subjects over IMAP (every user's INBOX), password "pw". */
async function imapSubjects(port: number): Promise<string[]> {
  const { code, stdout, stderr } = await python(`
import imaplib, sys, json
out = []
for user in sys.argv[2].split(','):
    m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); m.login(user, 'pw'); m.select('INBOX')
    typ, data = m.fetch('1:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
    out += [part[1].decode().strip()[9:] for part in data if isinstance(part, tuple)]
    m.logout()
print(json.dumps(out))
`, [String(port), users.join(',')]);
  expect(code, stderr).toBe(0);
  return JSON.parse(stdout);
}

async function stopProcess(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

/** A single-process folder with users and `subjects` delivered. */
async function singleFolderWithMail(data: string, subjects: string[]): Promise<void> {
  const server = await startProcess(data);
  expect((await cli(['domain', 'add', 'mig.test', '--data', data])).code).toBe(0);
  for (const user of users) expect((await cli(['user', 'add', user, '--password', 'pw', '--data', data])).code).toBe(0);
  await send(server.ports.smtp, subjects);
  for (const deadline = Date.now() + 10_000; ;) {
    const stats = JSON.parse((await cli(['stats', '--data', data])).stdout);
    if (stats.messages === subjects.length && stats.queued === 0) break;
    if (Date.now() > deadline) throw new Error(`not delivered: ${JSON.stringify(stats)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopProcess(server);
}

describe('data folder layout', () => {
  const before = ['before-1', 'before-2', 'before-3', 'before-4', 'before-5'];

  it('refuses a single-process folder with --workers 2, naming the migration', async () => {
    await singleFolderWithMail(cluster.data, before);
    const refused = await cli(['start', '--data', cluster.data, '--workers', '2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`${cluster.data} holds a single-process server`);
    expect(refused.stderr).toContain(`ternmail migrate --data ${cluster.data} --workers 2`);
  });

  it('migrates it to a cluster; the earlier mail is readable over POP3 and IMAP, and new mail works', async () => {
    const migrated = await cli(['migrate', '--data', cluster.data, '--workers', '2']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout, migrated.stdout).toMatch(/4 mailboxes placed on node 1/);
    const refused = await cli(['start', '--data', cluster.data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${cluster.data} holds a cluster (directory, node-1), not a single-process server`);
    expect(refused.stderr).toContain('--workers 2');

    await cluster.start({ workers: 2 });
    expect((await cluster.subjects(users)).sort()).toEqual(before);
    expect((await imapSubjects(cluster.ports!.imap)).sort()).toEqual(before);
    await send(cluster.ports!.smtp, ['after-1', 'after-2', 'after-3', 'after-4']);
    await cluster.waitDelivered(9);
    expect((await cluster.subjects(users)).sort()).toEqual([...['after-1', 'after-2', 'after-3', 'after-4'], ...before]);
    await cluster.stop();
  });

  it('refuses the two-shard cluster as one process, and migrating it back to one process', async () => {
    const refused = await cli(['start', '--data', cluster.data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('holds a cluster with 2 store shards (node-1, node-2), not a single-process server: start it with --workers 2');
    const back = await cli(['migrate', '--data', cluster.data, '--workers', '1']);
    expect(back.code).toBe(2);
    expect(back.stderr).toMatch(/2 store shards .*not supported/);
  });

  it('migrates a one-shard cluster back to one process with all its mail', async () => {
    await singleFolderWithMail(roundTrip, before);
    expect((await cli(['migrate', '--data', roundTrip, '--workers', '3'])).code).toBe(0);
    const back = await cli(['migrate', '--data', roundTrip, '--workers', '1']);
    expect(back.code, back.stderr).toBe(0);
    const server = await startProcess(roundTrip);
    try {
      expect((await imapSubjects(server.ports.imap)).sort()).toEqual(before);
      await send(server.ports.smtp, ['again-1']);
      for (const deadline = Date.now() + 10_000; !(await imapSubjects(server.ports.imap)).includes('again-1');) {
        if (Date.now() > deadline) throw new Error('new mail not delivered after migrating back');
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await stopProcess(server);
    }
  });
});

describe('data folder layout: other refusals', () => {
  const folders: string[] = [];
  afterAll(() => folders.forEach((f) => rmSync(f, { recursive: true, force: true })));

  /** A folder with just these (empty) sub-folders: the layout check looks at names only. */
  function folderWith(...parts: string[]): string {
    const data = tempDir();
    folders.push(data);
    for (const part of parts) mkdirSync(path.join(data, part), { recursive: true });
    return data;
  }

  it('refuses fewer workers than store shards', async () => {
    const data = folderWith('directory', 'node-1/store', 'node-3/store');
    const refused = await cli(['start', '--data', data, '--workers', '2']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${data} holds a cluster with store shards node-1, node-3: --workers 2 would leave the mailboxes of node-3 unreachable; start with --workers 3 or more`);
  });

  it('refuses a folder with a single store and cluster parts, or shards without their directory', async () => {
    const mixed = folderWith('store', 'directory');
    const refused = await cli(['start', '--data', mixed]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${mixed} holds both a single-process store (store) and cluster parts`);
    const orphan = folderWith('node-1/store', 'directory.migrating');
    const half = await cli(['start', '--data', orphan, '--workers', '2']);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain(`${orphan} holds store shards (node-1) but no cluster directory`);
    expect(half.stderr).toContain(`ternmail migrate --data ${orphan} --workers 2`);
  });

  it('finishes an interrupted migration to a cluster when run again', async () => {
    const data = tempDir();
    folders.push(data);
    await singleFolderWithMail(data, ['kept-1', 'kept-2']);
    expect((await cli(['migrate', '--data', data, '--workers', '2'])).code).toBe(0);
    // As if the migration had stopped after moving the store, before naming the directory.
    renameSync(path.join(data, 'directory'), path.join(data, 'directory.migrating'));
    expect((await cli(['start', '--data', data, '--workers', '2'])).code).toBe(2);
    const again = await cli(['migrate', '--data', data, '--workers', '2']);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(path.join(data, 'directory'))).toBe(true);
    expect((await cli(['migrate', '--data', tempDir(), '--workers', '2'])).stderr).toMatch(/holds no ternmail data/);
  });
});
