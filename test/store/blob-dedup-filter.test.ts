// The dedup check's Bloom filter (perf issue 11, item 5): a body stored earlier (before
// this process, or while the filter was loading) is always found, never stored twice.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { tempDir } from '../support/server.js';

let dir: string;
let db: Database;

beforeEach(async () => {
  dir = tempDir('ternmail-bloom-');
  db = new Database(dir);
  await db.open();
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function store(blobs: BlobStore, raw: Buffer, holder: string) {
  const upload = blobs.beginUpload();
  upload.write(raw);
  const finished = await upload.finish(holder);
  try {
    await db.commit(finished.ops);
  } finally {
    finished.release();
  }
  return finished;
}

const body = (i: number) => Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`);
const settle = () => new Promise((r) => setTimeout(r, 50));

it('finds bodies stored before the store was created and those committed since', async () => {
  const first = new BlobStore(db);
  for (let i = 0; i < 20; i++) expect((await store(first, body(i), `q${i}`)).deduplicated).toBe(false);

  const blobs = new BlobStore(db); // a restart: a fresh filter, filled by the scan
  expect((await store(blobs, body(0), 'again0')).deduplicated).toBe(true);
  await settle(); // the scan is done: checks now use the filter
  for (let i = 0; i < 20; i++) expect((await store(blobs, body(i), `x${i}`)).deduplicated).toBe(true);
  expect((await store(blobs, body(100), 'new')).deduplicated).toBe(false);
  expect((await store(blobs, body(100), 'new2')).deduplicated).toBe(true);
  expect(await blobs.has('0'.repeat(64))).toBe(false);
  expect((await blobs.stats()).blobs).toBe(21);
});

it('a body deleted after it was known is reported absent (a false positive only costs a read)', async () => {
  const blobs = new BlobStore(db);
  const f = await store(blobs, body(1), 'q1');
  await settle();
  await db.commit([blobs.unrefOp(f.sha, 'q1')]);
  expect(await blobs.collect(f.sha)).toBe(true);
  expect(await blobs.has(f.sha)).toBe(false);
  expect((await store(blobs, body(1), 'q2')).deduplicated).toBe(false);
});

it('counts blob bytes without decoding records it built', async () => {
  const blobs = new BlobStore(db);
  expect(await blobs.stats()).toEqual({ blobs: 0, blobBytes: 0 });
  await store(blobs, body(7), 'q');
  expect(await blobs.stats()).toEqual({ blobs: 1, blobBytes: body(7).length });
});

it('sweep collects bodies whose last reference went without a collect, and keeps referenced ones (item 3)', async () => {
  const blobs = new BlobStore(db);
  const kept = await store(blobs, body(1), 'queue:a');
  const leaked = await store(blobs, body(2), 'queue:b');
  await db.commit([blobs.addRefOp(leaked.sha, 'mbox:1')]);
  // The queue dropped its reference and skipped collect; then the mailbox expunged without a collect finding it free.
  await db.commit([blobs.unrefOp(leaked.sha, 'queue:b')]);
  await db.commit([blobs.unrefOp(leaked.sha, 'mbox:1')]);
  expect(await blobs.has(leaked.sha)).toBe(true);
  expect(await blobs.sweep()).toBe(1);
  expect(await blobs.has(leaked.sha)).toBe(false);
  expect(await blobs.has(kept.sha)).toBe(true);
  expect((await blobs.readAll(kept.sha)).equals(body(1))).toBe(true);
  expect(await blobs.sweep()).toBe(0);
});
