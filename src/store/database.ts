// One LevelDB per store node, split into key spaces (sublevels), with a group
// committer: concurrent synced writes are merged into one synced batch (one fsync).
// For a cluster backup's cut, writes can be held (they wait, nothing is lost) while
// every process takes its snapshot at the same point.
import { Level } from 'level';
import type { AbstractSublevel } from 'abstract-level';
import { StorageError } from './storage-error.js';
import { StartupError } from '../core/startup-error.js';

/**
 * The layout of the records this version writes. 2: message, folder and account records
 * as msgpack arrays, folder records not rewritten per delivery (format 1, map records,
 * is still read). 3: the chunks of a large body may be stored deflated, flagged in its
 * blob record (body-packing.ts); formats 1 and 2 are read as they are, no migration. A
 * store keeps the highest format that wrote to it (`meta` `format`), and a version that
 * reads only lower formats refuses to open it rather than misread it.
 */
export const STORE_FORMAT = 3;

type Space = AbstractSublevel<Level<string, Buffer>, string | Buffer | Uint8Array, string, Buffer>;

export const keySpaces = [
  'blob', 'chunk', 'bref', 'bmeta', 'acct', 'folder', 'msg', 'dlv', 'queue', 'dir', 'dirlog', 'meta',
  /** Expunge tombstones (folder, modseq, uid) for QRESYNC VANISHED. */
  'tomb',
  /** Per body: the IMAP SORT/THREAD keys (src/mime/sort-keys.ts), written with its structure. */
  'skeys',
] as const;
export type KeySpace = (typeof keySpaces)[number];

export type WriteOp =
  | { type: 'put'; space: KeySpace; key: string; value: Buffer }
  | { type: 'del'; space: KeySpace; key: string };

interface PendingCommit {
  ops: WriteOp[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class Database {
  /** Memtable size (bytes) unless the constructor is given one (the store.writeBuffer setting). */
  static readonly defaultWriteBufferSize = 64 * 1024 * 1024;
  readonly level: Level<string, Buffer>;
  private readonly spaces = new Map<KeySpace, Space>();
  /** Each key space's key prefix in the root store (abstract-level's sublevel prefix: `!name!`). */
  private readonly prefixes = new Map<KeySpace, string>();
  private pending: PendingCommit[] = [];
  private writing = false;
  /** Counters for benchmarks and stats: how many synced batches carried how many commits. */
  readonly commitStats = { batches: 0, commits: 0 };
  private readonly commitListeners: Array<(ops: WriteOp[]) => void> = [];
  /** Closed while a backup takes its cut: commits queue up and unsynced writes wait (see hold()). */
  private gate: { opened: Promise<void>; open: () => void } | null = null;
  private unsyncedWriting = 0;
  /** Commits issued before the hold began: still written (they are under way), then the hold applies. */
  private issuedBeforeHold = 0;

  constructor(readonly location: string, options: { writeBufferSize?: number } = {}) {
    // A bigger memtable than LevelDB's 4 MiB default: small records (queue entries, brefs,
    // journal deletes) mostly cancel out in memory before a flush, so far less is compacted
    // (profile item 1: the compaction thread was ~0.19 ms of 0.83 ms per W1 message).
    // Durability is unchanged: every synced batch is in the write-ahead log before it resolves.
    this.level = new Level<string, Buffer>(location, {
      valueEncoding: 'buffer',
      writeBufferSize: options.writeBufferSize ?? Database.defaultWriteBufferSize,
    });
    for (const name of keySpaces) {
      const space = this.level.sublevel<string, Buffer>(name, { valueEncoding: 'buffer' }) as Space;
      this.spaces.set(name, space);
      this.prefixes.set(name, `!${name}!`);
    }
  }

  async open(): Promise<void> {
    await this.level.open();
    const stored = await this.space('meta').get('format');
    const format = stored === undefined ? 0 : Number(stored.toString());
    if (format > STORE_FORMAT) {
      await this.level.close();
      throw new StartupError(`${this.location} was written by a newer ternmail (store format ${format}; this version reads up to ${STORE_FORMAT}): start that version, or restore a backup taken by this one`);
    }
    if (format < STORE_FORMAT) await this.space('meta').put('format', Buffer.from(String(STORE_FORMAT)), { sync: true } as object);
  }

  async close(): Promise<void> {
    this.release();
    while (this.writing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    await this.level.close();
  }

  space(name: KeySpace): Space {
    const space = this.spaces.get(name);
    if (!space) throw new Error(`unknown key space ${name}`);
    return space;
  }

  async get(space: KeySpace, key: string): Promise<Buffer | undefined> {
    return this.space(space).get(key);
  }

  /** Many keys of one space in one call (one trip to LevelDB's thread pool); undefined where missing. */
  async getMany(space: KeySpace, keys: string[]): Promise<Array<Buffer | undefined>> {
    if (keys.length === 0) return [];
    return this.space(space).getMany(keys);
  }

  /** Durable write: resolves once the ops are on disk with a synced write. */
  commit(ops: WriteOp[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ ops, resolve, reject });
      if (!this.writing && !this.gate) this.flushSoon();
    });
  }

  /**
   * Starts the next synced batch once this turn of the event loop is done, so that the
   * commits of one turn (a socket's pipelined messages, a frame of forwarded mail, the
   * deliveries of one completion) share one fsync instead of the first going alone.
   */
  private flushSoon(): void {
    this.writing = true;
    setImmediate(() => void this.flush());
  }

  /**
   * Holds every write from now on (commits queue up, unsynced writes wait) and resolves
   * once the writes already under way are on disk: from then until release() the store
   * does not change. The caller must release it; the holder bounds the pause.
   */
  async hold(): Promise<void> {
    if (!this.gate) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      this.gate = { opened, open };
      this.issuedBeforeHold = this.pending.length;
    }
    while (this.writing || this.unsyncedWriting > 0) await new Promise((r) => setTimeout(r, 1));
  }

  /** Lets held writes go on (a no-op when none are held). */
  release(): void {
    const gate = this.gate;
    if (!gate) return;
    this.gate = null;
    this.issuedBeforeHold = 0;
    gate.open();
    if (this.pending.length > 0 && !this.writing) void this.flush();
  }

  /** Called with the ops of every synced batch once it is on disk (for in-memory counters). */
  onCommitted(listener: (ops: WriteOp[]) => void): void {
    this.commitListeners.push(listener);
  }

  /** Unsynced write: made durable by the next synced commit (LevelDB's log is ordered). */
  async write(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return;
    while (this.gate) await this.gate.opened;
    this.unsyncedWriting += 1;
    try {
      await this.writeBatch(ops, false);
    } catch (err) {
      throw new StorageError(err, 'write refused');
    } finally {
      this.unsyncedWriting -= 1;
    }
  }

  /**
   * Every key and value of every key space as stored (sublevel prefixes included), from
   * a LevelDB snapshot taken at the call (not at the first read): what a backup copies
   * while the server keeps writing. The snapshot is closed once the entries are read.
   */
  snapshotEntries(): AsyncIterable<[string, Buffer]> {
    const snapshot = this.level.snapshot();
    const level = this.level;
    return {
      async *[Symbol.asyncIterator]() {
        const it = level.iterator({ keyEncoding: 'utf8', valueEncoding: 'buffer', snapshot });
        try {
          for await (const entry of it) yield entry as [string, Buffer];
        } finally {
          await it.close();
          await snapshot.close();
        }
      },
    };
  }

  /**
   * Runs `read` against one LevelDB snapshot taken at the call: scans through `at` see
   * what was written before it and nothing after. `read` is called at once, in the same
   * turn as the snapshot, so what it notes before its first await is of the same moment.
   */
  async readSnapshot<T>(read: (at: SnapshotScans) => Promise<T>): Promise<T> {
    const snapshot = this.level.snapshot();
    const level = this.level;
    const prefixes = this.prefixes;
    async function* entries(space: KeySpace): AsyncGenerator<[string, Buffer]> {
      const prefix = prefixes.get(space)!;
      const it = level.iterator({ gte: prefix, lt: prefix.slice(0, -1) + '"', keyEncoding: 'utf8', valueEncoding: 'buffer', snapshot });
      try {
        for await (const [key, value] of it) yield [(key as string).slice(prefix.length), value as Buffer];
      } finally {
        await it.close();
      }
    }
    async function* keys(space: KeySpace): AsyncGenerator<string> {
      const prefix = prefixes.get(space)!;
      const it = level.keys({ gte: prefix, lt: prefix.slice(0, -1) + '"', keyEncoding: 'utf8', snapshot });
      try {
        for await (const key of it) yield (key as string).slice(prefix.length);
      } finally {
        await it.close();
      }
    }
    try {
      return await read({ entries, keys });
    } finally {
      await snapshot.close();
    }
  }

  /** LevelDB's estimate of the bytes on disk, for a backup's progress. */
  async approximateBytes(): Promise<number> {
    // classic-level (Node) has it; level's browser-and-Node typings do not.
    const sized = this.level as unknown as { approximateSize?(start: string, end: string): Promise<number> };
    return sized.approximateSize ? sized.approximateSize('', '\xff') : 0;
  }

  /** Keys and values of one key space whose key starts with prefix, in key order. */
  async *scan(space: KeySpace, prefix: string, limit = -1): AsyncGenerator<[string, Buffer]> {
    const it = this.space(space).iterator({ gte: prefix, lt: prefix + '\xff', limit });
    try {
      for await (const entry of it) yield entry as [string, Buffer];
    } finally {
      await it.close();
    }
  }

  /** Entries with gte <= key < lt, in key order. */
  async *scanRange(space: KeySpace, gte: string, lt: string, limit = -1): AsyncGenerator<[string, Buffer]> {
    const it = this.space(space).iterator({ gte, lt, limit });
    try {
      for await (const entry of it) yield entry as [string, Buffer];
    } finally {
      await it.close();
    }
  }

  async *scanKeys(space: KeySpace, prefix: string, limit = -1): AsyncGenerator<string> {
    const it = this.space(space).keys({ gte: prefix, lt: prefix + '\xff', limit });
    try {
      for await (const key of it) yield key as string;
    } finally {
      await it.close();
    }
  }

  /** Keys of one key space in [gte, lt), in key order. */
  async *scanKeysRange(space: KeySpace, gte: string, lt: string, limit = -1): AsyncGenerator<string> {
    const it = this.space(space).keys({ gte, lt, limit });
    try {
      for await (const key of it) yield key as string;
    } finally {
      await it.close();
    }
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.pending.length > 0 && (!this.gate || this.issuedBeforeHold > 0)) {
      const group = this.gate ? this.pending.splice(0, this.issuedBeforeHold) : this.pending;
      if (this.gate) this.issuedBeforeHold = 0;
      else this.pending = [];
      const ops = group.length === 1 ? group[0].ops : group.flatMap((c) => c.ops);
      try {
        if (ops.length > 0) await this.writeBatch(ops, true);
        this.commitStats.batches += 1;
        this.commitStats.commits += group.length;
        for (const listener of this.commitListeners) listener(ops);
        for (const c of group) c.resolve();
      } catch (err) {
        const refused = new StorageError(err, 'synced write refused');
        for (const c of group) c.reject(refused);
      }
    }
    this.writing = false;
  }

  /**
   * Writes ops as one atomic LevelDB batch. With the store open, the ops go straight to
   * classic-level's native batch with their keys already prefixed by key space: the
   * public batch APIs re-validate, re-encode and clone every op (abstract-level's chained
   * batch `put` was 8 % of W1's main thread after the array batch was replaced). The
   * keys and values are exactly those the sublevels write, so either path reads back the
   * same; ternmail uses no abstract-level hooks or write events that this would skip.
   */
  private async writeBatch(ops: WriteOp[], sync: boolean): Promise<void> {
    const raw = new Array<{ type: 'put' | 'del'; key: string; value: Buffer | undefined }>(ops.length);
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      const prefix = this.prefixes.get(op.space);
      if (prefix === undefined) throw new Error(`unknown key space ${op.space}`);
      raw[i] = { type: op.type, key: prefix + op.key, value: op.type === 'put' ? op.value : undefined };
    }
    const native = this.level as unknown as { status: string; _batch?: (ops: unknown[], options: { sync: boolean }) => Promise<void> };
    if (native.status === 'open' && typeof native._batch === 'function') return native._batch(raw, { sync });
    // Not open (closing, or failed to open): the public API gives the proper error.
    await this.level.batch(raw.map((op) => (op.type === 'put' ? { type: 'put' as const, key: op.key, value: op.value! } : { type: 'del' as const, key: op.key })), { sync });
  }
}

/** Scans of one snapshot (Database.readSnapshot): a key space's keys (without its prefix) and values, in key order. */
export interface SnapshotScans {
  entries(space: KeySpace): AsyncGenerator<[string, Buffer]>;
  keys(space: KeySpace): AsyncGenerator<string>;
}

export function put(space: KeySpace, key: string, value: Buffer): WriteOp {
  return { type: 'put', space, key, value };
}

export function del(space: KeySpace, key: string): WriteOp {
  return { type: 'del', space, key };
}
