// How many references each recently collected body still has, kept in memory so that
// collecting a body after an EXPUNGE need not look its references up on disk. That lookup
// is a LevelDB iterator per body, which seeks past the tombstone of every reference
// deleted before: under imaptest's kept-sessions mix (issue 16), where fifty mailboxes
// keep appending and expunging the same bodies, it was the largest item of the profile.
//
// A count is learned from disk the first time a body is collected (under the body's lock,
// from the same snapshot moment from which committed batches are counted), then kept
// current from every committed batch. It only ever answers "still referenced, keep the
// body": a count of zero, or none, sends the collect to the disk exactly as before. So an
// under-count (a reference written outside a synced commit) costs one more scan and never
// a body; an over-count (a reference put twice) only keeps a body until the orphan sweep,
// which always reads the disk. Nothing of it is stored: after a restart every body is
// unknown again, and its first collect reads the disk. Bounded: the oldest entries go.

import type { WriteOp } from './database.js';

/** Bodies whose counts are kept (about 150 bytes each, 2.4 MiB in all): the rest are looked up on disk. */
export const REF_COUNT_ENTRIES = 16_384;
/** A first count reads at most this many references; a body with more is counted as having this many (an under-count). */
export const REF_COUNT_SCAN_LIMIT = 1024;

/** The body a reference key (`sha:holder`, space 'bref') belongs to. */
export function bodyOfRef(key: string): string {
  const colon = key.indexOf(':');
  return colon < 0 ? key : key.slice(0, colon);
}

export class BlobRefCounts {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit = REF_COUNT_ENTRIES) {}

  get size(): number {
    return this.counts.size;
  }

  /** A synced batch is on disk: its reference puts and deletes move the known counts. */
  applyCommitted(ops: readonly WriteOp[]): void {
    if (this.counts.size === 0) return;
    for (const op of ops) {
      if (op.space !== 'bref') continue;
      const sha = bodyOfRef(op.key);
      const count = this.counts.get(sha);
      if (count !== undefined) this.counts.set(sha, count + (op.type === 'put' ? 1 : -1));
    }
  }

  /** True only when the body certainly still has a reference (as far as memory knows). */
  referenced(sha: string): boolean {
    return (this.counts.get(sha) ?? 0) > 0;
  }

  /**
   * Starts counting `sha`'s references from this moment: the caller reads those on disk
   * from a snapshot taken in the same turn and passes their number to `learned`.
   */
  startCounting(sha: string): void {
    this.counts.delete(sha);
    this.counts.set(sha, 0);
    if (this.counts.size > this.limit) this.counts.delete(this.counts.keys().next().value!);
  }

  /** Adds the references found on disk to what committed since `startCounting`. */
  learned(sha: string, onDisk: number): void {
    const since = this.counts.get(sha);
    if (since !== undefined) this.counts.set(sha, since + onDisk);
  }

  /** The body is gone (collected): nothing to count. */
  forget(sha: string): void {
    this.counts.delete(sha);
  }
}
