// The directory of a cluster of machines, authoritative in a JetStream KV bucket: one
// key per record (`user.<base64url address>`), msgpack values. Every node keeps its
// cache (the `DirectoryCache` lookups read) current from a KV watch, applying entries
// in revision order; after a lost connection the watch resumes from the last revision
// applied. Writes are compare-and-set on the revision the cache holds for the key
// (create when it holds none), so a write based on a stale view is refused instead of
// clobbering another operator's; a write returns once the cache has applied it.
//
// An operation that writes several keys (a rename: one user deleted, another created;
// a domain removed with its aliases) first records its steps in an intent entry
// (`intent.<id>`), then writes its first key compare-and-set (the commit point: a
// conflict there leaves nothing written), then the others, then deletes the intent.
// A writer killed half-way leaves its intent behind; any node replays an intent older
// than a few seconds: committed (the first key holds the intended value) → the other
// keys are written; not committed → it is dropped. So a crash never leaves half an
// operation, although a reader may see one for the moment it takes to write.
import { randomUUID } from 'node:crypto';
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
const INTENT_PREFIX = 'intent.';
/** An intent this old has lost its writer: replayed by whichever node sees it first. */
const INTENT_REPLAY_AFTER_MS = 5_000;
/** Larger operations (bulk user imports) are written key by key: each record stands alone. */
const MAX_INTENT_STEPS = 256;
/** Test hook: `TERNMAIL_FAULT_AT=directory-committed` kills the process right after an operation's commit point. */
const FAULT_AT = process.env.TERNMAIL_FAULT_AT;

/** One key of a multi-key operation: its packed value (null: deleted) and the revision it was based on. */
interface IntentStep {
  kvKey: string;
  value: Uint8Array | null;
  revision?: number;
}

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
  /** Intents seen and not deleted yet, with when they were written. */
  private readonly intents = new Map<string, number>();

  constructor(private readonly kv: KV, private readonly cache: DirectoryCache, private readonly log: Logger) {}

  /** Loads every record into the cache and keeps following; resolves once the cache holds the bucket as it was. */
  async start(): Promise<void> {
    const status = await this.kv.status();
    const lastSeq = status.streamInfo.state.last_seq;
    void this.follow();
    this.checker = setInterval(() => {
      void this.checkWatch();
      void this.replayIntents();
    }, WATCH_CHECK_MS);
    this.checker.unref();
    await this.waitFor(() => this.cache.appliedSeq >= lastSeq, 60_000, 'loading the directory');
    this.log.info({ revision: this.cache.appliedSeq, records: status.values }, 'directory loaded from the KV bucket');
  }

  /** The watch, restarted after the last revision applied whenever it ends. */
  private async follow(): Promise<void> {
    let failing = false;
    while (!this.stopped) {
      const from = this.cache.appliedSeq;
      this.watchReadyAt = 0;
      try {
        const watch = await this.kv.watch(from > 0 ? { resumeFromRevision: from + 1 } : {});
        this.iterator = watch;
        this.watchReadyAt = Date.now();
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
  /** When the current watch was set up; 0 while one is being set up. */
  private watchReadyAt = 0;

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
    // A watch still being set up, or set up since the last two checks, is given its time:
    // after a leader change setting one up can take seconds, and stopping it again then
    // could keep the cache from ever catching up.
    if (this.watchReadyAt === 0 || Date.now() - this.watchReadyAt < 2 * WATCH_CHECK_MS) return;
    this.log.warn({ appliedRevision: applied, lastRevision: last }, 'directory watch stalled; restarting it');
    this.lastCheck = { behind: false, applied };
    this.iterator?.stop();
  }

  private apply(entry: KvEntry): void {
    if (entry.revision <= this.cache.appliedSeq) return;
    if (entry.key.startsWith(INTENT_PREFIX)) {
      if (entry.operation === 'PUT') this.intents.set(entry.key, entry.created.getTime());
      else this.intents.delete(entry.key);
      // Not a record, but a revision of the bucket: the cache has seen it.
      this.cache.appliedSeq = entry.revision;
      for (const wake of this.waiters) wake();
      return;
    }
    const target = entryOfKvKey(entry.key);
    if (!target) return;
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
   * Writes entries compare-and-set on the revisions this node's cache holds; returns
   * once the cache has applied them. Several keys go through an intent (see the top).
   */
  async write(entries: DirectoryEntry[]): Promise<void> {
    const steps: IntentStep[] = [];
    for (const entry of entries) {
      const kvKey = kvKeyOf(entry.kind, entry.key);
      const revision = this.revisions.get(kvKey);
      if (entry.value === null && revision === undefined) continue;
      steps.push({ kvKey, value: entry.value === null ? null : packr.pack(entry.value), ...(revision !== undefined ? { revision } : {}) });
    }
    if (steps.length === 0) return;
    let last: number | null;
    if (steps.length === 1 || steps.length > MAX_INTENT_STEPS) {
      last = 0;
      for (const step of steps) {
        const written = await this.guarded(step, () => this.writeStep(step, true));
        last = written === null || last === null ? null : Math.max(last, written);
      }
    } else {
      last = await this.writeWithIntent(steps);
    }
    // A delete does not say its revision: then the bucket's last one is waited for.
    last ??= await this.kv.status().then((s) => s.streamInfo.state.last_seq, (err: Error) => unavailable(err));
    await this.waitFor(() => this.cache.appliedSeq >= last, CATCH_UP_MS, 'a directory write').catch(unavailable);
  }

  /** Returns null: the revision to wait for is the bucket's last (the intent's deletion). */
  private async writeWithIntent(steps: IntentStep[]): Promise<null> {
    const intent = `${INTENT_PREFIX}${randomUUID()}`;
    await this.guarded(steps[0]!, () => this.kv.create(intent, packr.pack({ at: Date.now(), steps })));
    try {
      await this.guarded(steps[0]!, () => this.writeStep(steps[0]!, true));
    } catch (err) {
      await this.kv.delete(intent).catch(() => undefined);
      throw err;
    }
    if (FAULT_AT === 'directory-committed') process.kill(process.pid, 'SIGKILL');
    // Committed: the rest is written whatever happened to those keys since (as a replay would).
    for (const step of steps.slice(1)) await this.guarded(step, () => this.writeStep(step, false));
    await this.kv.delete(intent).catch((err) => this.log.warn({ err, intent }, 'intent not deleted; a replay will find it complete'));
    return null;
  }

  /** One key: compare-and-set on its revision (`cas`), or as it is. Its new revision; null for a delete. */
  private async writeStep(step: IntentStep, cas: boolean): Promise<number | null> {
    if (step.value === null) {
      await this.kv.delete(step.kvKey, cas && step.revision !== undefined ? { previousSeq: step.revision } : undefined);
      return null;
    }
    if (!cas) return this.kv.put(step.kvKey, step.value);
    if (step.revision === undefined) return this.kv.create(step.kvKey, step.value);
    return this.kv.update(step.kvKey, step.value, step.revision);
  }

  private async guarded<T>(step: IntentStep, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (isConflict(err)) {
        const target = entryOfKvKey(step.kvKey);
        throw new DirectoryConflictError(`${target?.kind} ${target?.key} was changed meanwhile (by another node?); try again`);
      }
      if (err instanceof AdminError) throw err;
      throw new DirectoryUnavailableError(`directory not written, try again: ${(err as Error).message}`);
    }
  }

  /** Finishes or drops the operations whose writer stopped half-way. */
  private async replayIntents(): Promise<void> {
    const now = Date.now();
    for (const [intent, at] of [...this.intents]) {
      if (now - at < INTENT_REPLAY_AFTER_MS || this.stopped) continue;
      try {
        await this.replay(intent);
      } catch (err) {
        this.log.warn({ err, intent }, 'directory intent not replayed yet; retrying');
      }
    }
  }

  private async replay(intent: string): Promise<void> {
    const entry = await this.kv.get(intent);
    if (!entry || entry.operation !== 'PUT') {
      this.intents.delete(intent);
      return;
    }
    const { steps } = packr.unpack(entry.value) as { steps: IntentStep[] };
    const committed = await this.holds(steps[0]!);
    if (committed) {
      for (const step of steps.slice(1)) if (!(await this.holds(step))) await this.writeStep(step, false);
    }
    await this.kv.delete(intent, { previousSeq: entry.revision }).catch(() => undefined);
    this.log.warn({ intent, keys: steps.map((s) => s.kvKey), committed }, committed
      ? 'directory operation completed after its writer stopped half-way'
      : 'directory operation dropped: its writer stopped before its first write');
  }

  /** Whether the key holds the step's value now (absent for a delete). */
  private async holds(step: IntentStep): Promise<boolean> {
    const current = await this.kv.get(step.kvKey);
    const present = current !== null && current.operation === 'PUT';
    if (step.value === null) return !present;
    return present && Buffer.from(current.value).equals(Buffer.from(step.value));
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
