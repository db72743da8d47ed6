// The directory of a cluster of machines in a real JetStream KV bucket, as two nodes'
// directories see it (each with its own NATS connection, cache and directory actor):
// writes are compare-and-set on the revision, so a write from a stale view is refused;
// racing placements agree; a cache whose NATS server went away catches up from the
// revision it had applied once reconnected (the client learns the other servers of
// the cluster from the first), with the writes made meanwhile.
import { afterEach, describe, expect, it } from 'vitest';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectToNats, openBucket } from '../../src/cluster/nats-connection.js';
import { Directory } from '../../src/directory/directory.js';
import { DIRECTORY_BUCKET, KvDirectory } from '../../src/directory/kv-directory.js';
import { start, stop } from '../../src/core/supervision.js';
import { capturingLogger } from '../support/log-capture.js';
import { silentLogger } from '../../src/core/logger.js';
import { startNats, startNatsCluster, stopNats, type NatsServer } from '../support/nats.js';
import { waitFor } from '../support/server.js';

const servers: NatsServer[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await stopNats(servers.splice(0));
});

interface DirectoryNode { nc: NatsConnection; directory: Directory; kv: KvDirectory; lines: Array<Record<string, unknown>> }

async function directoryNode(urls: string[], replicas: number, id: number): Promise<DirectoryNode> {
  const { log, lines } = capturingLogger();
  const nc = await connectToNats(urls, id, silentLogger());
  const bucket = await openBucket(nc, DIRECTORY_BUCKET, replicas, silentLogger());
  const system = start();
  const directory = new Directory(null, silentLogger(), { passwordCost: 10, defaultQuota: 0 });
  const kv = new KvDirectory(bucket, directory.cache, log);
  await kv.start();
  directory.startShared(system, kv);
  cleanups.push(async () => {
    kv.stop();
    stop(system);
    await nc.close();
  });
  return { nc, directory, kv, lines };
}

const addDomain = (d: Directory, name: string) => d.request((replyTo) => ({ type: 'add-domain', name, replyTo }));
const addUser = (d: Directory, address: string) => d.request((replyTo) => ({ type: 'add-users', users: [{ address, password: 'pw' }], hashCost: 10, replyTo }));
const setQuota = (d: Directory, address: string, quota: number) => d.request((replyTo) => ({ type: 'set-quota', address, quota, replyTo }));

describe('the directory in a JetStream KV bucket', () => {
  it('answers a write on one node in the other node\'s cache, and refuses a write from a stale view (compare-and-set on the revision)', async () => {
    const nats = await startNats('127.0.0.18', 45222);
    servers.push(nats);
    const [a, b] = [await directoryNode([nats.url], 1, 1), await directoryNode([nats.url], 1, 2)];
    expect(await addDomain(a.directory, 'cas.test')).toMatchObject({ ok: true });
    await waitFor(async () => b.directory.cache.isLocalDomain('cas.test'), 5000, 'domain in the other cache');
    expect(await addUser(b.directory, 'x@cas.test')).toMatchObject({ ok: true, value: [{ status: 'added' }] });
    await waitFor(async () => a.directory.cache.user('x@cas.test') !== undefined, 5000, 'user in the other cache');

    // b stops following the bucket: its view of x stays at the revision it had.
    b.kv.stop();
    expect(await setQuota(a.directory, 'x@cas.test', 1000)).toEqual({ ok: true, value: null });
    const stale = await setQuota(b.directory, 'x@cas.test', 2000);
    expect(stale).toMatchObject({ ok: false });
    expect((stale as { error: string }).error).toMatch(/changed meanwhile/);
    expect(a.directory.cache.user('x@cas.test')!.quota).toBe(1000);
    // Creating what exists is refused the same way: two nodes adding one domain get one record.
    const twice = await Promise.all([addDomain(a.directory, 'race.test'), (async () => {
      const c = await directoryNode([nats.url], 1, 3);
      return addDomain(c.directory, 'race.test');
    })()]);
    expect(twice.filter((r) => r.ok).length).toBe(1);
  }, 30_000);

  it('agrees on one placement when nodes race to place the same mailboxes on different nodes', async () => {
    const nats = await startNats('127.0.0.18', 45222);
    servers.push(nats);
    const nodes = await Promise.all([1, 2, 3].map((id) => directoryNode([nats.url], 1, id)));
    const mailboxes = Array.from({ length: 20 }, (_, i) => `mbox${i}`);
    const chosen = await Promise.all(mailboxes.map((m) => Promise.all(nodes.map((n, i) => n.kv.place(m, i + 1)))));
    for (const answers of chosen) expect(new Set(answers).size).toBe(1);
    for (const node of nodes) {
      await waitFor(async () => node.directory.cache.placements.size === 20, 5000, 'placements in every cache');
      expect(mailboxes.map((m) => node.directory.cache.nodeOf(m))).toEqual(chosen.map((answers) => answers[0]));
    }
  }, 30_000);

  it('catches a cache up from its last applied revision after its NATS server is killed (reconnected to another), and keeps writes working meanwhile', async () => {
    const cluster = await startNatsCluster(['127.0.0.18', '127.0.0.19', '127.0.0.20'], 45222, 45622);
    servers.push(...cluster);
    const a = await directoryNode([cluster[0].url, cluster[1].url], 3, 1);
    const b = await directoryNode([cluster[2].url], 3, 2);
    expect(await addDomain(a.directory, 'resume.test')).toMatchObject({ ok: true });
    await waitFor(async () => b.directory.cache.isLocalDomain('resume.test'), 5000, 'domain in b');
    const before = b.directory.cache.appliedSeq;

    await cluster[2].kill();
    for (const user of ['r1', 'r2', 'r3']) {
      const reply = await waitFor(async () => {
        const r = await addUser(a.directory, `${user}@resume.test`);
        // Written (or written by an earlier attempt whose confirmation came too late: "user exists").
        return r.ok && /added|user exists/.test(JSON.stringify(r.value)) ? r : undefined;
      }, 40_000, 'a write while one NATS server is down');
      expect(reply.ok).toBe(true);
    }
    await cluster[2].restart();
    await waitFor(async () => ['r1', 'r2', 'r3'].every((u) => b.directory.cache.user(`${u}@resume.test`)), 20_000, 'b caught up');
    expect(b.directory.cache.appliedSeq).toBeGreaterThan(before);
  }, 60_000);
});
