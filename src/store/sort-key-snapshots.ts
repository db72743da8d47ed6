// Per-folder snapshots of the SORT/THREAD key rows (src/mime/sort-keys.ts): one record
// holding the rows of every message of a large folder, so that the first SORT or THREAD
// after a start reads one value instead of one row per message. A snapshot is derived
// data, written unsynced when the folder has drifted from it, looked up by body hash (a
// stale one only costs the rows it lacks), and deleted with its folder. It is JSON text,
// not msgpack like other records: V8's native parser reads 10,000 rows in a fresh process
// two to five times faster than msgpackr (bench run of 2026-12-03), and a fresh process is
// exactly when a snapshot is read.
import { del, put, type WriteOp } from './database.js';
import { sortKeyRow, sortKeysFromRow, type SortKeys } from '../mime/sort-keys.js';

/** Below this many messages the rows are read one by one (a few milliseconds): no snapshot. */
export const SNAPSHOT_MIN_MESSAGES = 1000;
/** Rewritten once this share of the folder is missing from it, or gone from the folder. */
const DRIFT = 0.05;

/** Key in the `skeys` space: body hashes are 64 hex digits, so the prefix never meets one. */
export function sortSnapshotKey(mailboxId: string, uidValidity: number): string {
  return `folder:${mailboxId}:${uidValidity}`;
}

/** Deletes a folder's snapshot, in the batch that deletes the folder. */
export function sortSnapshotDeleteOp(mailboxId: string, uidValidity: number): WriteOp {
  return del('skeys', sortSnapshotKey(mailboxId, uidValidity));
}

/** The rows of a stored snapshot by body hash; empty when there is none or it does not decode. */
export function readSnapshot(value: Buffer | undefined): Map<string, SortKeys> {
  const out = new Map<string, SortKeys>();
  if (value === undefined) return out;
  let entries: unknown;
  try {
    entries = JSON.parse(value.toString('utf8'));
  } catch {
    return out;
  }
  if (!Array.isArray(entries)) return out;
  for (const entry of entries as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const keys = sortKeysFromRow(entry, 1);
    if (keys !== null) out.set(entry[0], keys);
  }
  return out;
}

/**
 * What to write after reading the folder (`shas`, `keys`) with `snapshot`, of which
 * `missing` bodies were not in it: a new snapshot once the folder drifted DRIFT from it,
 * its deletion once the folder is too small to need one, else nothing.
 */
export function snapshotUpdate(
  key: string, shas: readonly string[], keys: ReadonlyArray<SortKeys | null>, snapshot: Map<string, SortKeys>, missing: number,
): WriteOp | null {
  if (shas.length < SNAPSHOT_MIN_MESSAGES) return snapshot.size > 0 ? del('skeys', key) : null;
  const stale = missing > shas.length * DRIFT || snapshot.size - (shas.length - missing) > shas.length * DRIFT;
  return stale ? snapshotOp(key, shas, keys) : null;
}

/** The snapshot of these bodies' keys (null entries left out). */
function snapshotOp(key: string, shas: readonly string[], keys: ReadonlyArray<SortKeys | null>): WriteOp {
  const entries: unknown[] = [];
  for (const [i, sha] of shas.entries()) {
    const k = keys[i];
    if (k) entries.push([sha, ...sortKeyRow(k)]);
  }
  return put('skeys', key, Buffer.from(JSON.stringify(entries), 'utf8'));
}
