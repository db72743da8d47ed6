// Chunks a body spilled before its commit (bodies over one chunk are written to disk as
// they arrive, unsynced) are left behind by a crash before the commit: the store's sweep
// deletes them, and never a chunk of a stored body or of an upload still under way.
// The crash is a real one: a child process spills a body's chunks and is killed with
// SIGKILL before committing; the store is then opened again here.
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { Database } from '../../src/store/database.js';
import { BlobStore, CHUNK_SIZE } from '../../src/store/blob-store.js';
import { tempDir } from '../support/server.js';

const root = path.resolve(import.meta.dirname, '..', '..');
let dir: string;
let db: Database | undefined;

afterEach(async () => {
  await db?.close();
  db = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A child that spills three chunks of a body, syncs them to disk, says so and waits to be killed. */
async function spillThenCrash(store: string): Promise<void> {
  const script = path.join(dir, 'spill.mjs');
  writeFileSync(script, `
    import { Database } from ${JSON.stringify(path.join(root, 'build/src/store/database.js'))};
    import { BlobStore } from ${JSON.stringify(path.join(root, 'build/src/store/blob-store.js'))};
    import { randomBytes } from 'node:crypto';
    const db = new Database(process.argv[2]);
    await db.open();
    const upload = new BlobStore(db).beginUpload();
    upload.write(randomBytes(${3 * CHUNK_SIZE + 100}));
    await upload.backpressure();
    for await (const _ of upload.contents()) { /* waits for the spills */ }
    await db.commit([]);
    process.stdout.write('spilled\\n');
    setInterval(() => undefined, 1000);
  `);
  const child = spawn(process.execPath, [script, store], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('spilled') && resolve());
    child.once('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

async function chunkKeys(): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of db!.scanKeys('chunk', '')) keys.push(key);
  return keys;
}

it('deletes the chunks a crash left unreferenced, keeping stored bodies and uploads under way', async () => {
  dir = tempDir('ternmail-orphans-');
  const store = path.join(dir, 'store');
  await spillThenCrash(store);

  db = new Database(store);
  await db.open();
  const orphans = await chunkKeys();
  expect(orphans.length).toBe(3);

  const blobs = new BlobStore(db);
  const body = randomBytes(2 * CHUNK_SIZE + 10);
  const stored = blobs.beginUpload();
  stored.write(body);
  const finished = await stored.finish('h1');
  await db.commit(finished.ops);
  finished.release();
  const underWay = blobs.beginUpload();
  underWay.write(randomBytes(CHUNK_SIZE + 10));
  await underWay.backpressure();
  for await (const _ of underWay.contents()) { /* waits for its spill */ }

  expect(await blobs.sweepChunks()).toBe(3);
  const left = await chunkKeys();
  expect(left.filter((key) => orphans.includes(key))).toEqual([]);
  expect((await blobs.readAll(finished.sha)).equals(body)).toBe(true);
  expect(left.length).toBe(4);
  await underWay.abort();
  expect(await chunkKeys()).toHaveLength(3);
});
