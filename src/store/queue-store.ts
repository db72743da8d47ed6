// The spool: accepted messages waiting for delivery, spread over P partitions so
// that concurrent enqueues do not contend on one key range. Each entry keeps the
// state of every recipient; it holds a reference on its blob until it is removed.
import { Database, del, put, type WriteOp } from './database.js';
import { decodeRecord, encodeRepeating } from './codec.js';
import { randomHex } from './random-hex.js';
import type { BlobUpload } from './blob-store.js';

export type RecipientState = 'pending' | 'deferred' | 'done' | 'failed';

export interface QueueRecipient {
  /** Final address after alias expansion. */
  address: string;
  /** Address the client gave at RCPT TO. */
  original: string;
  kind: 'local' | 'remote';
  state: RecipientState;
  attempts: number;
  nextAttempt: number;
  lastError: string | null;
  /** Automatic retries that failed so far: the index into the retry schedule (absent in older entries: attempts - 1). */
  backoffStep?: number;
  /** The cluster node the last attempt waited for, when that node did not answer. */
  waitingFor?: number;
}

export interface QueueEntry {
  id: string;
  partition: number;
  from: string;
  blob: string;
  size: number;
  arrived: number;
  client: string;
  recipients: QueueRecipient[];
  held: boolean;
  /** Set in memory once a mailbox on this node stored its own reference to the body. */
  mailboxHoldsRef?: boolean;
  /** A delay warning was sent for this message. */
  delayNotified?: boolean;
  /** Loaded from disk at start: deliveries may have happened before the restart. */
  recovered?: boolean;
  /** In memory: queued here by the node that accepted it (its copy, if any, arrives from that node). */
  forwarded?: boolean;
}

/** What the sender of a message decides about its queue entry; the store fills in the rest. */
export type NewQueueEntry = Pick<QueueEntry, 'id' | 'from' | 'client' | 'recipients'>;

let sequence = 0;

/** Sortable, unique queue ids: milliseconds, a per-process counter and random bits. */
export function newQueueId(): string {
  sequence = (sequence + 1) % 1296;
  return Date.now().toString(36).toUpperCase() + sequence.toString(36).toUpperCase().padStart(2, '0') +
    randomHex(3).toUpperCase();
}

export function queueHolder(id: string): string {
  return `q:${id}`;
}

export class QueueStore {
  private nextPartition = 0;

  constructor(readonly db: Database, readonly partitions: number) {}

  pickPartition(): number {
    this.nextPartition = (this.nextPartition + 1) % this.partitions;
    return this.nextPartition;
  }

  private key(entry: Pick<QueueEntry, 'partition' | 'id'>): string {
    return `${entry.partition.toString().padStart(3, '0')}:${entry.id}`;
  }

  /**
   * Queues a received body: ends its upload (hash, dedup, MIME structure of new bodies
   * unless `analyze` is false) and commits the body and the entry in one synced batch,
   * after which the acknowledgment may follow.
   */
  async enqueue(
    upload: BlobUpload, fields: NewQueueEntry, options: { analyze?: boolean; alsoCommit?: WriteOp[] } = {},
  ): Promise<{ entry: QueueEntry; deduplicated: boolean }> {
    const finished = await upload.finish(queueHolder(fields.id), options);
    const entry: QueueEntry = {
      ...fields, partition: this.pickPartition(), blob: finished.sha, size: finished.size, arrived: Date.now(), held: false,
    };
    try {
      await this.db.commit([...finished.ops, this.putOp(entry), ...(options.alsoCommit ?? [])]);
    } catch (err) {
      // Best effort: on a full disk this delete may be refused as well.
      await this.db.write(finished.discardOps).catch(() => undefined);
      throw err;
    } finally {
      finished.release();
    }
    return { entry, deduplicated: finished.deduplicated };
  }

  /**
   * The entry as stored: recipients' field names once per entry (records), and a
   * recipient's `original` left out when it is its address (most are): a 100-recipient
   * entry was half of W2's metadata bytes on disk.
   */
  putOp(entry: QueueEntry): WriteOp {
    const { mailboxHoldsRef: _inMemory, recovered: _atStart, forwarded: _fromElsewhere, ...stored } = entry;
    const recipients = entry.recipients.map((r) => {
      if (r.original !== r.address) return r;
      const { original: _same, ...rest } = r;
      return rest;
    });
    return put('queue', this.key(entry), encodeRepeating({ ...stored, recipients }));
  }

  deleteOp(entry: QueueEntry): WriteOp {
    return del('queue', this.key(entry));
  }

  /** Every entry of every partition (at start, to resume delivery). */
  async *entries(): AsyncGenerator<QueueEntry> {
    for await (const [, value] of this.db.scan('queue', '')) {
      const entry = decodeRecord<QueueEntry>(value);
      for (const r of entry.recipients) r.original ??= r.address;
      yield entry;
    }
  }
}

/**
 * Queue bookkeeping writes (recipient states, removals) that need no fsync of their
 * own: they are merged into one unsynced batch at a time, and made durable by the
 * next synced commit. `drain()` waits for everything handed in so far.
 */
export class QueueJournal {
  private pending: WriteOp[] = [];
  private afterWrite: Array<() => Promise<void>> = [];
  private running: Promise<void> | null = null;

  constructor(private readonly db: Database, private readonly onError: (err: Error) => void) {}

  add(ops: WriteOp[], after?: () => Promise<void>): void {
    this.pending.push(...ops);
    if (after) this.afterWrite.push(after);
    if (!this.running) this.running = this.flush();
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const ops = this.pending;
      const after = this.afterWrite;
      this.pending = [];
      this.afterWrite = [];
      try {
        await this.db.write(ops);
        for (const fn of after) await fn();
      } catch (err) {
        this.onError(err as Error);
      }
    }
    this.running = null;
  }

  async drain(): Promise<void> {
    while (this.running) await this.running;
  }
}
