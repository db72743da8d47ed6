// The directory of a cluster of machines, authoritative in a JetStream KV bucket: one
// key per record (`user.<base64url address>`), msgpack values. Every node keeps its
// cache (the `DirectoryCache` lookups read) current from a KV watch, applying entries
// in revision order; after a lost connection the watch resumes from the last revision
// applied. Writes are compare-and-set on the revision the cache holds for the key
// (create when it holds none), so a write based on a stale view is refused instead of
// clobbering another operator's; a write returns once the cache has applied it.
import { Packr } from 'msgpackr';
import type { KV, KvEntry } from '@nats-io/kv';
import type { Logger } from '../core/logger.js';
import type { DirectoryCache } from './cache.js';
import type { DirectoryEntry, PlacementRecord } from './records.js';
import { AdminError, type SharedDirectoryWriter } from './directory.js';

export const DIRECTORY_BUCKET = 'ternmail-directory';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const KINDS: ReadonlySet<string> = new Set(['domain', 'user', 'alias', 'route', 'placement', 'share']);
const CATCH_UP_MS = 10_000;
const WATCH_RETRY_MS = 500;
/** How often the watch is checked against the bucket's last revision; behind twice with no progress: restarted. */
const WATCH_CHECK_MS = 1_000;

/** A write refused because the record changed since this node's cache saw it. */
export class DirectoryConflictError extends AdminError {}

/** A write that did not reach the bucket (no JetStream leader right now, a lost connection). */
export class DirectoryUnavailableError extends AdminError {}

export function kvKeyOf(kind: DirectoryEntry['kind'], key: string): string {
  return `${kind}.${Buffer.from(key, 'utf8').toString('base64url') || '_'}`;
}

function entryOfKvKey(kvKey: string): { kind: DirectoryEntry['kind']; key: string } | null {
  const dot = kvKey.indexOf('.');
  const kind = kvKey.slice(0, dot);
  if (dot < 0 || !KINDS.has(kind)) return null;
  const encoded = kvKey.slice(dot + 1);
  return { kind: kind as DirectoryEntry['kind'], key: encoded === '_' ? '' : Buffer.from(encoded, 'base64url').toString('utf8') };
}

function unavailable(err: Error): never {
  throw new DirectoryUnavailableError(`written, but not yet seen by this node: ${err.message}`);
}

function isConflict(err: unknown): boolean {
  return /wrong last sequence|key exists/i.test((err as Error)?.message ?? '');
}

export class KvDirectory implements SharedDirectoryWriter {
  /** The revision of each live key as the cache last applied it. */
  private readonly revisions = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private stopped = false;
  private iterator: { stop(): void } | null = null;
  private checker: NodeJS.Timeout | null = null;

  constructor(private readonly kv: KV, private readonly cache: DirectoryCache, private readonly log: Logger) {}

  /** Loads every record into the cache and keeps following; resolves once the cache holds the bucket as it was. */
  async start(): Promise<void> {
    const status = await this.kv.status();
    const lastSeq = status.streamInfo.state.last_seq;
    void this.follow();
    this.checker = setInterval(() => void this.checkWatch(), WATCH_CHECK_MS);
    this.checker.unref();
    await this.waitFor(() => this.cache.appliedSeq >= lastSeq, 60_000, 'loading the directory');
    this.log.info({ revision: this.cache.appliedSeq, records: status.values }, 'directory loaded from the KV bucket');
  }

  /** The watch, restarted after the last revision applied whenever it ends. */
  private async follow(): Promise<void> {
    let failing = false;
    while (!this.stopped) {
      const from = this.cache.appliedSeq;
      try {
        const watch = await this.kv.watch(from > 0 ? { resumeFromRevision: from + 1 } : {});
        this.iterator = watch;
        failing = false;
        if (from > 0) this.log.info({ from: from + 1 }, 'directory watch resumed');
        for await (const entry of watch) this.apply(entry);
      } catch (err) {
        // One line when the watch breaks, not one per retry while NATS is away.
        if (!this.stopped && !failing) this.log.warn({ err, appliedRevision: this.cache.appliedSeq }, 'directory watch interrupted; resuming');
        failing = true;
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, WATCH_RETRY_MS));
    }
  }

  private lastCheck = { behind: false, applied: 0 };

  /**
   * A watch may stall without ending when the stream's leader moves to another server:
   * one behind the bucket's last revision at two checks in a row, without progress, is
   * restarted from the last revision applied.
   */
  private async checkWatch(): Promise<void> {
    let last: number;
    try {
      last = (await this.kv.status()).streamInfo.state.last_seq;
    } catch {
      return;
    }
    const applied = this.cache.appliedSeq;
    const stalled = this.lastCheck.behind && this.lastCheck.applied === applied && applied < last;
    this.lastCheck = { behind: applied < last, applied };
    if (!stalled || this.stopped) return;
    this.log.warn({ appliedRevision: applied, lastRevision: last }, 'directory watch stalled; restarting it');
    this.lastCheck = { behind: false, applied };
    this.iterator?.stop();
  }

  private apply(entry: KvEntry): void {
    const target = entryOfKvKey(entry.key);
    if (!target || entry.revision <= this.cache.appliedSeq) return;
    let value: unknown = null;
    if (entry.operation === 'PUT') {
      try {
        value = packr.unpack(entry.value);
      } catch (err) {
        this.log.error({ err, key: entry.key, revision: entry.revision }, 'undecodable directory record skipped');
        return;
      }
      this.revisions.set(entry.key, entry.revision);
    } else {
      this.revisions.delete(entry.key);
    }
    this.cache.apply({ ...target, value, seq: entry.revision } as DirectoryEntry & { seq: number });
    for (const wake of this.waiters) wake();
  }

  private waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${what}: the directory watch did not catch up within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  /**
   * Writes entries one key at a time, each compare-and-set on the revision this
   * node's cache holds; returns once the cache has applied them. Entries before a
   * refused one stay written (KV has no multi-key transaction on this server).
   */
  async write(entries: DirectoryEntry[]): Promise<void> {
    for (const entry of entries) {
      const kvKey = kvKeyOf(entry.kind, entry.key);
      const revision = this.revisions.get(kvKey);
      try {
        if (entry.value === null) {
          if (revision === undefined) continue;
          await this.kv.delete(kvKey, { previousSeq: revision });
          await this.waitFor(() => (this.revisions.get(kvKey) ?? 0) !== revision, CATCH_UP_MS, 'a directory write').catch(unavailable);
          continue;
        }
        const data = packr.pack(entry.value);
        const written = revision === undefined ? await this.kv.create(kvKey, data) : await this.kv.update(kvKey, data, revision);
        await this.waitFor(() => this.cache.appliedSeq >= written, CATCH_UP_MS, 'a directory write').catch(unavailable);
      } catch (err) {
        if (isConflict(err)) throw new DirectoryConflictError(`${entry.kind} ${entry.key} was changed meanwhile (by another node?); try again`);
        if (err instanceof AdminError) throw err;
        throw new DirectoryUnavailableError(`directory not written, try again: ${(err as Error).message}`);
      }
    }
  }

  /** Places a mailbox on `node` unless it already has a node: create-if-absent, so racing nodes agree. */
  async place(mailboxId: string, node: number): Promise<number> {
    const kvKey = kvKeyOf('placement', mailboxId);
    try {
      const written = await this.kv.create(kvKey, packr.pack({ mailboxId, node } satisfies PlacementRecord));
      await this.waitFor(() => this.cache.appliedSeq >= written, CATCH_UP_MS, 'a placement');
      return node;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
    const existing = await this.kv.get(kvKey);
    if (!existing || existing.operation !== 'PUT') throw new Error(`placement of ${mailboxId} is neither created nor readable`);
    return (packr.unpack(existing.value) as PlacementRecord).node;
  }

  stop(): void {
    this.stopped = true;
    if (this.checker) clearInterval(this.checker);
    this.iterator?.stop();
    for (const wake of this.waiters) wake();
  }
}
