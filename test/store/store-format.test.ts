// The store records the format of the records written to it, and a version that reads
// only lower formats refuses to open the folder with one line naming the folder, rather
// than misread it (issue 11 changed the record layout: a downgrade would misread counts).
import { afterEach, expect, it } from 'vitest';
import { Database, STORE_FORMAT } from '../../src/store/database.js';
import { StartupError } from '../../src/core/startup-error.js';
import { tempDir } from '../support/server.js';

let db: Database | undefined;
afterEach(async () => {
  await db?.close().catch(() => undefined);
  db = undefined;
});

it('writes its format into a new store and opens it again', async () => {
  const dir = tempDir();
  db = new Database(dir);
  await db.open();
  expect((await db.get('meta', 'format'))?.toString()).toBe(String(STORE_FORMAT));
  await db.close();
  db = new Database(dir);
  await db.open();
  expect((await db.get('meta', 'format'))?.toString()).toBe(String(STORE_FORMAT));
});

it('refuses a store written in a newer format, naming the folder', async () => {
  const dir = tempDir();
  db = new Database(dir);
  await db.open();
  await db.commit([{ type: 'put', space: 'meta', key: 'format', value: Buffer.from(String(STORE_FORMAT + 1)) }]);
  await db.close();
  db = new Database(dir);
  const opening = db.open();
  await expect(opening).rejects.toBeInstanceOf(StartupError);
  await expect(opening).rejects.toThrow(`${dir} was written by a newer ternmail (store format ${STORE_FORMAT + 1}`);
  db = undefined;
});

it('opens a store of format 2 as it is and records format 3 (deflated large bodies) from then on', async () => {
  expect(STORE_FORMAT).toBe(3);
  const dir = tempDir();
  db = new Database(dir);
  await db.open();
  await db.commit([{ type: 'put', space: 'meta', key: 'format', value: Buffer.from('2') }]);
  await db.close();
  db = new Database(dir);
  await db.open();
  expect((await db.get('meta', 'format'))?.toString()).toBe('3');
});
