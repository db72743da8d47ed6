// What a data folder holds: one process's store (DATA/store) or a cluster's directory
// and shards (DATA/directory, DATA/node-i/store). Starting a folder in the other shape
// would show an empty server; `start` refuses with the one line that says how to migrate.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { directoryDataPath, nodeDataPath } from '../transport/paths.js';

export type DataLayout =
  | { kind: 'empty' }
  | { kind: 'single' }
  /** `directory`: DATA/directory exists (without it the shards' mailboxes have no owners). */
  | { kind: 'cluster'; shards: number[]; directory: boolean }
  /** A single store beside cluster parts: an interrupted migration, or two servers' files mixed. */
  | { kind: 'mixed'; shards: number[] };

export function singleStorePath(data: string): string {
  return path.join(data, 'store');
}

/** The node numbers i with a DATA/node-i/store shard, ascending. */
export function shardsIn(data: string): number[] {
  if (!existsSync(data)) return [];
  return readdirSync(data)
    .map((name) => /^node-([1-9][0-9]*)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && existsSync(path.join(nodeDataPath(data, Number(m[1])), 'store')))
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

export function detectLayout(data: string): DataLayout {
  const single = existsSync(singleStorePath(data));
  const shards = shardsIn(data);
  const directory = existsSync(directoryDataPath(data));
  const clustered = directory || shards.length > 0;
  if (single && clustered) return { kind: 'mixed', shards };
  if (single) return { kind: 'single' };
  if (clustered) return { kind: 'cluster', shards, directory };
  return { kind: 'empty' };
}

function shardList(shards: number[]): string {
  return shards.length === 0 ? 'no shard' : shards.map((n) => `node-${n}`).join(', ');
}

/** Why `data` cannot start with `workers` processes (one line, with the way out), or null when it can. */
export function layoutProblem(data: string, workers: number): string | null {
  const layout = detectLayout(data);
  const migrate = (n: number) => `ternmail migrate --data ${data} --workers ${n}`;
  switch (layout.kind) {
    case 'empty':
      return null;
    case 'single':
      return workers === 1 ? null
        : `${data} holds a single-process server (${singleStorePath(data)}), not a cluster: stop, run '${migrate(workers)}', then start with --workers ${workers} (and 'ternmail cluster rebalance' to spread its mailboxes)`;
    case 'mixed':
      return `${data} holds both a single-process store (store) and cluster parts (directory, ${shardList(layout.shards)}), as after an interrupted migration: run '${migrate(workers)}' again to finish it`;
    case 'cluster': {
      const highest = layout.shards[layout.shards.length - 1] ?? 0;
      if (!layout.directory) {
        return `${data} holds store shards (${shardList(layout.shards)}) but no cluster directory (${directoryDataPath(data)}), as after an interrupted migration: run '${migrate(Math.max(workers, highest, 2))}' to finish it`;
      }
      if (workers === 1) {
        return layout.shards.length <= 1
          ? `${data} holds a cluster (directory, ${shardList(layout.shards)}), not a single-process server: start it with --workers 2 or more, or run '${migrate(1)}' to make it one process`
          : `${data} holds a cluster with ${layout.shards.length} store shards (${shardList(layout.shards)}), not a single-process server: start it with --workers ${Math.max(highest, 2)} or more (one process needs all mail on one shard first)`;
      }
      if (workers < highest) {
        return `${data} holds a cluster with store shards ${shardList(layout.shards)}: --workers ${workers} would leave the mailboxes of node-${highest} unreachable; start with --workers ${highest} or more`;
      }
      return null;
    }
  }
}
