// `ternmail migrate`: turns a stopped single-process data folder into a cluster's
// (its store becomes node-1's shard, its directory the primary's, every mailbox placed
// on node 1) and back when the cluster has one shard. Files are renamed, never copied
// over: each step leaves a layout that `migrate` can finish if it is interrupted.
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { Database, del, put, type KeySpace, type WriteOp } from '../store/database.js';
import { DirectoryStore } from '../directory/directory-store.js';
import { decodeRecord } from '../store/codec.js';
import type { DirectoryEntry, UserRecord } from '../directory/records.js';
import { detectLayout, singleStorePath } from './data-layout.js';
import { directoryDataPath, nodeDataPath } from '../transport/paths.js';
import path from 'node:path';

export class MigrateError extends Error {}

const BATCH = 1000;
const DIRECTORY_SPACES: KeySpace[] = ['dir', 'dirlog'];

const building = (data: string) => `${directoryDataPath(data)}.migrating`;
const retired = (data: string) => `${directoryDataPath(data)}.before-single`;

async function openStopped(location: string, data: string): Promise<Database> {
  const db = new Database(location);
  try {
    await db.open();
  } catch (err) {
    const locked = (err as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
    throw new MigrateError(locked ? `a server is running on ${data}: stop it before migrating` : `cannot open ${location}: ${(err as Error).message}`);
  }
  return db;
}

/** Copies the directory's key spaces from one database to another (replacing what `to` had), in synced batches. */
async function copyDirectory(from: Database, to: Database): Promise<number> {
  let copied = 0;
  for (const space of DIRECTORY_SPACES) {
    const stale = [];
    for await (const key of to.scanKeys(space, '')) stale.push(del(space, key));
    for (let i = 0; i < stale.length; i += BATCH) await to.commit(stale.slice(i, i + BATCH));
    let ops: WriteOp[] = [];
    for await (const [key, value] of from.scan(space, '')) {
      ops.push(put(space, key, value));
      if (ops.length >= BATCH) {
        await to.commit(ops);
        copied += ops.length;
        ops = [];
      }
    }
    if (ops.length > 0) await to.commit(ops);
    copied += ops.length;
  }
  return copied;
}

/** Every mailbox of a single store: those of its users and any with stored mail. */
async function mailboxesOf(store: Database): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const [key, raw] of store.scan('dir', 'user:')) {
    if (key.startsWith('user:')) ids.add(decodeRecord<UserRecord>(raw).mailboxId);
  }
  // An account record's key is its mailbox id.
  for await (const [mailboxId] of store.scan('acct', '')) ids.add(mailboxId);
  return ids;
}

/** Builds DATA/directory.migrating from the single store: its directory, and every mailbox placed on node 1. */
async function buildClusterDirectory(data: string): Promise<{ mailboxes: number }> {
  rmSync(building(data), { recursive: true, force: true });
  const store = await openStopped(singleStorePath(data), data);
  try {
    const directory = new Database(building(data));
    await directory.open();
    try {
      await copyDirectory(store, directory);
      const dirStore = new DirectoryStore(directory);
      await dirStore.open();
      const placements: DirectoryEntry[] = [...await mailboxesOf(store)].map((mailboxId) => ({ kind: 'placement', key: mailboxId, value: { mailboxId, node: 1 } }));
      for (let i = 0; i < placements.length; i += BATCH) await dirStore.write(placements.slice(i, i + BATCH));
      return { mailboxes: placements.length };
    } finally {
      await directory.close();
    }
  } finally {
    await store.close();
  }
}

/** single → cluster: the store becomes node-1's shard; nodes 2..N start empty. */
async function toCluster(data: string, workers: number): Promise<string[]> {
  const lines: string[] = [];
  if (detectLayout(data).kind === 'single') {
    const { mailboxes } = await buildClusterDirectory(data);
    mkdirSync(nodeDataPath(data, 1), { recursive: true });
    renameSync(singleStorePath(data), path.join(nodeDataPath(data, 1), 'store'));
    lines.push(`moved ${singleStorePath(data)} to ${path.join(nodeDataPath(data, 1), 'store')} (node 1's shard); ${mailboxes} mailboxes placed on node 1`);
  }
  if (existsSync(building(data))) {
    renameSync(building(data), directoryDataPath(data));
    lines.push(`the cluster directory is ${directoryDataPath(data)}`);
  }
  lines.push(`now start it with: ternmail start --data ${data} --workers ${workers}; then 'ternmail cluster rebalance' spreads the mailboxes over the workers`);
  return lines;
}

/** cluster with one shard → single: the shard gets the directory and becomes DATA/store. */
async function toSingle(data: string, shards: number[]): Promise<string[]> {
  const lines: string[] = [];
  if (shards.length > 1) {
    throw new MigrateError(`${data} holds ${shards.length} store shards (${shards.map((n) => `node-${n}`).join(', ')}): gathering them into one process is not supported (cluster rebalance spreads mailboxes, it does not gather them); keep starting it with --workers ${shards[shards.length - 1]}`);
  }
  if (shards.length === 1) {
    const shardStore = path.join(nodeDataPath(data, shards[0]), 'store');
    if (!existsSync(directoryDataPath(data))) throw new MigrateError(`${data} has a shard but no cluster directory (${directoryDataPath(data)}): nothing to migrate safely`);
    const directory = await openStopped(directoryDataPath(data), data);
    try {
      const shard = await openStopped(shardStore, data);
      try {
        await copyDirectory(directory, shard);
      } finally {
        await shard.close();
      }
    } finally {
      await directory.close();
    }
    renameSync(shardStore, singleStorePath(data));
    if (readdirSync(nodeDataPath(data, shards[0])).length === 0) rmdirSync(nodeDataPath(data, shards[0]));
    lines.push(`moved ${shardStore} to ${singleStorePath(data)}, with the cluster's directory`);
  }
  if (existsSync(directoryDataPath(data))) {
    renameSync(directoryDataPath(data), retired(data));
    lines.push(`the cluster directory is kept as ${retired(data)} (no longer used; remove it when satisfied)`);
  }
  lines.push(`now start it with: ternmail start --data ${data}`);
  return lines;
}

/** Migrates a stopped data folder to run with `workers` processes; returns what it did, line by line. */
export async function migrateDataFolder(data: string, workers: number): Promise<string[]> {
  const layout = detectLayout(data);
  if (layout.kind === 'empty') throw new MigrateError(`${data} holds no ternmail data (no store, directory or node-i/store)`);
  if (workers > 1) {
    if (layout.kind === 'mixed') throw new MigrateError(`${data} holds a single store and a cluster directory or shards at once: move one of them aside by hand (nothing was changed)`);
    if (layout.kind === 'cluster' && !existsSync(building(data))) {
      if (!layout.directory) throw new MigrateError(`${data} holds store shards but no cluster directory (${directoryDataPath(data)}) to go with them: nothing was changed`);
      const highest = layout.shards[layout.shards.length - 1] ?? 0;
      if (workers < highest) throw new MigrateError(`${data} is already a cluster with shards up to node-${highest}: it needs --workers ${highest} or more`);
      return [`${data} is already a cluster: start it with --workers ${workers}`];
    }
    return toCluster(data, workers);
  }
  if (layout.kind === 'single') return [`${data} is already a single-process folder: start it without --workers`];
  if (layout.kind === 'mixed' && layout.shards.length > 0) throw new MigrateError(`${data} holds a single store and cluster shards at once: move one of them aside by hand (nothing was changed)`);
  return toSingle(data, layout.kind === 'cluster' ? layout.shards : []);
}
