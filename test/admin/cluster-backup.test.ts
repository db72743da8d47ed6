// `ternmail backup` of a --workers 2 cluster as one consistent cut, taken while SMTP
// load goes to mailboxes on both workers: restored into a fresh data folder and
// started, once the queue has drained every message acknowledged before the backup
// began is in its mailbox exactly once, and no mailbox or queue record of the backup
// refers to a body it lacks. A worker that cannot pause (stopped) fails the backup
// within the bounded pause, and the cluster goes on writing.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Level } from 'level';
import { decodeRecord } from '../../src/store/codec.js';
import { tempDir, waitFor } from '../support/server.js';
import { cli } from '../support/process.js';
import { expectExactlyOnce, TestCluster } from '../support/cluster.js';
import { sendWithReconnect, type LoadOptions } from '../support/smtp-load.js';

const users = ['u1@example.test', 'u2@example.test', 'u3@example.test', 'u4@example.test', 'u5@example.test', 'u6@example.test'];

/** Mailbox and queue records of one backed-up store whose body (blob record) is not in it. */
async function danglingBlobRefs(store: string): Promise<string[]> {
  const db = new Level<string, Buffer>(store, { valueEncoding: 'buffer' });
  await db.open();
  try {
    const blobs = new Set<string>();
    const refs: Array<[string, string]> = [];
    for await (const [key, value] of db.iterator()) {
      if (key.startsWith('!blob!')) blobs.add(key.slice('!blob!'.length));
      else if (key.startsWith('!msg!') || key.startsWith('!queue!')) refs.push([key, decodeRecord<{ blob: string }>(value).blob]);
    }
    expect(refs.length).toBeGreaterThan(0);
    return refs.filter(([, blob]) => !blobs.has(blob)).map(([key, blob]) => `${key} -> ${blob}`);
  } finally {
    await db.close();
  }
}

describe('cluster backup', () => {
  it('takes one consistent cut under SMTP load to both workers: restored, every message acknowledged before it is there exactly once', async () => {
    const cluster = new TestCluster();
    const restored = new TestCluster();
    try {
      await cluster.start({ workers: 2 });
      await cluster.addUsers('example.test', users);
      const acked = new Set<string>();
      const ackedAt = new Map<string, number>();
      const senders: LoadOptions[] = [1, 2, 3].map((worker) => ({
        port: cluster.ports!.smtp, worker, recipients: (i) => users[(i + worker) % users.length]!, acked, ackedAt, count: 100_000, deadline: Date.now() + 120_000,
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

      const put = await cli(['restore', backupDir, '--data', restored.data]);
      expect(put.code, put.stderr).toBe(0);
      await restored.start({ workers: 2 });
      await restored.waitDelivered(ackedBefore.size, 60_000);
      const stored = await restored.subjects(users);
      expectExactlyOnce(stored, ackedBefore);
      // Nothing acknowledged after the backup began can be in it more than once either.
      expect(new Set(stored).size).toBe(stored.length);
    } finally {
      await cluster.destroy();
      await restored.destroy();
    }
  });

  it('fails within the bounded pause when a worker cannot pause, and the cluster goes on writing', async () => {
    const cluster = new TestCluster();
    try {
      await cluster.start({ workers: 2 });
      await cluster.addUsers('example.test', ['a@example.test']);
      const [stuck] = await cluster.workers();
      process.kill(stuck!.pid!, 'SIGSTOP');
      const backupDir = path.join(tempDir(), 'backup');
      try {
        const made = await cli(['backup', backupDir, '--data', cluster.data]);
        expect(made.code).not.toBe(0);
        expect(made.stderr).toContain(`cluster backup not started: worker ${stuck!.node} did not answer`);
        // The primary's own writes were released: a directory change goes through at once.
        const added = await cli(['user', 'add', 'b@example.test', '--password', 'pw', '--data', cluster.data]);
        expect(added.code, added.stderr).toBe(0);
      } finally {
        process.kill(stuck!.pid!, 'SIGCONT');
      }
      expect(existsSync(path.join(backupDir, 'backup.json'))).toBe(false);
      // Back from its stop, the worker does what was asked meanwhile (hold, then release) and serves mail.
      const { code, stderr } = await cli(['stats', '--data', cluster.data]);
      expect(code, stderr).toBe(0);
      const acked = new Set<string>();
      await sendWithReconnect({ port: cluster.ports!.smtp, worker: 1, recipients: (i) => (i % 2 ? 'a@example.test' : 'b@example.test'), acked, count: 10, deadline: Date.now() + 30_000 });
      expect(acked.size).toBe(10);
      await cluster.waitDelivered(10);
      expectExactlyOnce(await cluster.subjects(['a@example.test', 'b@example.test']), acked);
      // A backup taken now succeeds.
      const again = path.join(tempDir(), 'backup');
      const made = await cli(['backup', again, '--data', cluster.data]);
      expect(made.code, made.stderr).toBe(0);
      expect(readdirSync(again).sort()).toEqual(['backup.json', 'directory', 'node-1', 'node-2']);
    } finally {
      await cluster.destroy();
    }
  });
});
