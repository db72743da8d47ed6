// How message records, account records and queue entries are written: a message record
// as a compact array with the body's SHA-256 in binary, account and folder records as arrays, a queue entry with its recipients' field
// names once and `original` only where it differs from the address. Both read back
// as the same objects from a real LevelDB, records written the old way (maps) still
// read, and the new forms are the smaller ones.
import { expect, it } from 'vitest';
import { Database } from '../../src/store/database.js';
import { encodeRecord } from '../../src/store/codec.js';
import {
  MailboxStore, decodeAccount, decodeFolder, decodeMessage, encodeAccount, encodeFolder, encodeMessage, messageKey, newFolder,
  type AccountRecord, type FolderRecord, type MessageRecord,
} from '../../src/store/mailbox-store.js';
import { QueueStore, type QueueEntry } from '../../src/store/queue-store.js';
import { put } from '../../src/store/database.js';
import { tempDir } from '../support/server.js';

const sha = 'c0ffee'.repeat(10) + '0123';

it('stores a message record compactly and reads it back, old map records included', async () => {
  const delivered: MessageRecord = { uid: 7, blob: sha, size: 102_400, flags: [], internalDate: 1_764_775_000_123, modseq: 12, deliveryId: 'MIQ3ABCD01F3A.ann@example.test' };
  const copied: MessageRecord = { uid: 8, blob: sha, size: 5, flags: ['\\Seen', 'Work'], internalDate: 1, modseq: 13, savedAt: 1_764_775_001_000 };
  const plain: MessageRecord = { uid: 9, blob: 'not-a-sha', size: 1, flags: ['\\Deleted'], internalDate: 2, modseq: 14 };
  for (const record of [delivered, copied, plain]) expect(decodeMessage(encodeMessage(record))).toEqual(record);
  expect(encodeMessage(delivered).length).toBeLessThan(encodeRecord(delivered).length - 50);

  const db = new Database(tempDir('ternmail-records-'));
  await db.open();
  try {
    const store = new MailboxStore(db);
    const old: MessageRecord = { uid: 1, blob: sha, size: 3, flags: ['\\Seen'], internalDate: 3, modseq: 2, deliveryId: 'Q.ann@example.test' };
    await db.commit([put('msg', messageKey('m1', 1, 1), encodeRecord(old)), store.messageOp('m1', 1, delivered), store.messageOp('m1', 1, copied)]);
    expect(await store.listMessages('m1', 1)).toEqual([old, delivered, copied]);
    expect(await store.getMessage('m1', 1, 8)).toEqual(copied);
  } finally {
    await db.close();
  }
});

it('stores an account record compactly and reads it back, old map records included', async () => {
  const plain: AccountRecord = { mailboxId: 'k3v9q2m1x8', nextFolderId: 7, messages: 12_345, bytes: 987_654_321 };
  const subscribed: AccountRecord = { ...plain, subscribedNames: ['Gone', 'Later'] };
  const annotated: AccountRecord = { ...plain, metadata: { '/shared/comment': 'hello' } };
  for (const record of [plain, subscribed, annotated]) expect(decodeAccount(record.mailboxId, encodeAccount(record))).toEqual(record);
  expect(encodeAccount(plain).length).toBeLessThan(encodeRecord(plain).length / 4);
  expect(decodeAccount(subscribed.mailboxId, encodeRecord(subscribed))).toEqual(subscribed);

  const db = new Database(tempDir('ternmail-records-'));
  await db.open();
  try {
    const store = new MailboxStore(db);
    await db.commit([store.accountOp(plain), put('acct', 'older', encodeRecord({ ...annotated, mailboxId: 'older' }))]);
    const read: AccountRecord[] = [];
    for await (const account of store.accounts()) read.push(account);
    expect(read).toEqual([plain, { ...annotated, mailboxId: 'older' }]);
  } finally {
    await db.close();
  }
});

it('stores a folder record compactly and reads it back, old map records included', async () => {
  const inbox = { ...newFolder(1, 'INBOX', null), uidNext: 4321, messages: 4000, bytes: 123_456_789, unseen: 12, deleted: 3, firstRecentUid: 4300 };
  const annotated: FolderRecord = { ...newFolder(9, 'Work/Å', '\\Archive'), subscribed: false, metadata: { '/private/comment': 'x' } };
  const shared: FolderRecord = { ...newFolder(10, 'Team', null), acl: { 'bob@example.test': 'lrs:m-bob', anyone: 'l' } };
  const sharedAnnotated: FolderRecord = { ...annotated, acl: { anyone: 'lr' } };
  const older = { ...newFolder(3, 'Old', null) } as Partial<FolderRecord>;
  delete older.unseen; delete older.deleted; delete older.firstRecentUid;
  for (const record of [inbox, annotated, shared, sharedAnnotated, older as FolderRecord]) expect(decodeFolder(encodeFolder(record))).toEqual(record);
  expect(encodeFolder(inbox).length).toBeLessThan(encodeRecord(inbox).length / 2);
  expect(decodeFolder(encodeRecord(annotated))).toEqual(annotated);
});

it('stores a queue entry with its recipients compactly and reads every field back', async () => {
  const db = new Database(tempDir('ternmail-records-'));
  await db.open();
  try {
    const queue = new QueueStore(db, 4);
    const recipients = Array.from({ length: 100 }, (_, i) => ({
      address: `user${i}@example.test`, original: i === 3 ? 'alias@example.test' : `user${i}@example.test`,
      kind: 'local' as const, state: 'pending' as const, attempts: 0, nextAttempt: 1_764_775_000_000 + i, lastError: null,
    }));
    const entry: QueueEntry = {
      id: 'MIQ3ABCD01F3A', partition: 2, from: 'sender@example.net', blob: sha, size: 102_400, arrived: 1_764_775_000_000,
      client: '127.0.0.1', recipients, held: false, delayNotified: true,
    };
    const op = queue.putOp({ ...entry, mailboxHoldsRef: true, recovered: true });
    expect(op.type === 'put' && op.value.length).toBeLessThan(encodeRecord(entry).length / 2);
    await db.commit([op]);
    const read: QueueEntry[] = [];
    for await (const e of queue.entries()) read.push(e);
    expect(read).toEqual([entry]);
  } finally {
    await db.close();
  }
});
