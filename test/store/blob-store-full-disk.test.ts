// The blob store on a full disk (a real tmpfs, filled): a chunk write the disk refuses
// is never an unhandled rejection; the upload reports a StorageError with code ENOSPC
// (the IMAP layer maps it to NO), can be aborted, and works again once space is back.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore, CHUNK_SIZE } from '../../src/store/blob-store.js';
import { Database } from '../../src/store/database.js';
import { StorageError } from '../../src/store/storage-error.js';
import { mountSmallDisk, type SmallDisk } from '../support/tmpfs.js';

const disk = mountSmallDisk('16m');
const skip = typeof disk === 'string' ? disk : '';
if (skip) console.warn(`blob-store full-disk tests skipped: ${skip}`);

describe.skipIf(skip !== '')('BlobStore on a full disk', () => {
  let small: SmallDisk;
  let db: Database;
  let blobs: BlobStore;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    small = disk as SmallDisk;
    db = new Database(path.join(small.dir, 'store'));
    await db.open();
    blobs = new BlobStore(db);
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    small.free();
    await db.close();
    small.unmount();
  });

  it('reports refused chunk writes as StorageError ENOSPC, without unhandled rejections', async () => {
    small.fill();
    const upload = blobs.beginUpload();
    let refused: unknown = null;
    try {
      for (let i = 0; i < 40; i++) {
        upload.write(Buffer.alloc(CHUNK_SIZE / 2, 0x61 + (i % 26)));
        await upload.backpressure();
      }
      await upload.finish('q:full');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(StorageError);
    expect((refused as StorageError).code).toBe('ENOSPC');
    await upload.abort().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
  });

  it('refuses storeBody (the APPEND path) with code ENOSPC, and stores again once space is freed', async () => {
    const body = Buffer.from('Subject: append\r\n\r\n' + 'y'.repeat(300 * 1024));
    await expect(blobs.storeBody(body, 'imap-append:1')).rejects.toMatchObject({ code: 'ENOSPC' });
    small.free();
    const sha = await blobs.storeBody(body, 'imap-append:2');
    expect((await blobs.readAll(sha)).equals(body)).toBe(true);
    expect(unhandled).toEqual([]);
  });
});
