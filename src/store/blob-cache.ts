// Encoded blob records of recently written or read bodies, kept in memory within a byte
// budget, least recently used out. A small body is stored inline in its record, so a
// FETCH of a freshly appended or delivered message (imaptest's kept-sessions mix, issue
// 16: LevelDB gets were the largest item of its profile) needs no disk read at all.
// Entries are decoded records (decoding was the next largest item once the reads were
// gone), counted by their inline bytes: filled from committed batches and from reads,
// dropped when the body is collected; a read that raced a collect is not kept.

/** The part of a blob record (blob-store.ts) the cache looks at: its inline body, if any. */
export interface CachedRecord {
  inline?: Uint8Array;
}

/** What an entry costs beyond its inline body (the object, its storage id, the map slot). */
const ENTRY_OVERHEAD = 160;

function costOf(record: CachedRecord): number {
  return (record.inline?.byteLength ?? 0) + ENTRY_OVERHEAD;
}

/** Record bytes beyond this are not worth a slot (a chunked body's record is small anyway). */
const MAX_ENTRY_BYTES = 256 * 1024;
/** How many recent collects a read may overlap and still fill the cache (if none was of its body). */
const COLLECT_RING = 1024;

export class BlobRecordCache<R extends CachedRecord = CachedRecord> {
  private readonly entries = new Map<string, R>();
  private bytes = 0;
  /** Counts collects; `recentlyCollected[n % COLLECT_RING]` is the body of collect n. */
  private collections = 0;
  private readonly recentlyCollected: string[] = new Array<string>(COLLECT_RING);

  constructor(private readonly budget: number) {}

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get(sha: string): R | undefined {
    const value = this.entries.get(sha);
    if (value !== undefined) {
      this.entries.delete(sha);
      this.entries.set(sha, value);
    }
    return value;
  }

  /** A token to pass to `fill` after reading the disk. */
  readStarted(): number {
    return this.collections;
  }

  /** Keeps what a read found, unless this body was collected since `token` (the read may be stale). */
  fill(sha: string, record: R, token: number): void {
    if (this.collections - token > COLLECT_RING) return;
    for (let n = token; n < this.collections; n++) if (this.recentlyCollected[n % COLLECT_RING] === sha) return;
    this.put(sha, record);
  }

  has(sha: string): boolean {
    return this.entries.has(sha);
  }

  /** Keeps a record that has just been committed (it replaces any older one of the same body). */
  put(sha: string, record: R): void {
    this.drop(sha);
    const cost = costOf(record);
    if (cost > MAX_ENTRY_BYTES || cost > this.budget) return;
    this.entries.set(sha, record);
    this.bytes += cost;
    while (this.bytes > this.budget) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
    }
  }

  /** The body was collected (or is being): forget it and refuse fills from reads in flight. */
  collected(sha: string): void {
    this.recentlyCollected[this.collections % COLLECT_RING] = sha;
    this.collections += 1;
    this.drop(sha);
  }

  private drop(sha: string): void {
    const old = this.entries.get(sha);
    if (old === undefined) return;
    this.entries.delete(sha);
    this.bytes -= costOf(old);
  }
}
