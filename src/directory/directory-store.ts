// The authoritative directory on disk: records under `dir`, and every change appended
// to the numbered log `dirlog` in the same synced batch, which is the change feed
// that local caches replay to stay current.
import type { Database, WriteOp } from '../store/database.js';
import { put, del } from '../store/database.js';
import { decodeRecord, encodeRecord } from '../store/codec.js';
import type { DirectoryChange, DirectoryEntry } from './records.js';

function seqKey(seq: number): string {
  return seq.toString().padStart(15, '0');
}

export class DirectoryStore {
  private lastSeq = 0;

  constructor(private readonly db: Database) {}

  async open(): Promise<void> {
    for await (const key of this.lastLogKey()) this.lastSeq = Number(key);
  }

  private async *lastLogKey(): AsyncGenerator<string> {
    const it = this.db.space('dirlog').keys({ reverse: true, limit: 1 });
    try {
      for await (const key of it) yield key as string;
    } finally {
      await it.close();
    }
  }

  /** Writes entries and their log records in one synced batch; returns the changes. */
  async write(entries: DirectoryEntry[]): Promise<DirectoryChange[]> {
    const ops: WriteOp[] = [];
    const changes: DirectoryChange[] = [];
    for (const entry of entries) {
      const change = { ...entry, seq: ++this.lastSeq } as DirectoryChange;
      const key = `${entry.kind}:${entry.key}`;
      ops.push(entry.value === null ? del('dir', key) : put('dir', key, encodeRecord(entry.value)));
      ops.push(put('dirlog', seqKey(change.seq), encodeRecord(change)));
      changes.push(change);
    }
    await this.db.commit(ops);
    return changes;
  }

  /** Every current record, as changes numbered up to the log's last sequence. */
  async snapshot(): Promise<{ seq: number; entries: DirectoryEntry[] }> {
    const entries: DirectoryEntry[] = [];
    for await (const [key, raw] of this.db.scan('dir', '')) {
      const colon = key.indexOf(':');
      const kind = key.slice(0, colon) as DirectoryEntry['kind'];
      entries.push({ kind, key: key.slice(colon + 1), value: decodeRecord(raw) } as DirectoryEntry);
    }
    return { seq: this.lastSeq, entries };
  }

  /** Changes after `fromSeq`, in order (for a cache that fell behind). */
  async changesSince(fromSeq: number, limit = 10_000): Promise<DirectoryChange[]> {
    const out: DirectoryChange[] = [];
    const it = this.db.space('dirlog').values({ gt: seqKey(fromSeq), limit });
    try {
      for await (const raw of it) out.push(decodeRecord<DirectoryChange>(raw as Buffer));
    } finally {
      await it.close();
    }
    return out;
  }

  get seq(): number {
    return this.lastSeq;
  }
}
