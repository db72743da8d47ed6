// The mailbox actor's IMAP requests against a real LevelDB in a temp folder and real
// nact actors: folders, selection with events to other sessions, \Recent, MODSEQ and
// UNCHANGEDSINCE, VANISHED, COPY/MOVE reusing blobs, quota, durability, reset after a crash.
import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ref } from 'nact';
import { Database } from '../../src/store/database.js';
import { BlobStore } from '../../src/store/blob-store.js';
import { MAX_FOLDERS, MailboxStore } from '../../src/store/mailbox-store.js';
import { silentLogger } from '../../src/core/logger.js';
import { MailboxRegistry } from '../../src/mailbox/registry.js';
import { ask, spawn, start, stop } from '../../src/core/supervision.js';
import type { MailboxRequest } from '../../src/mailbox/messages.js';
import type {
  AppendManyReply, MetadataReply, AppendReply, CopyReply, ExpungeReply, FolderEvent, FolderEventMessage, FolderInfo, FolderReply, FoldersReply,
  ImapDoneReply, SelectReply, StoreReply, UsageReply, VanishedReply,
} from '../../src/mailbox/imap-messages.js';
import type { DeliverReply, DoneReply } from '../../src/mailbox/messages.js';
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
    type: 'deliver', deliveryId: `d${body.holder}`, mayRepeat: true, blob: body.sha, size: body.size, internalDate: Date.now(), quota: 0, replyTo,
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
    expect(await request<ImapDoneReply>((replyTo) => ({ type: 'folder-subscribe', name: 'nope', subscribed: false, replyTo })))
      .toMatchObject({ ok: false, code: 'NONEXISTENT' });
  });

  it('keeps subscriptions by name: of a name with no folder, through DELETE and a restart, taken over by CREATE', async () => {
    const subscribe = (name: string, subscribed: boolean) =>
      request<ImapDoneReply>((replyTo) => ({ type: 'folder-subscribe', name, subscribed, replyTo }));
    const subscriptions = async () => ok(await request<FoldersReply>((replyTo) => ({ type: 'folders', replyTo }))).subscriptions;
    ok(await subscribe('later', true));
    ok(await create('gone'));
    ok(await subscribe('gone', true));
    ok(await remove('gone'));
    expect(await subscriptions()).toEqual(['later', 'gone']);
    await close(h);
    h = await open(h.dir);
    expect(await subscriptions()).toEqual(['later', 'gone']);
    ok(await create('later'));
    expect((await status('later')).subscribed).toBe(true);
    expect(await subscriptions()).toEqual(['gone']);
    ok(await subscribe('gone', false));
    expect(await subscriptions()).toEqual([]);
    expect(await subscribe('gone', false)).toMatchObject({ ok: false, code: 'NONEXISTENT' });
  });

  it('answers an APPEND with the new message, and sends the appending session no event for it', async () => {
    const own = await select('INBOX', 'appender');
    const other = await select('INBOX', 'other');
    const body = await upload('Subject: a\r\n\r\nbody\r\n');
    const reply = ok(await request<AppendReply>((replyTo) => ({
      type: 'append', name: 'INBOX', blob: body.sha, size: body.size, flags: ['\\Seen'], internalDate: 1,
      uploadHolder: body.holder, quota: 0, session: 'appender', replyTo,
    })));
    await settle();
    expect(reply.messages).toMatchObject([{ uid: reply.uid, flags: ['\\Seen'] }]);
    expect(reply.recent).toBe(true);
    expect(own.events).toEqual([]);
    expect(other.events).toMatchObject([{ kind: 'added', messages: [{ uid: reply.uid }] }]);
  });

  it('brings an appending or copying session what its view lacks from viewUidNext on, in UID order', async () => {
    const own = await select('INBOX', 'appender');
    const delivered = await deliver('Subject: meanwhile\r\n\r\nx\r\n');
    const body = await upload('Subject: mine\r\n\r\ny\r\n');
    const reply = ok(await request<AppendReply>((replyTo) => ({
      type: 'append', name: 'INBOX', blob: body.sha, size: body.size, flags: [], internalDate: 1,
      uploadHolder: body.holder, quota: 0, session: 'appender', viewUidNext: 1, replyTo,
    })));
    expect(reply.messages.map((m) => m.uid)).toEqual([delivered, reply.uid]);
    const copied = ok(await request<CopyReply>((replyTo) => ({
      type: 'copy', from: 'INBOX', to: 'INBOX', session: 'appender', uids: [delivered], move: false, quota: 0, viewUidNext: reply.uid + 1, replyTo,
    })));
    expect(copied.messages?.map((m) => m.uid)).toEqual(copied.destUids);
    await settle();
    expect(own.events).toMatchObject([{ kind: 'added', messages: [{ uid: delivered }] }]);
  });

  it('MULTIAPPEND files all messages in one batch, or none, releasing every upload either way', async () => {
    const items = async () => Promise.all(['one', 'two'].map(async (subject) => {
      const body = await upload(`Subject: ${subject}\r\n\r\n${subject}\r\n`);
      return { blob: body.sha, size: body.size, flags: [], internalDate: 1, uploadHolder: body.holder };
    }));
    const refused = await items();
    expect(await request<AppendManyReply>((replyTo) => ({ type: 'append-many', name: 'INBOX', items: refused, quota: refused[0]!.size + 1, replyTo })))
      .toMatchObject({ ok: false, code: 'OVERQUOTA' });
    expect((await status('INBOX')).messages).toBe(0);
    for (const item of refused) expect(await refsOf(item.blob)).toEqual([]);
    const filed = await items();
    const reply = ok(await request<AppendManyReply>((replyTo) => ({ type: 'append-many', name: 'INBOX', items: filed, quota: 0, replyTo })));
    expect(reply.uids).toEqual([1, 2]);
    await close(h);
    h = await open(h.dir);
    expect((await status('INBOX')).messages).toBe(2);
    for (const item of filed) expect(await refsOf(item.blob)).not.toContain(item.uploadHolder);
  });

  it('keeps METADATA entries of folders and of the account across a restart, and bounds their number', async () => {
    const set = (name: string, entries: Array<[string, string | null]>, maxEntries = 10) =>
      request<ImapDoneReply>((replyTo) => ({ type: 'metadata-set', name, entries, maxEntries, replyTo }));
    const get = async (name: string) => ok(await request<MetadataReply>((replyTo) => ({ type: 'metadata-get', name, replyTo }))).entries;
    ok(await set('INBOX', [['/private/a', '1'], ['/shared/b', '2']]));
    ok(await set('', [['/shared/admin', 'x']]));
    ok(await set('INBOX', [['/shared/b', null]]));
    expect(await set('INBOX', [['/private/c', '3'], ['/private/d', '4']], 2)).toMatchObject({ ok: false, code: 'LIMIT' });
    await close(h);
    h = await open(h.dir);
    expect(await get('INBOX')).toEqual({ '/private/a': '1' });
    expect(await get('')).toEqual({ '/shared/admin': 'x' });
    expect(await request<MetadataReply>((replyTo) => ({ type: 'metadata-get', name: 'nosuch', replyTo }))).toMatchObject({ ok: false, code: 'NONEXISTENT' });
  });

  it('keeps the save date of an APPEND apart from its internal date, across a restart; a delivery saves at arrival', async () => {
    const before = Date.now();
    const appended = ok(await append('INBOX', 'Subject: old\r\n\r\nx\r\n'));
    const delivered = await deliver('Subject: new\r\n\r\ny\r\n');
    await close(h);
    h = await open(h.dir);
    const { reply } = await select('INBOX', 'saver', true);
    const messages = ok(reply).messages;
    const saved = messages.find((m) => m.uid === appended.uid)!;
    expect(saved.internalDate).toBe(1_700_000_000_000);
    expect(saved.savedAt).toBeGreaterThanOrEqual(before);
    const arrived = messages.find((m) => m.uid === delivered)!;
    expect(arrived.savedAt).toBe(arrived.internalDate);
  });

  it('refuses to go past the folder limit with LIMIT', async () => {
    const deep = (i: number) => [`l${i}`, ...Array.from({ length: 99 }, (_, j) => String(j))].join('/');
    let i = 0;
    let reply: ImapDoneReply;
    do reply = await create(deep(i++)); while (reply.ok && i < 200);
    expect(reply).toMatchObject({ ok: false, code: 'LIMIT' });
    expect((await folders()).length).toBeLessThanOrEqual(MAX_FOLDERS);
    expect((await folders()).length).toBeGreaterThan(MAX_FOLDERS - 100);
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

describe('append', () => {
  it('stores flags as given, replaces the upload reference and tells the folder\'s sessions', async () => {
    const a = await select('Drafts', 'A');
    const reply = ok(await append('Drafts', message('draft'), ['\\Draft', '\\Recent', '$Label']));
    const [m] = ok((await select('Drafts', 'B')).reply).messages;
    expect(m).toMatchObject({ uid: reply.uid, flags: ['\\Draft', '$Label'], internalDate: 1_700_000_000_000 });
    expect(reply.uidValidity).toBe((await status('Drafts')).uidValidity);
    expect(await refsOf(m.blob)).toEqual([expect.stringMatching(/^m:mbx1:\d+:1$/)]);
    await settle();
    expect(a.events).toMatchObject([{ kind: 'added', folder: 'Drafts', recentTo: 'A', messages: [{ uid: reply.uid }] }]);
    expect((await status('Drafts')).unseen).toBe(1);
  });

  it('APPEND to a missing folder is TRYCREATE and over quota is OVERQUOTA; the upload is released', async () => {
    expect(await append('Nowhere', message('x'))).toMatchObject({ ok: false, code: 'TRYCREATE' });
    await deliver(message('fill'));
    const used = ok(await request<UsageReply>((replyTo) => ({ type: 'usage', replyTo }))).bytes;
    expect(await append('INBOX', message('too much'), [], used + 10)).toMatchObject({ ok: false, code: 'OVERQUOTA' });
    expect(await blobCount()).toBe(1);
  });
});

describe('copy and move', () => {
  it('COPY reuses the blobs: no new blob, one more reference each, flags kept', async () => {
    const uid1 = await deliver(message('one'));
    const uid2 = await deliver(message('two'));
    await select('INBOX', 'A');
    ok(await store('INBOX', 'A', [uid1], 'add', ['\\Flagged']));
    const blobsBefore = await blobCount();
    const copied = ok(await copy('INBOX', 'Archive', [uid2, uid1, 77], false));
    expect(copied.sourceUids).toEqual([uid1, uid2]);
    expect(copied.destUids).toEqual([1, 2]);
    expect(copied.uidValidity).toBe((await status('Archive')).uidValidity);
    expect(await blobCount()).toBe(blobsBefore);
    const archived = ok((await select('Archive', 'B', true)).reply).messages;
    expect(archived.map((m) => m.flags)).toEqual([['\\Flagged'], []]);
    for (const m of archived) expect(await refsOf(m.blob)).toHaveLength(2);
    expect(ok(await request<UsageReply>((replyTo) => ({ type: 'usage', replyTo })))).toMatchObject({ messages: 4 });
  });

  it('MOVE removes the sources in the same batch and tells both folders\' other sessions', async () => {
    const uid = await deliver(message('one'));
    const inboxWatcher = await select('INBOX', 'W');
    const trashWatcher = await select('Trash', 'T');
    await select('INBOX', 'mover');
    const moved = ok(await copy('INBOX', 'Trash', [uid], true, 0, 'mover'));
    expect(moved.messages?.map((m) => m.uid)).toEqual(moved.destUids);
    await settle();
    expect(inboxWatcher.events).toMatchObject([{ kind: 'expunged', uids: [uid] }]);
    expect(trashWatcher.events).toMatchObject([{ kind: 'added', folder: 'Trash', messages: [{ uid: moved.destUids[0] }] }]);
    expect(await status('INBOX')).toMatchObject({ messages: 0, bytes: 0 });
    const [m] = ok((await select('Trash', 'X', true)).reply).messages;
    expect(await refsOf(m.blob)).toEqual([`m:mbx1:${(await folderId('Trash'))}:${m.uid}`]);
    const vanished = ok(await request<VanishedReply>((replyTo) => ({ type: 'vanished', name: 'INBOX', sinceModseq: 1, replyTo })));
    expect(vanished.uids).toEqual([uid]);
    expect(ok(await request<UsageReply>((replyTo) => ({ type: 'usage', replyTo })))).toMatchObject({ messages: 1 });
  });

  it('COPY into the folder the session has selected answers the new messages in the reply, not as an event', async () => {
    const uid = await deliver(message('one'));
    const self = await select('INBOX', 'A');
    const copied = ok(await copy('INBOX', 'INBOX', [uid], false, 0, 'A'));
    expect(copied.messages).toMatchObject([{ uid: uid + 1 }]);
    await settle();
    expect(self.events).toEqual([]);
  });

  it('TRYCREATE for a missing destination, NONEXISTENT for a missing source, OVERQUOTA for COPY but not MOVE', async () => {
    const uid = await deliver(message('one'));
    expect(await copy('INBOX', 'Nowhere', [uid], false)).toMatchObject({ ok: false, code: 'TRYCREATE' });
    expect(await copy('Nowhere', 'INBOX', [uid], false)).toMatchObject({ ok: false, code: 'NONEXISTENT' });
    const used = ok(await request<UsageReply>((replyTo) => ({ type: 'usage', replyTo }))).bytes;
    expect(await copy('INBOX', 'Archive', [uid], false, used + 1)).toMatchObject({ ok: false, code: 'OVERQUOTA' });
    ok(await copy('INBOX', 'Archive', [uid], true, used + 1));
  });
});

async function folderId(name: string): Promise<number> {
  for await (const [, raw] of h.db.scan('folder', `${MAILBOX}:`)) {
    const { decodeFolder } = await import('../../src/store/mailbox-store.js');
    const record = decodeFolder(raw);
    if (record.name === name) return record.id;
  }
  throw new Error(`no folder ${name}`);
}

describe('folder delete and rename', () => {
  it('delete refuses INBOX, missing folders and folders with children', async () => {
    expect(await remove('inbox')).toMatchObject({ ok: false, code: 'CANNOT' });
    expect(await remove('nope')).toMatchObject({ ok: false, code: 'NONEXISTENT' });
    ok(await create('p/c'));
    expect(await remove('p')).toMatchObject({ ok: false, code: 'HASCHILDREN', error: expect.stringMatching(/children/) });
    ok(await remove('p/c'));
    ok(await remove('p'));
    expect(await names()).not.toContain('p');
  });

  it('delete releases the folder\'s blob references; a blob goes with its last reference; sessions get gone', async () => {
    const uid = await deliver(message('shared'));
    const only = ok(await append('Archive', message('only here')));
    ok(await copy('INBOX', 'Archive', [uid], false));
    const watcher = await select('Archive', 'W');
    const archived = ok(watcher.reply).messages;
    expect(await blobCount()).toBe(2);
    ok(await remove('Archive'));
    await settle();
    expect(watcher.events).toEqual([{ kind: 'gone', folder: 'Archive' }]);
    expect(await blobCount()).toBe(1);
    const shared = archived.find((m) => m.uid !== only.uid)!;
    expect(await refsOf(shared.blob)).toHaveLength(1);
    expect(await h.blobs.record(archived.find((m) => m.uid === only.uid)!.blob)).toBeUndefined();
    expect(ok(await request<UsageReply>((replyTo) => ({ type: 'usage', replyTo })))).toMatchObject({ messages: 1 });
    ok(await create('Archive'));
    expect((await status('Archive')).messages).toBe(0);
  });

  it('rename moves children along, keeps UIDVALIDITY, creates missing parents, refuses existing names', async () => {
    ok(await create('a/b'));
    const before = await status('a/b');
    ok(await append('a/b', message('in b')));
    const watcher = await select('a/b', 'W');
    ok(await rename('a', 'x/y'));
    await settle();
    expect(watcher.events).toEqual([{ kind: 'gone', folder: 'a/b' }]);
    const list = await names();
    expect(list).toEqual(expect.arrayContaining(['x', 'x/y', 'x/y/b']));
    expect(list).not.toContain('a');
    expect(list).not.toContain('a/b');
    expect(await status('x/y/b')).toMatchObject({ uidValidity: before.uidValidity, messages: 1 });
    expect(await rename('x', 'Trash')).toMatchObject({ ok: false, code: 'ALREADYEXISTS' });
    expect(await rename('nope', 'z')).toMatchObject({ ok: false, code: 'NONEXISTENT' });
    expect(await rename('x', 'x/inner')).toMatchObject({ ok: false, code: 'CANNOT' });
  });

  it('renaming INBOX moves its messages to a new folder with new UIDs and leaves INBOX empty', async () => {
    const uid1 = await deliver(message('one'));
    await deliver(message('two'));
    ok(await create('INBOX/child'));
    const inboxBefore = await status('INBOX');
    const watcher = await select('INBOX', 'W');
    ok(await store('INBOX', 'W', [uid1], 'add', ['\\Seen']));
    ok(await rename('INBOX', 'Old'));
    await settle();
    expect(watcher.events).toMatchObject([{ kind: 'expunged', uids: [uid1, uid1 + 1] }]);
    expect(await status('INBOX')).toMatchObject({ messages: 0, uidValidity: inboxBefore.uidValidity });
    const old = await status('Old');
    expect(old.uidValidity).not.toBe(inboxBefore.uidValidity);
    expect(old).toMatchObject({ messages: 2, unseen: 1, uidNext: 3 });
    expect(await names()).toContain('INBOX/child');
    const moved = ok((await select('Old', 'X')).reply).messages;
    expect(moved.map((m) => [m.uid, m.flags])).toEqual([[1, ['\\Seen']], [2, []]]);
    for (const m of moved) expect(await refsOf(m.blob)).toHaveLength(1);
    const again = await deliver(message('three'));
    expect(again).toBe(inboxBefore.uidNext);
  });
});

describe('POP3 and IMAP on one mailbox', () => {
  it('a POP3 deletion is an expunge for IMAP sessions', async () => {
    const uid = await deliver(message('one'));
    const watcher = await select('INBOX', 'W');
    ok(await request<DoneReply>((replyTo) => ({ type: 'pop-open', session: 'pop', replyTo }) as MailboxRequest));
    ok(await request<DoneReply>((replyTo) => ({ type: 'pop-commit', session: 'pop', uids: [uid], replyTo })));
    await settle();
    expect(watcher.events).toMatchObject([{ kind: 'expunged', uids: [uid] }]);
    // The body stays while the IMAP session may still FETCH it (RFC 2180 §4.1.1) ...
    expect(await blobCount()).toBe(1);
    // ... and goes once it has sent the EXPUNGE.
    const blob = ok(watcher.reply).messages.find((m) => m.uid === uid)!.blob;
    ok(await request<ImapDoneReply>((replyTo) => ({ type: 'expunge-seen', session: 'W', blobs: [blob], replyTo })));
    await settle();
    expect(await blobCount()).toBe(0);
  });
});

describe('durability and crashes', () => {
  it('everything acknowledged is on disk: a reopened store answers the same', async () => {
    const uid = await deliver(message('one'));
    await deliver(message('two'));
    await select('INBOX', 'A');
    ok(await store('INBOX', 'A', [uid], 'add', ['\\Deleted', 'kw']));
    ok(await expunge('INBOX', 'A'));
    ok(await create('p/q'));
    ok(await copy('INBOX', 'p/q', [uid + 1], false));
    ok(await append('Sent', message('sent'), ['\\Seen']));
    const foldersBefore = await folders();
    const messagesBefore = ok((await select('p/q', 'B', true)).reply).messages;
    const vanishedBefore = ok(await request<VanishedReply>((replyTo) => ({ type: 'vanished', name: 'INBOX', sinceModseq: 0, replyTo }))).uids;
    await close(h);
    h = await open(h.dir);
    expect(await folders()).toEqual(foldersBefore);
    expect(ok((await select('p/q', 'B', true)).reply).messages).toEqual(messagesBefore);
    expect(ok(await request<VanishedReply>((replyTo) => ({ type: 'vanished', name: 'INBOX', sinceModseq: 0, replyTo }))).uids).toEqual(vanishedBefore);
  });

  it('after a crash the actor reloads from disk; listeners are gone and SELECT works again', async () => {
    const uid = await deliver(message('one'));
    const before = await select('INBOX', 'A');
    ok(await store('INBOX', 'A', [uid], 'add', ['\\Seen']));
    const foldersBefore = await folders();
    expect(await request<DoneReply>((replyTo) => ({ type: 'inject-fault', replyTo }))).toMatchObject({ ok: false });
    expect(await folders()).toEqual(foldersBefore);
    ok(await store('INBOX', 'A', [uid], 'add', ['\\Flagged']));
    await deliver(message('two'));
    await settle();
    expect(before.events).toEqual([]);
    const again = await select('INBOX', 'A');
    expect(ok(again.reply).messages.map((m) => m.flags)).toEqual([['\\Seen', '\\Flagged'], []]);
    await deliver(message('three'));
    await settle();
    expect(again.events).toMatchObject([{ kind: 'added' }]);
  });
});
