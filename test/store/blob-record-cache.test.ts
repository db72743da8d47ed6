// The blob store's cache of recent blob records (blob-cache.ts, issue 16): a freshly
// committed small body is read from memory, a collected one (and its decoded MIME
// structure) is gone at once, a body
// stored again after its collection is read from its new record, and the cache stays
// within its byte budget.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database, del } from '../../src/store/database.js';
import { BlobStore, CHUNK_SIZE, type BlobRecord } from '../../src/store/blob-store.js';
import { BlobRecordCache } from '../../src/store/blob-cache.js';
import { tempDir } from '../support/server.js';

let dir: string;
let db: Database;
let blobs: BlobStore;

beforeEach(async () => {
  dir = tempDir('ternmail-blobcache-');
  db = new Database(dir);
  await db.open();
  blobs = new BlobStore(db);
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function store(raw: Buffer, holder: string): Promise<string> {
  const upload = blobs.beginUpload();
  for (let i = 0; i < raw.length; i += 64 * 1024) upload.write(raw.subarray(i, i + 64 * 1024));
  const finished = await upload.finish(holder);
  try {
    await db.commit(finished.ops);
  } finally {
    finished.release();
  }
  return finished.sha;
}

function recordOf(text: string | number): BlobRecord {
  const inline = typeof text === 'number' ? Buffer.alloc(text) : Buffer.from(text);
  return { size: inline.length, chunks: 0, inline, storageId: 'x', created: 0 };
}

const small = Buffer.from('Subject: fresh\r\n\r\njust appended\r\n');

describe('blob record cache', () => {
  it('serves a freshly committed small body from memory', async () => {
    const sha = await store(small, 'h1');
    // Take the record away under the store's feet: only the cache can still answer.
    await db.commit([del('blob', sha)]);
    expect((await blobs.readAll(sha)).toString()).toBe(small.toString());
  });

  it('forgets a body when it is collected', async () => {
    const sha = await store(small, 'h1');
    expect((await blobs.readAll(sha)).equals(small)).toBe(true);
    await db.commit([blobs.unrefOp(sha, 'h1')]);
    expect(await blobs.collect(sha)).toBe(true);
    expect(await blobs.record(sha)).toBeUndefined();
    await expect(blobs.readAll(sha)).rejects.toThrow(/not found/);
  });

  it('reads a chunked body stored again after its collection from its new chunks', async () => {
    const big = Buffer.alloc(CHUNK_SIZE + 1000, 'x');
    big.write('Subject: big\r\n\r\n');
    const sha = await store(big, 'h1');
    expect((await blobs.readAll(sha)).equals(big)).toBe(true);
    await db.commit([blobs.unrefOp(sha, 'h1')]);
    await blobs.collect(sha);
    expect(await store(big, 'h2')).toBe(sha);
    expect((await blobs.readAll(sha)).equals(big)).toBe(true);
  });

  it('keeps a body of one chunk whole once read; its collect still deletes the chunk', async () => {
    const body = Buffer.alloc(80 * 1024, 'y');
    body.write('Subject: one chunk\r\n\r\n');
    const sha = await store(body, 'h1');
    expect((await blobs.record(sha))?.chunks).toBe(1);
    expect((await blobs.readAll(sha)).equals(body)).toBe(true);
    const chunkKey = `${(await blobs.record(sha))!.storageId}:000000`;
    const chunk = await db.get('chunk', chunkKey);
    // Take the chunk away under the store's feet: only the cache can answer now.
    await db.commit([del('chunk', chunkKey)]);
    expect((await blobs.readAll(sha)).equals(body)).toBe(true);
    // Its collect still deletes the chunk on disk.
    await db.commit([{ type: 'put', space: 'chunk', key: chunkKey, value: chunk! }, blobs.unrefOp(sha, 'h1')]);
    expect(await blobs.collect(sha)).toBe(true);
    expect(await db.get('chunk', chunkKey)).toBeUndefined();
  });

  it('decodes a structure once, and forgets it when the body is collected', async () => {
    const sha = await store(small, 'h1');
    const first = await blobs.structure(sha);
    expect(await blobs.structure(sha)).toBe(first);
    await db.commit([blobs.unrefOp(sha, 'h1')]);
    await blobs.collect(sha);
    await expect(blobs.structure(sha)).rejects.toThrow(/not found/);
  });

  it('fills from disk reads, and not from a read that a collect overtook', async () => {
    const cache = new BlobRecordCache<BlobRecord>(4096);
    const token = cache.readStarted();
    cache.collected('a');
    cache.fill('a', recordOf('stale'), token);
    expect(cache.get('a')).toBeUndefined();
    cache.fill('b', recordOf('fresh'), cache.readStarted());
    expect(Buffer.from(cache.get('b')!.inline!).toString()).toBe('fresh');
    // A collect of another body meanwhile does not stop the fill.
    const other = cache.readStarted();
    cache.collected('b');
    cache.fill('c', recordOf('kept'), other);
    expect(Buffer.from(cache.get('c')!.inline!).toString()).toBe('kept');
  });

  it('stays within its byte budget, least recently used out', () => {
    // Each entry costs its inline bytes plus a fixed overhead (160): 340 + 160 = 500.
    const cache = new BlobRecordCache<BlobRecord>(5000);
    for (let i = 0; i < 50; i++) cache.put(`k${i}`, recordOf(340));
    expect(cache.usedBytes).toBeLessThanOrEqual(5000);
    expect(cache.size).toBe(10);
    expect(cache.get('k49')).toBeDefined();
    expect(cache.get('k0')).toBeUndefined();
    cache.put('huge', recordOf(6000));
    expect(cache.get('huge')).toBeUndefined();
  });
});
