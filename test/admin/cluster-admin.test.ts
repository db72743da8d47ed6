// The admin commands against a --workers 2 cluster, as an operator uses them through
// the primary: user show, mailbox export and import, search and expunge. Then
// `ternmail backup` as one consistent cut: a worker that cannot pause (stopped) fails
// it within the bounded pause while the cluster goes on writing; taken under SMTP load
// to mailboxes on both workers, restored into a fresh data folder and started, once
// the queue has drained every message acknowledged before the backup began is in its
// mailbox exactly once, and no mailbox or queue record of the backup refers to a body
// it lacks. One cluster serves the three tests, in this order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Level } from 'level';
import { decodeRecord } from '../../src/store/codec.js';
import { decodeMessage } from '../../src/store/mailbox-store.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli } from '../support/process.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';
import { sendWithReconnect, type LoadOptions } from '../support/smtp-load.js';
import { delivered, mailOf, send, setUp } from '../support/mail-clients.js';

const cluster = new TestCluster();
const loaded = ['u1@example.test', 'u2@example.test', 'u3@example.test', 'u4@example.test', 'u5@example.test', 'u6@example.test'];

beforeAll(async () => {
  await cluster.start({ workers: 2 });
  await setUp(cluster.data, ['admin1@example.test', 'admin2@example.test', 'paused1@example.test', 'paused2@example.test', ...loaded]);
}, 60_000);

afterAll(async () => {
  await cluster.destroy();
});

async function ok(args: string[]): Promise<string> {
  const result = await cli(args);
  expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Mailbox and queue records of one backed-up store whose body (blob record) is not in it. */
async function danglingBlobRefs(store: string): Promise<string[]> {
  const db = new Level<string, Buffer>(store, { valueEncoding: 'buffer' });
  await db.open();
  try {
    const blobs = new Set<string>();
    const refs: Array<[string, string]> = [];
    for await (const [key, value] of db.iterator()) {
      if (key.startsWith('!blob!')) blobs.add(key.slice('!blob!'.length));
      else if (key.startsWith('!msg!')) refs.push([key, decodeMessage(value).blob]);
      else if (key.startsWith('!queue!')) refs.push([key, decodeRecord<{ blob: string }>(value).blob]);
    }
    expect(refs.length).toBeGreaterThan(0);
    return refs.filter(([, blob]) => !blobs.has(blob)).map(([key, blob]) => `${key} -> ${blob}`);
  } finally {
    await db.close();
  }
}

describe('admin commands in a --workers 2 cluster', () => {
  it('shows, exports, imports, searches and expunges through the primary', async () => {
    await send(cluster, [['admin1@example.test', 'cluster one', 'spammer@bad.test'], ['admin1@example.test', 'cluster two']]);
    await delivered(cluster.data, 'admin1@example.test', 2);
    const data = ['--data', cluster.data];
    expect(await ok(['user', 'show', 'admin1@example.test', ...data])).toMatch(/^INBOX +2 +2 +\d+$/m);
    const dir = path.join(tempDir(), 'export');
    await ok(['mailbox', 'export', 'admin1@example.test', '--format', 'maildir', dir, ...data]);
    await ok(['mailbox', 'import', 'admin2@example.test', '--format', 'maildir', dir, ...data]);
    expect(await mailOf(cluster, 'admin2@example.test')).toEqual(await mailOf(cluster, 'admin1@example.test'));
    expect(await ok(['search', '--from', 'bad.test', ...data])).toContain('2 message(s) in 2 mailbox(es)');
    expect(await ok(['expunge', '--from', 'bad.test', '--yes', ...data])).toContain('expunged 2 message(s)');
    expect((await mailOf(cluster, 'admin2@example.test')).INBOX.map((r) => r[0])).toEqual(['cluster two']);
  });
});

describe('cluster backup', () => {
  it('fails within the bounded pause when a worker cannot pause, and the cluster goes on writing', async () => {
    const [stuck] = await cluster.workers();
    process.kill(stuck!.pid!, 'SIGSTOP');
    const backupDir = path.join(tempDir(), 'backup');
    try {
      const made = await cli(['backup', backupDir, '--data', cluster.data]);
      expect(made.code).not.toBe(0);
      expect(made.stderr).toContain(`cluster backup not started: worker ${stuck!.node} did not answer`);
      // The primary's own writes were released: a directory change goes through at once.
      const added = await cli(['user', 'add', 'paused3@example.test', '--password', 'pw', '--data', cluster.data]);
      expect(added.code, added.stderr).toBe(0);
    } finally {
      process.kill(stuck!.pid!, 'SIGCONT');
    }
    expect(existsSync(path.join(backupDir, 'backup.json'))).toBe(false);
    // Back from its stop, the worker does what was asked meanwhile (hold, then release) and serves mail.
    const { code, stderr } = await cli(['stats', '--data', cluster.data]);
    expect(code, stderr).toBe(0);
    const acked = new Set<string>();
    await sendWithReconnect({ port: cluster.ports!.smtp, worker: 1, recipients: (i) => (i % 2 ? 'paused1@example.test' : 'paused2@example.test'), acked, count: 10, deadline: Date.now() + 30_000 });
    expect(acked.size).toBe(10);
    await cluster.waitDelivered(0);
    await delivered(cluster.data, 'paused1@example.test', 5);
    await delivered(cluster.data, 'paused2@example.test', 5);
    expectExactlyOnce(await cluster.subjects(['paused1@example.test', 'paused2@example.test']), acked);
    // A backup taken now succeeds.
    const again = path.join(tempDir(), 'backup');
    const made = await cli(['backup', again, '--data', cluster.data]);
    expect(made.code, made.stderr).toBe(0);
    expect(readdirSync(again).sort()).toEqual(['backup.json', 'directory', 'node-1', 'node-2']);
  });

  it('takes one consistent cut under SMTP load to both workers: restored, every message acknowledged before it is there exactly once', async () => {
    const restored = new TestCluster();
    try {
      const acked = new Set<string>();
      const ackedAt = new Map<string, number>();
      const senders: LoadOptions[] = [1, 2, 3].map((worker) => ({
        port: cluster.ports!.smtp, worker, recipients: (i) => loaded[(i + worker) % loaded.length]!, acked, ackedAt, count: 100_000, deadline: Date.now() + 120_000,
      }));
      const load = Promise.all(senders.map((s) => sendWithReconnect(s)));
      await waitFor(async () => acked.size >= 60, 30_000, 'load under way');
      // Mail is going to mailboxes on both workers.
      await cluster.waitForWorkers((rows) => rows.length === 2 && rows.every((r) => r.mailboxes > 0));

      const backupDir = path.join(tempDir(), 'backup');
      const startedAt = Date.now();
      const made = await cli(['backup', backupDir, '--data', cluster.data]);
      expect(made.code, made.stderr).toBe(0);
      const ackedBefore = new Set([...ackedAt].filter(([, at]) => at < startedAt).map(([id]) => id));
      const duringBackup = [...ackedAt.values()].filter((at) => at >= startedAt).length;
      for (const s of senders) s.deadline = 0;
      await load;
      // The load went on while the backup ran: its pause is short, not a stop.
      expect(duringBackup).toBeGreaterThan(0);

      for (const node of [1, 2]) expect(await danglingBlobRefs(path.join(backupDir, `node-${node}`, 'store')), `node ${node}`).toEqual([]);
      await cluster.stop();

      expect(JSON.parse(readFileSync(path.join(backupDir, 'backup.json'), 'utf8'))).toMatchObject({ layout: 'cluster', workers: 2 });
      const put = await cli(['restore', backupDir, '--data', restored.data]);
      expect(put.code, put.stderr).toBe(0);
      expect(put.stdout).toContain('a cluster of 2 workers');
      await restored.start({ workers: 2 });
      await restored.waitDelivered(ackedBefore.size, 60_000);
      const stored = await restored.subjects(loaded);
      expectExactlyOnce(stored, ackedBefore);
      // Nothing acknowledged after the backup began can be in it more than once either.
      expect(new Set(stored).size).toBe(stored.length);
    } finally {
      await restored.destroy();
    }
  });
});
