// SharedCommit: writers acting at the same moment (the mailboxes of one queue entry's
// local recipients) go to disk in one synced batch; a writer that never comes does not
// hold the others (they go one turn of the event loop after the first arrived), a
// writer that comes late commits on its own, and a failed batch fails every writer in it.
import { afterAll, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Database, put } from '../../src/store/database.js';
import { SharedCommit } from '../../src/store/shared-commit.js';
import { tempDir } from '../support/server.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const value = (s: string) => Buffer.from(s);

it('commits every expected writer in one synced batch, and falls back without blocking', async () => {
  const db = new Database(dir);
  await db.open();

  // Three writers, all there: one batch, all resolved, all readable.
  let before = db.commitStats.batches;
  const three = new SharedCommit(db, 3);
  await Promise.all([1, 2, 3].map((i) => three.commit([put('meta', `a${i}`, value(`v${i}`))])));
  expect(db.commitStats.batches - before).toBe(1);
  for (const i of [1, 2, 3]) expect((await db.get('meta', `a${i}`))?.toString()).toBe(`v${i}`);

  // A writer that skips counts as there: the batch goes at once.
  before = db.commitStats.batches;
  const skipped = new SharedCommit(db, 2);
  const done = skipped.commit([put('meta', 'b1', value('x'))]);
  skipped.skip();
  await done;
  expect(db.commitStats.batches - before).toBe(1);

  // Three expected, two come: they go together without waiting for the third; the third,
  // arriving later, commits on its own.
  before = db.commitStats.batches;
  const partial = new SharedCommit(db, 3);
  await Promise.all([partial.commit([put('meta', 'c1', value('1'))]), partial.commit([put('meta', 'c2', value('2'))])]);
  expect(db.commitStats.batches - before).toBe(1);
  await partial.commit([put('meta', 'c3', value('3'))]);
  expect(db.commitStats.batches - before).toBe(2);
  expect((await db.get('meta', 'c3'))?.toString()).toBe('3');

  // A batch the store refuses fails every writer in it.
  const failing = new SharedCommit(db, 2);
  const bad = [failing.commit([put('meta', 'd1', value('1'))]), failing.commit([{ type: 'put', space: 'nope' as never, key: 'd2', value: value('2') }])];
  const outcomes = await Promise.allSettled(bad);
  expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
  expect(await db.get('meta', 'd1')).toBeUndefined();
  await db.close();
});
