// Large bodies stored deflated where it pays (src/store/body-packing.ts), on a real
// LevelDB: a base64 attachment takes about three quarters of its size on disk, random
// bytes are stored as they are, every body reads back byte for byte (one chunk, several
// chunks, through a restart, from the upload itself), and a body written by store
// format 2 (chunks as they are, no flag) still reads.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Database, put } from '../../src/store/database.js';
import { BlobStore, CHUNK_SIZE, type BlobRecord } from '../../src/store/blob-store.js';
import { decodeRecord, encodeRecord } from '../../src/store/codec.js';
import { tempDir } from '../support/server.js';

let dir: string;
let db: Database;
let blobs: BlobStore;

beforeEach(async () => {
  dir = tempDir('ternmail-packing-');
  db = new Database(dir);
  await db.open();
  blobs = new BlobStore(db);
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A message with a base64 attachment of `bytes` random bytes, 76-character lines. */
function withAttachment(bytes: number): Buffer {
  const lines = randomBytes(bytes).toString('base64').match(/.{1,76}/g)!.join('\r\n');
  return Buffer.from(`From: a@example.test\r\nSubject: attachment\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${lines}\r\n`);
}

async function store(raw: Buffer, holder: string): Promise<string> {
  const upload = blobs.beginUpload();
  for (let i = 0; i < raw.length; i += 50_000) {
    upload.write(raw.subarray(i, i + 50_000));
    await upload.backpressure();
  }
  const finished = await upload.finish(holder);
  try {
    await db.commit(finished.ops);
  } finally {
    finished.release();
  }
  return finished.sha;
}

async function chunkBytes(): Promise<number> {
  let total = 0;
  for await (const [, value] of db.scan('chunk', '')) total += value.length;
  return total;
}

async function storedRecord(sha: string): Promise<BlobRecord> {
  return decodeRecord<BlobRecord>((await db.get('blob', sha))!);
}

it('stores a 100 KiB base64 body deflated, at most 0.8 of its size, and reads it back', async () => {
  const raw = withAttachment(75_000);
  expect(raw.length).toBeGreaterThan(100_000);
  const sha = await store(raw, 'h1');
  expect((await storedRecord(sha)).deflated).toBe(true);
  expect(await chunkBytes()).toBeLessThan(raw.length * 0.8);
  expect((await blobs.readAll(sha)).equals(raw)).toBe(true);
  // From disk, not from the record cache, through a second store on the same folder.
  expect((await new BlobStore(db).readAll(sha)).equals(raw)).toBe(true);
});

it('stores a body of several chunks deflated chunk by chunk and reads it back after a restart', async () => {
  const raw = withAttachment(3 * CHUNK_SIZE);
  const sha = await store(raw, 'h1');
  const record = await storedRecord(sha);
  expect(record.chunks).toBeGreaterThan(3);
  expect(record.deflated).toBe(true);
  expect(await chunkBytes()).toBeLessThan(raw.length * 0.8);
  await db.close();
  db = new Database(dir);
  await db.open();
  blobs = new BlobStore(db);
  expect((await blobs.readAll(sha)).equals(raw)).toBe(true);
  const parts: Buffer[] = [];
  for await (const chunk of blobs.read(sha)) parts.push(chunk);
  expect(parts.every((chunk) => chunk.length <= CHUNK_SIZE)).toBe(true);
});

it('stores random bytes as they are: compression that does not pay is not kept', async () => {
  const raw = Buffer.concat([Buffer.from('Subject: binary\r\n\r\n'), randomBytes(2 * CHUNK_SIZE + 1000)]);
  const sha = await store(raw, 'h1');
  expect((await storedRecord(sha)).deflated).toBeUndefined();
  expect(await chunkBytes()).toBe(raw.length);
  expect((await blobs.readAll(sha)).equals(raw)).toBe(true);
});

it('an upload reads its own deflated chunks back as received', async () => {
  const raw = withAttachment(2 * CHUNK_SIZE);
  const upload = blobs.beginUpload();
  upload.write(raw);
  const parts: Buffer[] = [];
  for await (const chunk of upload.contents()) parts.push(chunk);
  expect(Buffer.concat(parts).equals(raw)).toBe(true);
  await upload.abort();
});

it('reads a body stored by format 2: chunks as they are and no flag in the record', async () => {
  const raw = withAttachment(100_000);
  const sha = 'f'.repeat(64);
  const record: BlobRecord = { size: raw.length, chunks: 1, storageId: 'oldformat000', created: Date.now() };
  await db.commit([put('chunk', 'oldformat000:000000', raw), put('blob', sha, encodeRecord(record)), blobs.refOp(sha, 'h1')]);
  expect((await blobs.readAll(sha)).equals(raw)).toBe(true);
});
