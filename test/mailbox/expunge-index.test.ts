// EXPUNGE of a selected folder reads the selection's index of \Deleted messages (state.ts,
// `Selection.deleted`) instead of every message: that index must follow every way a flag
// comes and goes (APPEND with \Deleted, STORE add/remove/replace, COPY/MOVE into the folder,
// another session's changes, an EXPUNGE by UID set) so that EXPUNGE removes exactly the
// \Deleted messages, in UID order. Real LevelDB, real nact actors.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MailboxStore } from '../../src/store/mailbox-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { MailboxRegistry } from '../../src/mailbox/registry.js';
import { spawn, start, stop } from '../../src/core/supervision.js';
import type { MailboxRequest } from '../../src/mailbox/messages.js';
import type {
  AppendReply, CopyReply, ExpungeReply, FolderEventMessage, ImapDoneReply, SelectReply, StoreReply,
} from '../../src/mailbox/imap-messages.js';
import { tempDir } from '../support/server.js';

const MAILBOX = 'mbx-expunge';
let dir: string;
let db: Database;
let blobs: BlobStore;
let system: ReturnType<typeof start>;
let registry: MailboxRegistry;
let uploads = 0;

beforeEach(async () => {
  dir = tempDir('ternmail-expunge-index-');
  db = new Database(dir);
  await db.open();
  blobs = new BlobStore(db);
  system = start();
  registry = new MailboxRegistry(system as Ref<unknown>, { db, blobs, mailboxes: new MailboxStore(db), log: silentLogger(), testFaults: true }, 60_000);
});

afterEach(async () => {
  registry.close();
  stop(system);
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function request<Res>(build: (replyTo: Ref<Res>) => MailboxRequest): Promise<Res> {
  return registry.ask<Res>(MAILBOX, build, 5000);
}

function ok<T extends { ok: boolean }>(reply: T): Extract<T, { ok: true }> {
  if (!reply.ok) throw new Error(`request failed: ${JSON.stringify(reply)}`);
  return reply as Extract<T, { ok: true }>;
}

async function append(name: string, text: string, flags: string[] = []): Promise<number> {
  const holder = `t:${++uploads}`;
  const up = blobs.beginUpload();
  up.write(Buffer.from(`Subject: ${text}\r\n\r\n${text}\r\n`));
  const finished = await up.finish(holder);
  try {
    await db.commit(finished.ops);
  } finally {
    finished.release();
  }
  const reply = ok(await request<AppendReply>((replyTo) => ({
    type: 'append', name, blob: finished.sha, size: finished.size, flags, internalDate: 1_700_000_000_000, uploadHolder: holder, quota: 0, replyTo,
  })));
  return reply.uid;
}

async function select(name: string, session: string): Promise<void> {
  const listener = spawn(system, (state: null) => state, undefined, { initialState: null }) as Ref<FolderEventMessage>;
  ok(await request<SelectReply>((replyTo) => ({ type: 'select', name, session, readOnly: false, listener, replyTo })));
}

async function store(session: string, uids: number[], operation: 'replace' | 'add' | 'remove', flags: string[]): Promise<void> {
  ok(await request<StoreReply>((replyTo) => ({ type: 'store', name: 'INBOX', session, uids, operation, flags, replyTo })));
}

async function expunge(session: string, uids?: number[]): Promise<number[]> {
  return ok(await request<ExpungeReply>((replyTo) => ({ type: 'expunge', name: 'INBOX', session, uids, replyTo }))).expunged;
}

describe('EXPUNGE of a selected folder', () => {
  it('removes exactly the \\Deleted messages however their flags came and went, in UID order', async () => {
    ok(await request<ImapDoneReply>((replyTo) => ({ type: 'folder-create', name: 'Other', specialUse: null, replyTo })));
    const u = [await append('INBOX', 'one'), await append('INBOX', 'two', ['\\Deleted']), await append('INBOX', 'three'),
      await append('INBOX', 'four'), await append('INBOX', 'five'), await append('INBOX', 'six')];
    const other = [await append('Other', 'copied', ['\\Deleted']), await append('Other', 'moved', ['\\Seen', '\\Deleted']), await append('Other', 'kept')];
    await select('INBOX', 'A');
    await select('INBOX', 'B');

    await store('A', [u[3]!, u[4]!], 'add', ['\\Deleted']);
    await store('B', [u[4]!], 'remove', ['\\Deleted']); // another session takes it back
    await store('A', [u[5]!], 'replace', ['\\Seen', '\\Deleted']);
    await store('A', [u[5]!], 'replace', ['\\Seen']);
    await store('B', [u[0]!], 'replace', ['\\Flagged', '\\Deleted']);
    ok(await request<CopyReply>((replyTo) => ({ type: 'copy', from: 'Other', to: 'INBOX', session: 'C', uids: [other[0]!], move: false, quota: 0, replyTo })));
    ok(await request<CopyReply>((replyTo) => ({ type: 'copy', from: 'Other', to: 'INBOX', session: 'C', uids: [other[1]!, other[2]!], move: true, quota: 0, replyTo })));
    const copied = [u[5]! + 1, u[5]! + 2, u[5]! + 3];

    // By UID set: only the \Deleted among them, the rest stay.
    expect(await expunge('A', [u[1]!, u[2]!, u[4]!])).toEqual([u[1]!]);
    // Expunged UIDs are out of the index: marking them again changes nothing.
    await store('A', [u[1]!], 'add', ['\\Deleted']);
    expect(await expunge('B')).toEqual([u[0]!, u[3]!, copied[0]!, copied[1]!]);
    expect(await expunge('A')).toEqual([]);

    // A fresh selection (the index read back from disk) agrees.
    await store('A', [u[2]!, copied[2]!], 'add', ['\\Deleted']);
    await store('A', [copied[2]!], 'remove', ['\\Deleted']);
    ok(await request<ImapDoneReply>((replyTo) => ({ type: 'unselect', session: 'A', replyTo })));
    ok(await request<ImapDoneReply>((replyTo) => ({ type: 'unselect', session: 'B', replyTo })));
    registry.close();
    stop(system);
    system = start();
    registry = new MailboxRegistry(system as Ref<unknown>, { db, blobs, mailboxes: new MailboxStore(db), log: silentLogger(), testFaults: true }, 60_000);
    await select('INBOX', 'D');
    expect(await expunge('D')).toEqual([u[2]!]);
  });
});
