// The mailbox actor's IMAP requests against a real LevelDB in a temp folder and real
// nact actors: folders, selection with events to other sessions, \Recent, MODSEQ and
// UNCHANGEDSINCE, VANISHED, COPY/MOVE reusing blobs, quota, durability, reset after a crash.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MailboxStore } from '../../src/store/mailbox-store.js';
import { silentLogger } from '../../src/logger.js';
import { MailboxRegistry } from '../../src/actors/mailbox-registry.js';
import { ask, spawn, start, stop } from '../../src/actors/supervision.js';
import type { MailboxRequest } from '../../src/actors/mailbox-messages.js';
import type {
  AppendReply, CopyReply, ExpungeReply, FolderEvent, FolderEventMessage, FolderInfo, FolderReply, FoldersReply,
  ImapDoneReply, SelectReply, StoreReply, UsageReply, VanishedReply,
} from '../../src/actors/mailbox-imap-messages.js';
import type { DeliverReply, DoneReply } from '../../src/actors/mailbox-messages.js';
import { tempDir } from '../support/server.js';

const MAILBOX = 'mbx1';

interface Harness {
  dir: string;
  db: Database;
  blobs: BlobStore;
  system: ReturnType<typeof start>;
  registry: MailboxRegistry;
}

let h: Harness;
let uploads = 0;

async function open(dir: string): Promise<Harness> {
  const db = new Database(dir);
  await db.open();
  const blobs = new BlobStore(db);
  const system = start();
  const registry = new MailboxRegistry(system as Ref<unknown>, {
    db, blobs, mailboxes: new MailboxStore(db), log: silentLogger(), testFaults: true,
  }, 60_000);
  return { dir, db, blobs, system, registry };
}

async function close(harness: Harness): Promise<void> {
  harness.registry.close();
  stop(harness.system);
  await harness.db.close();
}

beforeEach(async () => {
  h = await open(tempDir('ternmail-mbx-'));
});

afterEach(async () => {
  await close(h);
  rmSync(h.dir, { recursive: true, force: true });
});

function request<Res>(build: (replyTo: Ref<Res>) => MailboxRequest): Promise<Res> {
  return h.registry.ask<Res>(MAILBOX, build, 5000);
}

function ok<T extends { ok: boolean }>(reply: T): Extract<T, { ok: true }> {
  if (!reply.ok) throw new Error(`request failed: ${JSON.stringify(reply)}`);
  return reply as Extract<T, { ok: true }>;
}

/** Stores a body as the IMAP session does: upload committed with a temporary reference. */
async function upload(raw: string): Promise<{ sha: string; size: number; holder: string }> {
  const holder = `t:${++uploads}`;
  const up = h.blobs.beginUpload();
  up.write(Buffer.from(raw));
  const finished = await up.finish(holder);
  try {
    await h.db.commit(finished.ops);
  } finally {
    finished.release();
  }
  return { sha: finished.sha, size: finished.size, holder };
}

/** A delivery as the queue makes it: upload held by a queue reference, deliver, drop the queue reference. */
async function deliver(raw: string): Promise<number> {
  const body = await upload(raw);
  const reply = ok(await request<DeliverReply>((replyTo) => ({
    type: 'deliver', deliveryId: `d${body.holder}`, blob: body.sha, size: body.size, internalDate: Date.now(), quota: 0, replyTo,
  })));
  await h.db.commit([h.blobs.unrefOp(body.sha, body.holder)]);
  return reply.uid;
}

async function append(name: string, raw: string, flags: string[] = [], quota = 0): Promise<AppendReply> {
  const body = await upload(raw);
  return request<AppendReply>((replyTo) => ({
    type: 'append', name, blob: body.sha, size: body.size, flags, internalDate: 1_700_000_000_000,
    uploadHolder: body.holder, quota, replyTo,
  }));
}

/** A stand-in for an IMAP session actor: records the folder events it receives. */
function listener(): { ref: Ref<FolderEventMessage>; events: FolderEvent[] } {
  const events: FolderEvent[] = [];
  const ref = spawn(h.system, (state: null, msg: FolderEventMessage) => {
    events.push(msg.event);
    return state;
  }, undefined, { initialState: null }) as Ref<FolderEventMessage>;
  return { ref, events };
}

async function select(name: string, session: string, readOnly = false) {
  const l = listener();
  const reply = await request<SelectReply>((replyTo) => ({ type: 'select', name, session, readOnly, listener: l.ref, replyTo }));
  return { reply, events: l.events };
}

function store(name: string, session: string, uids: number[], operation: 'replace' | 'add' | 'remove', flags: string[], unchangedSince?: number) {
  return request<StoreReply>((replyTo) => ({ type: 'store', name, session, uids, operation, flags, unchangedSince, replyTo }));
}

function expunge(name: string, session: string, uids?: number[]) {
  return request<ExpungeReply>((replyTo) => ({ type: 'expunge', name, session, uids, replyTo }));
}

function copy(from: string, to: string, uids: number[], move: boolean, quota = 0, session = 'copier') {
  return request<CopyReply>((replyTo) => ({ type: 'copy', from, to, session, uids, move, quota, replyTo }));
}

function create(name: string, specialUse: string | null = null) {
  return request<ImapDoneReply>((replyTo) => ({ type: 'folder-create', name, specialUse, replyTo }));
}

function remove(name: string) {
  return request<ImapDoneReply>((replyTo) => ({ type: 'folder-delete', name, replyTo }));
}

function rename(from: string, to: string) {
  return request<ImapDoneReply>((replyTo) => ({ type: 'folder-rename', from, to, replyTo }));
}

async function folders(): Promise<FolderInfo[]> {
  return ok(await request<FoldersReply>((replyTo) => ({ type: 'folders', replyTo }))).folders;
}

async function status(name: string): Promise<FolderInfo> {
  return ok(await request<FolderReply>((replyTo) => ({ type: 'folder-status', name, replyTo }))).folder;
}

async function names(): Promise<string[]> {
  return (await folders()).map((f) => f.name);
}

/** Waits until the actor has handled everything sent before (events are dispatched before replies). */
async function settle(): Promise<void> {
  await request<UsageReply>((replyTo) => ({ type: 'usage', replyTo }));
  await new Promise((r) => setTimeout(r, 20));
}

async function refsOf(sha: string): Promise<string[]> {
  const out: string[] = [];
  for await (const key of h.db.scanKeys('bref', `${sha}:`)) out.push(key.slice(sha.length + 1));
  return out;
}

async function blobCount(): Promise<number> {
  return (await h.blobs.stats()).blobs;
}

function message(subject: string): string {
  return `From: a@example.test\r\nTo: b@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.test>\r\n\r\nbody of ${subject}\r\n`;
}

describe('folders', () => {
  it('starts with the default folders and their special-use attributes', async () => {
    const list = await folders();
    expect(list.map((f) => [f.name, f.specialUse])).toEqual([
      ['INBOX', null], ['Archive', '\\Archive'], ['Drafts', '\\Drafts'], ['Junk', '\\Junk'], ['Sent', '\\Sent'], ['Trash', '\\Trash'],
    ]);
  });

  it('creates intermediate parents, refuses duplicates and bad names', async () => {
    ok(await create('a/b/c'));
    expect(await names()).toEqual(expect.arrayContaining(['a', 'a/b', 'a/b/c']));
    expect(await create('a/b')).toMatchObject({ ok: false, code: 'ALREADYEXISTS' });
    expect(await create('inbox')).toMatchObject({ ok: false, code: 'ALREADYEXISTS' });
    for (const bad of ['', 'x//y', '/x', 'x*', 'x%y', 'y'.repeat(256)]) {
      expect(await create(bad), bad).toMatchObject({ ok: false, code: 'CANNOT' });
    }
    ok(await create('trailing/'));
    expect(await names()).toContain('trailing');
    ok(await create('Flagged', '\\Flagged'));
    expect((await status('Flagged')).specialUse).toBe('\\Flagged');
    expect(await create('Other', '\\Bogus')).toMatchObject({ ok: false, code: 'CANNOT' });
  });

  it('new folders get their own UIDVALIDITY and start unsubscribed', async () => {
    ok(await create('x'));
    const x = await status('x');
    expect(x.uidValidity).toBeGreaterThan(0);
    expect(x).toMatchObject({ uidNext: 1, messages: 0, subscribed: false });
    ok(await request<ImapDoneReply>((replyTo) => ({ type: 'folder-subscribe', name: 'x', subscribed: true, replyTo })));
    expect((await status('x')).subscribed).toBe(true);
    expect(await request<ImapDoneReply>((replyTo) => ({ type: 'folder-subscribe', name: 'nope', subscribed: true, replyTo })))
      .toMatchObject({ ok: false, code: 'NONEXISTENT' });
  });

  it('folder-status of a missing folder is NONEXISTENT', async () => {
    expect(await request<FolderReply>((replyTo) => ({ type: 'folder-status', name: 'missing', replyTo })))
      .toMatchObject({ ok: false, code: 'NONEXISTENT' });
  });
});

describe('selection and events', () => {
  it('a delivery is announced to every session with INBOX selected, \\Recent to exactly one read-write session', async () => {
    const a = await select('INBOX', 'A');
    const b = await select('INBOX', 'B');
    const c = await select('INBOX', 'C', true);
    ok(a.reply);
    const uid = await deliver(message('one'));
    await settle();
    for (const s of [a, b, c]) {
      expect(s.events).toHaveLength(1);
      expect(s.events[0]).toMatchObject({ kind: 'added', folder: 'INBOX', uidNext: uid + 1 });
    }
    const recentTo = (a.events[0] as Extract<FolderEvent, { kind: 'added' }>).recentTo;
    expect(['A', 'B']).toContain(recentTo);
    expect(c.events[0]).toMatchObject({ recentTo });
    expect((await status('INBOX')).recent).toBe(0);
  });

  it('store by A sends flags to B, not to A; expunge sends expunged', async () => {
    const uid1 = await deliver(message('one'));
    const uid2 = await deliver(message('two'));
    const a = await select('INBOX', 'A');
    const b = await select('INBOX', 'B');
    const stored = ok(await store('INBOX', 'A', [uid1, uid2], 'add', ['\\Deleted', '\\Seen']));
    expect(stored.updated.map((m) => m.uid)).toEqual([uid1, uid2]);
    await settle();
    expect(a.events).toEqual([]);
    expect(b.events).toEqual([{ kind: 'flags', folder: 'INBOX', messages: stored.updated, highestModseq: stored.highestModseq }]);
    const gone = ok(await expunge('INBOX', 'B', [uid1]));
    expect(gone.expunged).toEqual([uid1]);
    await settle();
    expect(a.events[0]).toEqual({ kind: 'expunged', folder: 'INBOX', uids: [uid1], highestModseq: gone.highestModseq });
    expect(b.events).toHaveLength(1);
  });

  it('a session that unselects or selects another folder stops receiving', async () => {
    const a = await select('INBOX', 'A');
    const b = await select('INBOX', 'B');
    ok(await request<ImapDoneReply>((replyTo) => ({ type: 'unselect', session: 'A', replyTo })));
    await select('Trash', 'B');
    await deliver(message('x'));
    await settle();
    expect(a.events).toEqual([]);
    expect(b.events).toEqual([]);
  });

  it('read-write SELECT takes the \\Recent messages; EXAMINE sees them without taking them', async () => {
    const uid1 = await deliver(message('one'));
    const uid2 = await deliver(message('two'));
    expect((await status('INBOX')).recent).toBe(2);
    const examine = ok((await select('INBOX', 'E', true)).reply);
    expect(examine.recentUids).toEqual([uid1, uid2]);
    const first = ok((await select('INBOX', 'A')).reply);
    expect(first.recentUids).toEqual([uid1, uid2]);
    expect(first.folder.recent).toBe(0);
    const second = ok((await select('INBOX', 'B')).reply);
    expect(second.recentUids).toEqual([]);
    expect(second.messages.map((m) => m.uid)).toEqual([uid1, uid2]);
  });

  it('select of a missing folder is NONEXISTENT and ends the previous selection', async () => {
    const a = await select('INBOX', 'A');
    expect((await select('nope', 'A')).reply).toMatchObject({ ok: false, code: 'NONEXISTENT' });
    await deliver(message('x'));
    await settle();
    expect(a.events).toEqual([]);
  });
});

describe('flags and mod-sequences', () => {
  it('every flag change bumps MODSEQ; a STORE that changes nothing does not; \\Recent is never stored', async () => {
    const uid = await deliver(message('one'));
    const before = ok((await select('INBOX', 'A')).reply);
    const modseq0 = before.messages[0].modseq;
    expect(before.folder.highestModseq).toBe(modseq0);
    const first = ok(await store('INBOX', 'A', [uid], 'add', ['\\seen', '\\Recent', 'Custom']));
    expect(first.updated[0].flags).toEqual(['\\Seen', 'Custom']);
    expect(first.updated[0].modseq).toBe(modseq0 + 1);
    expect(first.highestModseq).toBe(modseq0 + 1);
    const again = ok(await store('INBOX', 'A', [uid], 'add', ['\\Seen', 'custom']));
    expect(again.updated).toEqual([]);
    expect(again.highestModseq).toBe(modseq0 + 1);
    const removed = ok(await store('INBOX', 'A', [uid], 'remove', ['CUSTOM']));
    expect(removed.updated[0]).toMatchObject({ flags: ['\\Seen'], modseq: modseq0 + 2 });
    const replaced = ok(await store('INBOX', 'A', [uid, 999], 'replace', ['\\Flagged']));
    expect(replaced.updated.map((m) => [m.uid, m.flags])).toEqual([[uid, ['\\Flagged']]]);
    const info = await status('INBOX');
    expect(info).toMatchObject({ unseen: 1, deleted: 0, highestModseq: modseq0 + 3 });
  });

  it('UNCHANGEDSINCE leaves newer messages alone and lists them as modified', async () => {
    const uid1 = await deliver(message('one'));
    const uid2 = await deliver(message('two'));
    await select('INBOX', 'A');
    const touched = ok(await store('INBOX', 'A', [uid2], 'add', ['\\Flagged']));
    const since = touched.highestModseq - 1;
    const conditional = ok(await store('INBOX', 'A', [uid1, uid2], 'add', ['\\Seen'], since));
    expect(conditional.modified).toEqual([uid2]);
    expect(conditional.updated.map((m) => m.uid)).toEqual([uid1]);
    const none = ok(await store('INBOX', 'A', [uid1, uid2], 'add', ['\\Answered'], 0));
    expect(none.modified).toEqual([uid1, uid2]);
    expect(none.updated).toEqual([]);
  });

  it('expunge bumps HIGHESTMODSEQ and VANISHED lists UIDs expunged since a modseq', async () => {
    const uids = [await deliver(message('1')), await deliver(message('2')), await deliver(message('3'))];
    await select('INBOX', 'A');
    const marked = ok(await store('INBOX', 'A', uids, 'add', ['\\Deleted']));
    const first = ok(await expunge('INBOX', 'A', [uids[0]]));
    expect(first.highestModseq).toBe(marked.highestModseq + 1);
    const second = ok(await expunge('INBOX', 'A'));
    expect(second.expunged).toEqual([uids[1], uids[2]]);
    const vanished = (since: number) => request<VanishedReply>((replyTo) => ({ type: 'vanished', name: 'INBOX', sinceModseq: since, replyTo }));
    expect(ok(await vanished(marked.highestModseq)).uids).toEqual(uids);
    expect(ok(await vanished(first.highestModseq)).uids).toEqual([uids[1], uids[2]]);
    expect(ok(await vanished(second.highestModseq)).uids).toEqual([]);
    expect(await request<VanishedReply>((replyTo) => ({ type: 'vanished', name: 'nope', sinceModseq: 1, replyTo })))
      .toMatchObject({ ok: false, code: 'NONEXISTENT' });
  });
});
