// The SORT/THREAD keys of a folder's messages (src/mime/sort-keys.ts), kept in memory by
// body hash: bodies never change, so a body seen before costs a map lookup. Keys not in
// memory come from the store's per-body rows in one read for the whole folder (written
// when each body was stored, rebuilt there for bodies stored before the rows existed);
// only a reader without rows (a mailbox on another node) computes them from structures.
import { sortKeysOf as keysOfMessage, type SortKeys } from '../mime/sort-keys.js';
import type { MessageReader } from './fetch-items.js';

export type { SortKeys };

/** Entries kept per process: a few hundred bytes each, since every string in them is capped. */
const MAX_ENTRIES = 100_000;
const keysByBlob = new Map<string, SortKeys>();
/** Structures read at once when a reader has no stored rows. */
const PARALLEL_READS = 32;

/** The keys in memory for `sha`, without waiting: after a warm-up, every message's. */
export function knownSortKeys(sha: string): SortKeys | undefined {
  return keysByBlob.get(sha);
}

/** The keys of the message stored as `sha`, from memory, the store's row or its structure. */
export async function sortKeysOf(reader: MessageReader, sha: string): Promise<SortKeys> {
  const cached = keysByBlob.get(sha);
  if (cached !== undefined) return cached;
  const [stored] = reader.sortKeys === undefined ? [null] : await reader.sortKeys([sha]);
  const keys = stored ?? (await computeKeys(reader, sha));
  remember(sha, keys);
  return keys;
}

/**
 * Loads the keys of many bodies into memory: one read of the stored rows for all of them,
 * then, for what that did not give, structures a few at a time (the store answers reads
 * from its thread pool). A body gone meanwhile (expunged elsewhere) is skipped here; the
 * caller meets the same error for it and handles it.
 */
export async function warmSortKeys(reader: MessageReader, shas: string[], uidValidity: number): Promise<void> {
  // The common case after the first call: every key in memory, found without building a set.
  if (shas.every((sha) => sha === '' || keysByBlob.has(sha))) return;
  const all = [...new Set(shas.filter((sha) => sha !== ''))];
  let missing = all.filter((sha) => !keysByBlob.has(sha));
  if (missing.length === 0) return;
  if (reader.sortKeys !== undefined) {
    // The folder's snapshot serves (and is rewritten for) the whole folder only: none of it in memory.
    const stored = await reader.sortKeys(missing, missing.length === all.length ? uidValidity : undefined);
    missing = missing.filter((sha, i) => {
      const keys = stored[i];
      if (keys === null || keys === undefined) return true;
      remember(sha, keys);
      return false;
    });
  }
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < missing.length; i = next++) {
      const sha = missing[i]!;
      try {
        remember(sha, await computeKeys(reader, sha));
      } catch {
        // Left out here (see above).
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_READS, missing.length) }, worker));
}

async function computeKeys(reader: MessageReader, sha: string): Promise<SortKeys> {
  const structure = await reader.structure(sha);
  const needsHeader = structure.headers.some((f) => f.name === 'references');
  return keysOfMessage(structure, needsHeader ? await reader.readAll(sha) : Buffer.alloc(0));
}

function remember(sha: string, keys: SortKeys): void {
  if (keysByBlob.size >= MAX_ENTRIES) keysByBlob.delete(keysByBlob.keys().next().value!);
  keysByBlob.set(sha, keys);
}
