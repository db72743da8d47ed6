// Reference counts of bodies kept in memory (src/store/blob-ref-counts.ts), on a real
// LevelDB: once a body's count is learned, collects that find it still referenced need no
// disk lookup; a body is deleted only when the disk says no reference is left, before and
// after a restart (the counts are not stored); an over-count only delays a body until the
// orphan sweep; the memory they take is bounded.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { BlobRefCounts, bodyOfRef } from '../../src/store/blob-ref-counts.js';
import { tempDir } from '../support/server.js';

let dir: string;
let db: Database;
let blobs: BlobStore;

async function openStore(): Promise<void> {
  db = new Database(dir);
  await db.open();
  blobs = new BlobStore(db);
}

beforeEach(async () => {
  dir = tempDir('ternmail-refcount-');
  await openStore();
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const body = Buffer.from('From: a@example.test\r\nSubject: counted\r\n\r\nthe same body, held by many\r\n');

async function storeFor(holder: string): Promise<string> {
  const upload = blobs.beginUpload();
  upload.write(body);
  const finished = await upload.finish(holder);
  try {
    await db.commit(finished.ops);
  } finally {
    finished.release();
  }
  return finished.sha;
}

async function unref(sha: string, holder: string): Promise<void> {
  await db.commit([blobs.unrefOp(sha, holder)]);
}

async function stored(sha: string): Promise<boolean> {
  return (await db.get('blob', sha)) !== undefined;
}

/** Counts the reference lookups on disk (the real scan still runs). */
function countRefScans(): { scans: () => number } {
  const spy = vi.spyOn(db, 'scanKeys');
  return { scans: () => spy.mock.calls.filter(([space]) => space === 'bref').length };
}

describe('body reference counts in memory', () => {
  it('keeps a still-referenced body without a disk lookup once its count is known, and deletes it after the last reference', async () => {
    const holders = ['m:1', 'm:2', 'm:3', 'm:4'];
    let sha = '';
    for (const holder of holders) sha = await storeFor(holder);
    const lookups = countRefScans();

    await unref(sha, 'm:1');
    expect(await blobs.collect(sha)).toBe(false);
    expect(lookups.scans()).toBe(1); // the first collect learns the count (3) from disk

    await unref(sha, 'm:2');
    expect(await blobs.collect(sha)).toBe(false);
    await unref(sha, 'm:3');
    expect(await blobs.collect(sha)).toBe(false);
    expect(lookups.scans()).toBe(1); // decided from memory
    expect(await stored(sha)).toBe(true);

    await unref(sha, 'm:4');
    expect(await blobs.collect(sha)).toBe(true); // count 0: the disk confirms, the body goes
    expect(lookups.scans()).toBe(2);
    expect(await stored(sha)).toBe(false);
  });

  it('counts references added after the count was learned (a COPY): the body stays while one is left', async () => {
    const sha = await storeFor('m:1');
    await storeFor('m:2');
    await unref(sha, 'm:1');
    expect(await blobs.collect(sha)).toBe(false); // learned: 1
    await db.commit([blobs.addRefOp(sha, 'm:3')]);
    await unref(sha, 'm:2');
    const lookups = countRefScans();
    expect(await blobs.collect(sha)).toBe(false); // 1 left (m:3), known without the disk
    expect(lookups.scans()).toBe(0);
    expect(await stored(sha)).toBe(true);
    await unref(sha, 'm:3');
    expect(await blobs.collect(sha)).toBe(true);
    expect(await stored(sha)).toBe(false);
  });

  it('after a restart the counts are unknown: the first collect reads the disk, and the body goes only with its last reference', async () => {
    const sha = await storeFor('m:1');
    await storeFor('m:2');
    await storeFor('m:3');
    await unref(sha, 'm:1');
    expect(await blobs.collect(sha)).toBe(false); // learned: 2 (in memory only)

    await db.close();
    await openStore();
    expect(blobs.refCounts.size).toBe(0);
    await unref(sha, 'm:2');
    const lookups = countRefScans();
    expect(await blobs.collect(sha)).toBe(false);
    expect(lookups.scans()).toBe(1);
    expect(await stored(sha)).toBe(true);
    await unref(sha, 'm:3');
    expect(await blobs.collect(sha)).toBe(true);
    expect(await stored(sha)).toBe(false);
  });

  it('a reference put twice over-counts: the body outlives its last reference only until the orphan sweep, which reads the disk', async () => {
    const sha = await storeFor('m:1');
    await storeFor('m:2');
    await unref(sha, 'm:1');
    expect(await blobs.collect(sha)).toBe(false); // learned: 1
    await db.commit([blobs.addRefOp(sha, 'm:2')]); // the same key again: memory says 2
    await unref(sha, 'm:2');
    expect(await blobs.collect(sha)).toBe(false); // memory still says 1: kept
    expect(await stored(sha)).toBe(true);
    expect(await blobs.sweep()).toBe(1);
    expect(await stored(sha)).toBe(false);
  });

  it('a reference written without a synced commit is never missed: a count at zero asks the disk', async () => {
    const sha = await storeFor('m:1');
    await storeFor('m:2');
    await unref(sha, 'm:1');
    expect(await blobs.collect(sha)).toBe(false); // learned: 1
    await db.write([blobs.addRefOp(sha, 'm:9')]); // unsynced: memory does not see it
    await unref(sha, 'm:2'); // memory: 0
    expect(await blobs.collect(sha)).toBe(false); // the disk still has m:9
    expect(await stored(sha)).toBe(true);
  });
});

describe('BlobRefCounts', () => {
  it('keeps at most its limit of bodies, the oldest counted going first', () => {
    const counts = new BlobRefCounts(2);
    for (const sha of ['a', 'b', 'c']) {
      counts.startCounting(sha);
      counts.learned(sha, 1);
    }
    expect(counts.size).toBe(2);
    expect(counts.referenced('a')).toBe(false);
    expect(counts.referenced('b')).toBe(true);
    expect(counts.referenced('c')).toBe(true);
  });

  it('moves only the counts it knows, by committed reference puts and deletes', () => {
    const counts = new BlobRefCounts();
    counts.startCounting('s1');
    counts.learned('s1', 1);
    counts.applyCommitted([
      { type: 'del', space: 'bref', key: 's1:m:1' },
      { type: 'put', space: 'bref', key: 's2:m:1', value: Buffer.alloc(0) },
      { type: 'del', space: 'blob', key: 's1' },
    ]);
    expect(counts.referenced('s1')).toBe(false);
    expect(counts.referenced('s2')).toBe(false);
    expect(counts.size).toBe(1);
    expect(bodyOfRef('abc:mailbox:folder:7')).toBe('abc');
  });
});
