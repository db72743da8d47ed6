// The blob store on a real LevelDB: single-instance bodies with one reference per
// holder, collection when the last reference goes, and the MIME structure stored
// once with a new body (in memory for small uploads, read back for large ones).
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Database } from '../../src/store/database.js';
import { BlobStore, CHUNK_SIZE, type FinishOptions } from '../../src/store/blob-store.js';
import { decodeRecord } from '../../src/store/codec.js';
import { analyzeMessage } from '../../src/mime/analyze.js';
import type { MessageStructure } from '../../src/mime/types.js';
import { tempDir } from '../support/server.js';

let dir: string;
let db: Database;
let blobs: BlobStore;

beforeEach(async () => {
  dir = tempDir('ternmail-blob-');
  db = new Database(dir);
  await db.open();
  blobs = new BlobStore(db);
});

afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function store(raw: Buffer, holder: string, options?: FinishOptions) {
  const upload = blobs.beginUpload();
  for (let i = 0; i < raw.length; i += 64 * 1024) {
    upload.write(raw.subarray(i, i + 64 * 1024));
    await upload.backpressure();
  }
  const finished = await upload.finish(holder, options);
  try {
    await db.commit(finished.ops);
  } finally {
    finished.release();
  }
  return finished;
}

async function storedStructure(sha: string): Promise<MessageStructure | undefined> {
  const raw = await db.get('bmeta', sha);
  return raw ? decodeRecord<MessageStructure>(raw) : undefined;
}

const small = Buffer.from(
  'From: Ann <ann@example.test>\r\nTo: bob@example.test\r\nSubject: hello\r\nMIME-Version: 1.0\r\n' +
  'Content-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n',
);

function large(): Buffer {
  const head = 'From: big@example.test\r\nSubject: large\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n';
  const part = `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${'QUJD'.repeat(19).concat('\r\n').repeat(8000)}`;
  return Buffer.from(`${head}${part}--b\r\nContent-Type: text/plain\r\n\r\nend\r\n--b--\r\n`);
}

describe('BlobStore', () => {
  it('stores the MIME structure of a new small body in the same batch', async () => {
    const finished = await store(small, 'h1');
    expect(finished.deduplicated).toBe(false);
    expect(finished.ops.some((op) => op.space === 'bmeta')).toBe(true);
    expect(await storedStructure(finished.sha)).toEqual(analyzeMessage(small));
  });

  it('reads a large body back once to analyze it', async () => {
    const raw = large();
    expect(raw.length).toBeGreaterThan(2 * CHUNK_SIZE);
    const finished = await store(raw, 'h1');
    const structure = await storedStructure(finished.sha);
    expect(structure).toEqual(analyzeMessage(raw));
    expect(structure?.root.children).toHaveLength(2);
    expect((await blobs.readAll(finished.sha)).equals(raw)).toBe(true);
  });

  it('does not analyze a deduplicated body again, and adds only a reference', async () => {
    const first = await store(small, 'h1');
    const second = await store(small, 'h2');
    expect(second.deduplicated).toBe(true);
    expect(second.ops.map((op) => op.space)).toEqual(['bref']);
    expect(second.sha).toBe(first.sha);
    expect((await blobs.stats()).blobs).toBe(1);
  });

  it('structure() computes and stores what an upload without analysis lacks', async () => {
    const finished = await store(small, 'h1', { analyze: false });
    expect(await storedStructure(finished.sha)).toBeUndefined();
    expect(await blobs.structure(finished.sha)).toEqual(analyzeMessage(small));
    expect(await storedStructure(finished.sha)).toEqual(analyzeMessage(small));
  });

  it('structure() answers from disk after a restart', async () => {
    const finished = await store(small, 'h1');
    const fresh = new BlobStore(db);
    expect(await fresh.structure(finished.sha)).toEqual(analyzeMessage(small));
  });

  it('collect deletes the body and its structure only when the last reference went', async () => {
    const finished = await store(small, 'h1');
    await store(small, 'h2');
    await db.commit([blobs.unrefOp(finished.sha, 'h1')]);
    expect(await blobs.collect(finished.sha)).toBe(false);
    await db.commit([blobs.unrefOp(finished.sha, 'h2')]);
    expect(await blobs.collect(finished.sha)).toBe(true);
    expect(await blobs.record(finished.sha)).toBeUndefined();
    expect(await storedStructure(finished.sha)).toBeUndefined();
    await expect(blobs.structure(finished.sha)).rejects.toThrow(/not found/);
  });

  it('an aborted upload leaves no chunks behind', async () => {
    const upload = blobs.beginUpload();
    upload.write(large());
    await upload.abort();
    let chunks = 0;
    for await (const _ of db.scanKeys('chunk', '')) chunks += 1;
    expect(chunks).toBe(0);
  });
});
