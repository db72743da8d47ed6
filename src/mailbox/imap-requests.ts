// The mailbox actor's IMAP requests: folder management (create, delete, rename,
// subscribe, status), selection with change events, and STORE / EXPUNGE / APPEND /
// COPY / MOVE / VANISHED / usage. Every change is committed (synced) before the reply.
import type { WriteOp } from '../store/database.js';
import {
  INBOX, MAX_FOLDERS, SPECIAL_USES, ancestorNames, applyFlagOperation, canonicalFolderName,
  folderNameProblem, isDescendant, messageHolder, newFolder, sameFlags, storedFlags,
  type FolderRecord, type MessageRecord,
} from '../store/mailbox-store.js';
import { dispatch, failure, isActorRef } from '../core/supervision.js';
import type { FolderEvent, FolderInfo, MailboxImapRequest, MessageView } from './imap-messages.js';
import type { MailboxRequest } from './messages.js';
import { tellPlugins } from './mailbox-events.js';
import { exceedsQuota } from './quota.js';
import { restrictFlagChange } from './acl.js';
import { setAcl } from './acl-requests.js';
import { sortSnapshotDeleteOp } from '../store/sort-key-snapshots.js';
import {
  addMessageOps, collectAside, collectBlobs, collectExpunged, countFlagChange, countMessage, expungeRecords, finishAdding, folderByName,
  leaveSelection, newSelection, publishAdded, releaseHeld, publishExpunged, publishFlags, publishGone, removeMessageOps, takeRecent, toView,
  type MailboxDeps, type MailboxState, type Selection,
} from './state.js';

type Req<T extends MailboxImapRequest['type']> = Extract<MailboxImapRequest, { type: T }>;

const imapTypes: ReadonlySet<string> = new Set<MailboxImapRequest['type']>([
  'folders', 'folder-status', 'folder-create', 'folder-delete', 'folder-rename', 'folder-subscribe',
  'select', 'unselect', 'expunge-seen', 'append', 'append-many', 'message-by-uid', 'metadata-get', 'metadata-set', 'watch', 'store', 'expunge', 'copy', 'vanished', 'usage', 'acl-set',
]);

/** Above this many UIDs, reading a whole unselected folder beats one get per UID. */
const MAX_SINGLE_READS = 64;

export function isImapRequest(msg: MailboxRequest): msg is MailboxImapRequest {
  return imapTypes.has(msg.type);
}

export async function handleImapRequest(state: MailboxState, msg: MailboxImapRequest, deps: MailboxDeps): Promise<MailboxState> {
  switch (msg.type) {
    case 'folders': await listFolders(state, msg, deps); break;
    case 'folder-status': await folderStatus(state, msg, deps); break;
    case 'folder-create': await createFolder(state, msg, deps); break;
    case 'folder-delete': await deleteFolder(state, msg, deps); break;
    case 'folder-rename': await renameFolder(state, msg, deps); break;
    case 'folder-subscribe': await subscribeFolder(state, msg, deps); break;
    case 'select': await select(state, msg, deps); break;
    case 'unselect':
      leaveSelection(state, msg.session);
      dispatch(msg.replyTo, { ok: true });
      collectAside(releaseHeld(state, msg.session, null, deps), deps);
      break;
    case 'expunge-seen':
      dispatch(msg.replyTo, { ok: true });
      collectAside(releaseHeld(state, msg.session, msg.blobs, deps), deps);
      break;
    case 'append': await append(state, msg, deps); break;
    case 'append-many': await appendMany(state, msg, deps); break;
    case 'store': await store(state, msg, deps); break;
    case 'expunge': await expunge(state, msg, deps); break;
    case 'copy': await copy(state, msg, deps); break;
    case 'vanished': await vanished(state, msg, deps); break;
    case 'message-by-uid': await messageByUid(state, msg, deps); break;
    case 'metadata-get': getMetadata(state, msg); break;
    case 'watch': watch(state, msg); break;
    case 'metadata-set': await setMetadata(state, msg, deps); break;
    case 'usage':
      dispatch(msg.replyTo, { ok: true, messages: state.account.messages, bytes: state.account.bytes });
      break;
    case 'acl-set': await setAcl(state, msg, deps); break;
  }
  return state;
}

function watch(state: MailboxState, msg: Req<'watch'>) {
  state.watchers ??= new Map();
  // Across nodes the session's node puts a proxy in its place (cluster/remote-mailboxes.ts); without one, no watch.
  if (msg.watch && !isActorRef(msg.listener)) return dispatch(msg.replyTo, failure('NOTIFY is not available for a mailbox held by another node', true));
  if (msg.watch) state.watchers.set(msg.session, msg.listener);
  else state.watchers.delete(msg.session);
  dispatch(msg.replyTo, { ok: true });
}

/** NOTIFY watchers learn that a folder came, went, moved or changed subscription. */
function tellMailboxChange(state: MailboxState, event: Extract<FolderEvent, { kind: 'mailbox' }>): void {
  for (const listener of state.watchers?.values() ?? []) dispatch(listener, { type: 'folder-event', event });
}

function missing(name: string) {
  return failure(`no folder named ${name}`, false, 'NONEXISTENT');
}

function findFolder(state: MailboxState, name: string): FolderRecord | undefined {
  return folderByName(state, canonicalFolderName(name));
}

// ---- folder information ----

async function folderInfo(state: MailboxState, folder: FolderRecord, deps: MailboxDeps): Promise<FolderInfo> {
  return {
    id: folder.id, name: folder.name, specialUse: folder.specialUse, subscribed: folder.subscribed,
    uidValidity: folder.uidValidity, uidNext: folder.uidNext, highestModseq: folder.highestModseq,
    messages: folder.messages, unseen: folder.unseen, recent: await recentCount(state, folder, deps),
    deleted: folder.deleted, bytes: folder.bytes, ...(folder.acl ? { acl: folder.acl } : {}),
  };
}

async function recentCount(state: MailboxState, folder: FolderRecord, deps: MailboxDeps): Promise<number> {
  if (folder.firstRecentUid >= folder.uidNext) return 0;
  const selection = state.selections.get(folder.id);
  if (selection) return recentUidsOf(selection, folder).length;
  return deps.mailboxes.countMessagesFrom(state.account.mailboxId, folder.id, folder.firstRecentUid);
}

function recentUidsOf(selection: Selection, folder: FolderRecord): number[] {
  const out: number[] = [];
  for (const uid of selection.messages.keys()) if (uid >= folder.firstRecentUid) out.push(uid);
  return out;
}

/** INBOX first, then by name. */
function byListOrder(a: FolderRecord, b: FolderRecord): number {
  if (a.name === INBOX) return -1;
  if (b.name === INBOX) return 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

async function listFolders(state: MailboxState, msg: Req<'folders'>, deps: MailboxDeps) {
  const folders: FolderInfo[] = [];
  for (const folder of [...state.folders.values()].sort(byListOrder)) folders.push(await folderInfo(state, folder, deps));
  dispatch(msg.replyTo, { ok: true, folders, subscriptions: state.account.subscribedNames ?? [] });
}

async function folderStatus(state: MailboxState, msg: Req<'folder-status'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  if (!folder) return dispatch(msg.replyTo, missing(msg.name));
  dispatch(msg.replyTo, { ok: true, folder: await folderInfo(state, folder, deps) });
}

// ---- folder management ----

/** A name as given by a client, canonical; one trailing separator means the same folder (RFC 3501 6.3.3). */
function requestedName(name: string): string {
  return canonicalFolderName(name.endsWith('/') ? name.slice(0, -1) : name);
}

/** Records for `names` that do not exist yet (for parents created on the way); ids are taken from the account. */
function plannedFolders(state: MailboxState, names: string[]): FolderRecord[] {
  const out: FolderRecord[] = [];
  for (const name of names) {
    if (folderByName(state, name) || out.some((f) => f.name === name)) continue;
    const folder = newFolder(state.account.nextFolderId, name, null);
    folder.subscribed = takeNameSubscription(state, name);
    state.account.nextFolderId += 1;
    out.push(folder);
  }
  return out;
}

/** A folder created under a subscribed name takes the subscription over (the account record is written with it). */
function takeNameSubscription(state: MailboxState, name: string): boolean {
  const names = state.account.subscribedNames;
  if (names === undefined || !names.includes(name)) return false;
  state.account.subscribedNames = names.filter((n) => n !== name);
  return true;
}

function overFolderLimit(state: MailboxState, adding: number): boolean {
  return state.folders.size + adding > MAX_FOLDERS;
}

async function createFolder(state: MailboxState, msg: Req<'folder-create'>, deps: MailboxDeps) {
  const name = requestedName(msg.name);
  const problem = folderNameProblem(name);
  if (problem) return dispatch(msg.replyTo, failure(problem, false, 'CANNOT'));
  if (folderByName(state, name)) return dispatch(msg.replyTo, failure(`folder ${name} already exists`, false, 'ALREADYEXISTS'));
  if (msg.specialUse !== null && !SPECIAL_USES.includes(msg.specialUse)) {
    return dispatch(msg.replyTo, failure(`unsupported special-use attribute ${msg.specialUse}`, false, 'CANNOT'));
  }
  const wanted = [...ancestorNames(name), name].filter((n) => !folderByName(state, n));
  if (overFolderLimit(state, wanted.length)) return dispatch(msg.replyTo, failure(`at most ${MAX_FOLDERS} folders`, false, 'LIMIT'));
  const created = plannedFolders(state, wanted);
  created[created.length - 1].specialUse = msg.specialUse;
  await commitFolders(state, created, deps);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'folder-create', folder: name });
  for (const folder of created) tellMailboxChange(state, { kind: 'mailbox', folder: folder.name, change: 'created', subscribed: folder.subscribed });
  dispatch(msg.replyTo, { ok: true });
}

async function commitFolders(state: MailboxState, folders: FolderRecord[], deps: MailboxDeps, extra: WriteOp[] = []) {
  const mailboxId = state.account.mailboxId;
  await deps.db.commit([...extra, ...folders.map((f) => deps.mailboxes.folderOp(mailboxId, f)), deps.mailboxes.accountOp(state.account)]);
  for (const folder of folders) state.folders.set(folder.id, folder);
}

function hasChildren(state: MailboxState, name: string): boolean {
  for (const folder of state.folders.values()) if (isDescendant(folder.name, name)) return true;
  return false;
}

async function deleteFolder(state: MailboxState, msg: Req<'folder-delete'>, deps: MailboxDeps) {
  const name = canonicalFolderName(msg.name);
  if (name === INBOX) return dispatch(msg.replyTo, failure('INBOX cannot be deleted', false, 'CANNOT'));
  const folder = folderByName(state, name);
  if (!folder) return dispatch(msg.replyTo, missing(name));
  // Dovecot's answer too: RFC 3501 would keep the name as \Noselect, which our layout has no place for.
  // RFC 9051 §7.1's code for exactly this (a client then deletes the children first).
  if (hasChildren(state, name)) return dispatch(msg.replyTo, failure(`folder ${name} has children, delete them first`, false, 'HASCHILDREN'));
  const mailboxId = state.account.mailboxId;
  const records = await deps.mailboxes.listMessages(mailboxId, folder.id);
  const ops = await deps.mailboxes.folderContentDeleteOps(mailboxId, folder.id);
  for (const record of records) {
    ops.push(deps.blobs.unrefOp(record.blob, messageHolder(mailboxId, folder.id, record.uid)));
    if (record.deliveryId) ops.push(deps.mailboxes.deleteDeliveryOp(mailboxId, record.deliveryId));
    countMessage(state, folder, record, -1);
  }
  // The subscription outlives the folder (RFC 3501 §6.3.4: LSUB shows it until UNSUBSCRIBE).
  if (folder.subscribed) state.account.subscribedNames = [...(state.account.subscribedNames ?? []), name];
  ops.push(deps.mailboxes.deleteFolderOp(mailboxId, folder.id), deps.mailboxes.accountOp(state.account));
  ops.push(sortSnapshotDeleteOp(mailboxId, folder.uidValidity));
  await deps.db.commit(ops);
  state.folders.delete(folder.id);
  publishGone(state, folder.id, folder.name);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'folder-delete', folder: name });
  tellMailboxChange(state, { kind: 'mailbox', folder: folder.name, change: 'deleted', subscribed: folder.subscribed });
  dispatch(msg.replyTo, { ok: true });
  await collectBlobs(records.map((r) => r.blob), deps);
}

async function renameFolder(state: MailboxState, msg: Req<'folder-rename'>, deps: MailboxDeps) {
  const from = canonicalFolderName(msg.from);
  const to = requestedName(msg.to);
  const problem = folderNameProblem(to);
  if (problem) return dispatch(msg.replyTo, failure(problem, false, 'CANNOT'));
  const source = folderByName(state, from);
  if (!source) return dispatch(msg.replyTo, missing(from));
  if (folderByName(state, to)) return dispatch(msg.replyTo, failure(`folder ${to} already exists`, false, 'ALREADYEXISTS'));
  if (from === INBOX) return renameInbox(state, source, to, msg, deps);
  if (isDescendant(to, from)) return dispatch(msg.replyTo, failure('a folder cannot move below itself', false, 'CANNOT'));
  const moving = [...state.folders.values()].filter((f) => f.id === source.id || isDescendant(f.name, from));
  const renamed = moving.map((f) => ({ ...f, name: to + f.name.slice(from.length) }));
  const taken = renamed.find((f) => folderByName(state, f.name));
  if (taken) return dispatch(msg.replyTo, failure(`folder ${taken.name} already exists`, false, 'ALREADYEXISTS'));
  const parents = ancestorNames(to).filter((n) => !folderByName(state, n));
  if (overFolderLimit(state, parents.length)) return dispatch(msg.replyTo, failure(`at most ${MAX_FOLDERS} folders`, false, 'LIMIT'));
  const created = plannedFolders(state, parents);
  for (const folder of renamed) if (takeNameSubscription(state, folder.name)) folder.subscribed = true;
  await commitFolders(state, [...created, ...renamed], deps);
  for (const folder of moving) publishGone(state, folder.id, folder.name);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'folder-rename', folder: from, to });
  for (const [i, folder] of renamed.entries()) {
    tellMailboxChange(state, { kind: 'mailbox', folder: folder.name, change: 'renamed', from: moving[i]!.name, subscribed: folder.subscribed });
  }
  dispatch(msg.replyTo, { ok: true });
}

/**
 * RFC 3501 6.3.5: renaming INBOX moves its messages into a new folder (new UIDs, a
 * new UIDVALIDITY) and leaves INBOX empty; INBOX's children stay where they are.
 */
async function renameInbox(state: MailboxState, inbox: FolderRecord, to: string, msg: Req<'folder-rename'>, deps: MailboxDeps) {
  const wanted = [...ancestorNames(to), to].filter((n) => !folderByName(state, n));
  if (overFolderLimit(state, wanted.length)) return dispatch(msg.replyTo, failure(`at most ${MAX_FOLDERS} folders`, false, 'LIMIT'));
  const created = plannedFolders(state, wanted);
  const target = created[created.length - 1];
  const records = await deps.mailboxes.listMessages(state.account.mailboxId, inbox.id);
  const ops: WriteOp[] = [];
  removeMessageOps(state, inbox, records, inbox.highestModseq + 1, deps, ops);
  const modseq = target.highestModseq + 1;
  for (const record of records) {
    addMessageOps(state, target, { ...record, uid: target.uidNext, modseq }, deps, ops);
  }
  finishAdding(target, records.length > 0 ? modseq : target.highestModseq, null);
  target.firstRecentUid = target.uidNext;
  ops.push(deps.mailboxes.folderOp(state.account.mailboxId, inbox));
  await commitFolders(state, created, deps, ops);
  publishExpunged(state, inbox, records.map((r) => r.uid), null);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'folder-rename', folder: INBOX, to });
  dispatch(msg.replyTo, { ok: true });
}

async function subscribeFolder(state: MailboxState, msg: Req<'folder-subscribe'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  if (!folder) return subscribeName(state, msg, deps);
  if (folder.subscribed !== msg.subscribed) {
    folder.subscribed = msg.subscribed;
    await deps.db.commit([deps.mailboxes.folderOp(state.account.mailboxId, folder)]);
    tellMailboxChange(state, { kind: 'mailbox', folder: folder.name, change: 'subscription', subscribed: folder.subscribed });
  }
  dispatch(msg.replyTo, { ok: true });
}

/** SUBSCRIBE of a name with no folder is allowed (RFC 3501 §6.3.6); UNSUBSCRIBE of one never subscribed is not. */
async function subscribeName(state: MailboxState, msg: Req<'folder-subscribe'>, deps: MailboxDeps) {
  const name = requestedName(msg.name);
  const names = state.account.subscribedNames ?? [];
  const problem = folderNameProblem(name);
  if (problem) return dispatch(msg.replyTo, failure(problem, false, 'CANNOT'));
  if (msg.subscribed === names.includes(name)) {
    return dispatch(msg.replyTo, msg.subscribed ? { ok: true } : failure(`${name} is not subscribed`, false, 'NONEXISTENT'));
  }
  if (msg.subscribed && names.length >= MAX_FOLDERS) return dispatch(msg.replyTo, failure(`at most ${MAX_FOLDERS} subscriptions`, false, 'LIMIT'));
  state.account.subscribedNames = msg.subscribed ? [...names, name] : names.filter((n) => n !== name);
  await deps.db.commit([deps.mailboxes.accountOp(state.account)]);
  dispatch(msg.replyTo, { ok: true });
}

// ---- selection ----

async function openSelection(state: MailboxState, folder: FolderRecord, deps: MailboxDeps): Promise<Selection> {
  const open = state.selections.get(folder.id);
  if (open) return open;
  const records = await deps.mailboxes.listMessages(state.account.mailboxId, folder.id);
  const selection = newSelection(records);
  state.selections.set(folder.id, selection);
  return selection;
}

async function select(state: MailboxState, msg: Req<'select'>, deps: MailboxDeps) {
  // A SELECT that fails still ends the previous selection (RFC 3501 6.3.1).
  leaveSelection(state, msg.session);
  collectAside(releaseHeld(state, msg.session, null, deps), deps);
  const folder = findFolder(state, msg.name);
  if (!folder) return dispatch(msg.replyTo, missing(msg.name));
  const selection = await openSelection(state, folder, deps);
  const recentUids = recentUidsOf(selection, folder);
  // EXAMINE and an IMAP4rev2 session (RFC 9051 has no \Recent) leave \Recent to the next rev1 SELECT.
  const takesRecent = !msg.readOnly && msg.takesRecent !== false;
  if (takesRecent && folder.firstRecentUid < folder.uidNext) {
    folder.firstRecentUid = folder.uidNext;
    await deps.db.commit([deps.mailboxes.folderOp(state.account.mailboxId, folder)]);
  }
  selection.sessions.set(msg.session, { listener: msg.listener, takesRecent });
  state.selectedBy.set(msg.session, folder.id);
  const messages = Array.from(selection.messages.values(), toView);
  dispatch(msg.replyTo, { ok: true, folder: await folderInfo(state, folder, deps), messages, recentUids });
}

// ---- messages ----

/** The folder's messages with the given UIDs (those that exist), in UID order. */
async function readMessages(state: MailboxState, folder: FolderRecord, uids: number[], deps: MailboxDeps): Promise<MessageRecord[]> {
  const wanted = [...new Set(uids)].sort((a, b) => a - b);
  const selection = state.selections.get(folder.id);
  if (selection) return wanted.map((uid) => selection.messages.get(uid)).filter((r): r is MessageRecord => r !== undefined);
  const mailboxId = state.account.mailboxId;
  if (wanted.length > MAX_SINGLE_READS) {
    const set = new Set(wanted);
    return (await deps.mailboxes.listMessages(mailboxId, folder.id)).filter((r) => set.has(r.uid));
  }
  const out: MessageRecord[] = [];
  for (const uid of wanted) {
    const record = await deps.mailboxes.getMessage(mailboxId, folder.id, uid);
    if (record) out.push(record);
  }
  return out;
}

async function allMessages(state: MailboxState, folder: FolderRecord, deps: MailboxDeps): Promise<MessageRecord[]> {
  const selection = state.selections.get(folder.id);
  if (selection) return [...selection.messages.values()];
  return deps.mailboxes.listMessages(state.account.mailboxId, folder.id);
}

function overQuota(state: MailboxState, quota: number, adding: number): boolean {
  return exceedsQuota(state.account.bytes, adding, quota);
}

async function append(state: MailboxState, msg: Req<'append'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  const refused = !folder
    ? failure(`no folder named ${msg.name}`, false, 'TRYCREATE')
    : overQuota(state, msg.quota, msg.size) ? failure('mailbox over quota', false, 'OVERQUOTA') : null;
  // With the body's ops in hand it is known to be stored by this batch: no record to read.
  const blob = refused ? undefined : msg.blobOps ? { size: msg.size } : await deps.blobs.record(msg.blob);
  if (refused || !folder || !blob) {
    // The upload's temporary reference goes either way: the client sends the bytes again.
    if (msg.uploadHolder !== undefined) {
      await deps.db.commit([deps.blobs.unrefOp(msg.blob, msg.uploadHolder)]);
      await collectBlobs([msg.blob], deps);
    }
    dispatch(msg.replyTo, refused ?? failure('uploaded message body not found', true));
    return;
  }
  const recentTo = takeRecent(state, folder, null);
  const record: MessageRecord = {
    uid: folder.uidNext, blob: msg.blob, size: blob.size, flags: storedFlags(msg.flags),
    internalDate: msg.internalDate, modseq: folder.highestModseq + 1, savedAt: Date.now(),
  };
  const ops: WriteOp[] = msg.blobOps ? [...msg.blobOps] : msg.uploadHolder !== undefined ? [deps.blobs.unrefOp(msg.blob, msg.uploadHolder)] : [];
  addMessageOps(state, folder, record, deps, ops);
  finishAdding(folder, record.modseq, recentTo);
  ops.push(deps.mailboxes.folderOp(state.account.mailboxId, folder), deps.mailboxes.accountOp(state.account));
  await deps.db.commit(ops);
  const session = msg.session ?? null;
  publishAdded(state, folder, [record], recentTo, session);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'append', folder: folder.name, uids: [record.uid] });
  dispatch(msg.replyTo, {
    ok: true, uidValidity: folder.uidValidity, uid: record.uid, messages: missedBy(state, folder, msg.viewUidNext, [record]),
    recent: session !== null && recentTo === session,
  });
}

async function appendMany(state: MailboxState, msg: Req<'append-many'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  const total = msg.items.reduce((sum, item) => sum + item.size, 0);
  const refused = !folder
    ? failure(`no folder named ${msg.name}`, false, 'TRYCREATE')
    : overQuota(state, msg.quota, total) ? failure('mailbox over quota', false, 'OVERQUOTA') : null;
  const blobs = refused ? [] : await Promise.all(msg.items.map((item) => deps.blobs.record(item.blob)));
  const releases = msg.items.map((item) => deps.blobs.unrefOp(item.blob, item.uploadHolder));
  if (refused || !folder || blobs.some((blob) => !blob)) {
    // None is filed: every upload's temporary reference goes, the client sends them all again.
    await deps.db.commit(releases);
    await collectBlobs(msg.items.map((item) => item.blob), deps);
    dispatch(msg.replyTo, refused ?? failure('uploaded message body not found', true));
    return;
  }
  const recentTo = takeRecent(state, folder, null);
  const modseq = folder.highestModseq + 1;
  const ops: WriteOp[] = releases;
  const records = msg.items.map((item, i) => {
    const record: MessageRecord = {
      uid: folder.uidNext, blob: item.blob, size: blobs[i]!.size, flags: storedFlags(item.flags), internalDate: item.internalDate, modseq,
      savedAt: Date.now(),
    };
    addMessageOps(state, folder, record, deps, ops);
    return record;
  });
  finishAdding(folder, modseq, recentTo);
  ops.push(deps.mailboxes.folderOp(state.account.mailboxId, folder), deps.mailboxes.accountOp(state.account));
  await deps.db.commit(ops);
  const session = msg.session ?? null;
  publishAdded(state, folder, records, recentTo, session);
  const uids = records.map((r) => r.uid);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'append', folder: folder.name, uids });
  dispatch(msg.replyTo, {
    ok: true, uidValidity: folder.uidValidity, uids, messages: missedBy(state, folder, msg.viewUidNext, records),
    recentUids: session !== null && recentTo === session ? uids : [],
  });
}

async function store(state: MailboxState, msg: Req<'store'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  if (!folder) return dispatch(msg.replyTo, missing(msg.name));
  const flags = storedFlags(msg.flags);
  const modseq = folder.highestModseq + 1;
  const updated: MessageRecord[] = [];
  const modified: number[] = [];
  for (const record of await readMessages(state, folder, msg.uids, deps)) {
    // RFC 7162 3.1.3: a message changed after UNCHANGEDSINCE is left alone and reported.
    if (msg.unchangedSince !== undefined && record.modseq > msg.unchangedSince) {
      modified.push(record.uid);
      continue;
    }
    const changed = applyFlagOperation(record.flags, msg.operation, flags);
    const next = msg.allowed ? restrictFlagChange(record.flags, changed, msg.allowed) : changed;
    if (sameFlags(next, record.flags)) continue;
    countFlagChange(folder, record.flags, next);
    updated.push({ ...record, flags: next, modseq });
  }
  if (updated.length > 0) {
    folder.highestModseq = modseq;
    const mailboxId = state.account.mailboxId;
    await deps.db.commit([...updated.map((r) => deps.mailboxes.messageOp(mailboxId, folder.id, r)), deps.mailboxes.folderOp(mailboxId, folder)]);
    publishFlags(state, folder, updated, msg.session);
    if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'flags', folder: folder.name, uids: updated.map((r) => r.uid) });
  }
  dispatch(msg.replyTo, { ok: true, updated: updated.map(toView), modified, highestModseq: folder.highestModseq });
}

async function expunge(state: MailboxState, msg: Req<'expunge'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  if (!folder) return dispatch(msg.replyTo, missing(msg.name));
  const doomed = await deletedMessages(state, folder, msg.uids, deps);
  const released = await expungeRecords(state, folder, doomed, msg.session, deps);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'expunge', folder: folder.name, uids: doomed.map((r) => r.uid) });
  dispatch(msg.replyTo, { ok: true, expunged: doomed.map((r) => r.uid), highestModseq: folder.highestModseq });
  collectAside(collectExpunged(state, folder, released, msg.session, deps), deps);
}

/**
 * The folder's \Deleted messages (among `uids` when given), in UID order. A selected folder's
 * index keeps the UIDs of its \Deleted messages: an EXPUNGE under a steady load (one after
 * every flag change) reads those only, not the whole folder.
 */
async function deletedMessages(state: MailboxState, folder: FolderRecord, uids: number[] | undefined, deps: MailboxDeps): Promise<MessageRecord[]> {
  const selection = state.selections.get(folder.id);
  const doomed = (record: MessageRecord | undefined): record is MessageRecord => record !== undefined && record.flags.includes('\\Deleted');
  if (!selection) {
    const only = uids ? new Set(uids) : null;
    return (await allMessages(state, folder, deps)).filter((r) => doomed(r) && (only === null || only.has(r.uid)));
  }
  if (uids !== undefined && uids.length < selection.deleted.size) {
    return [...new Set(uids)].sort((a, b) => a - b).map((uid) => selection.messages.get(uid)).filter(doomed);
  }
  const only = uids ? new Set(uids) : null;
  const out: MessageRecord[] = [];
  for (const uid of selection.deleted) {
    const record = selection.messages.get(uid);
    if (doomed(record) && (only === null || only.has(uid))) out.push(record);
  }
  return out.sort((a, b) => a.uid - b.uid);
}

/** COPY and MOVE inside the mailbox: new records referencing the same blobs; MOVE removes the sources in the same batch. */
async function copy(state: MailboxState, msg: Req<'copy'>, deps: MailboxDeps) {
  const source = findFolder(state, msg.from);
  if (!source) return dispatch(msg.replyTo, missing(msg.from));
  const target = findFolder(state, msg.to);
  if (!target) return dispatch(msg.replyTo, failure(`no folder named ${msg.to}`, false, 'TRYCREATE'));
  const records = await readMessages(state, source, msg.uids, deps);
  const adding = msg.move ? 0 : records.reduce((sum, r) => sum + r.size, 0);
  if (overQuota(state, msg.quota, adding)) return dispatch(msg.replyTo, failure('mailbox over quota', false, 'OVERQUOTA'));
  if (records.length === 0) {
    return dispatch(msg.replyTo, { ok: true, uidValidity: target.uidValidity, sourceUids: [], destUids: [], messages: [] });
  }
  const ops: WriteOp[] = [];
  // Removal first: a moved message's delivery id is deleted here and written again for its new place.
  if (msg.move) removeMessageOps(state, source, records, source.highestModseq + 1, deps, ops);
  const recentTo = takeRecent(state, target, msg.session);
  const modseq = target.highestModseq + 1;
  const copies = records.map((r) => {
    const copied: MessageRecord = { ...r, uid: target.uidNext, modseq, deliveryId: msg.move ? r.deliveryId : undefined, savedAt: Date.now() };
    if (copied.deliveryId === undefined) delete copied.deliveryId;
    addMessageOps(state, target, copied, deps, ops);
    return copied;
  });
  finishAdding(target, modseq, recentTo);
  const mailboxId = state.account.mailboxId;
  if (msg.move && source !== target) ops.push(deps.mailboxes.folderOp(mailboxId, source));
  ops.push(deps.mailboxes.folderOp(mailboxId, target), deps.mailboxes.accountOp(state.account));
  await deps.db.commit(ops);
  if (msg.move) publishExpunged(state, source, records.map((r) => r.uid), msg.session);
  publishAdded(state, target, copies, recentTo, msg.session);
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'append', folder: target.name, uids: copies.map((r) => r.uid) });
  if (msg.move && deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'expunge', folder: source.name, uids: records.map((r) => r.uid) });
  dispatch(msg.replyTo, {
    ok: true, uidValidity: target.uidValidity, sourceUids: records.map((r) => r.uid),
    destUids: copies.map((r) => r.uid), messages: missedBy(state, target, msg.viewUidNext, copies),
  });
}

/**
 * The messages a session's view of the folder lacks after its own APPEND/COPY: its own
 * `added`, and with `viewUidNext` everything from there on (other additions whose events
 * are queued behind the reply: the session must show them first, in UID order).
 */
function missedBy(state: MailboxState, folder: FolderRecord, viewUidNext: number | undefined, added: MessageRecord[]): MessageView[] {
  const selection = state.selections.get(folder.id);
  if (viewUidNext === undefined || !selection) return added.map(toView);
  const out: MessageView[] = [];
  for (const record of selection.messages.values()) if (record.uid >= viewUidNext) out.push(toView(record));
  return out;
}

async function messageByUid(state: MailboxState, msg: Req<'message-by-uid'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  if (!folder) return dispatch(msg.replyTo, missing(msg.name));
  const [record] = await readMessages(state, folder, [msg.uid], deps);
  if (!record) return dispatch(msg.replyTo, failure(`no message with UID ${msg.uid} in ${msg.name}`, false, 'NONEXISTENT'));
  dispatch(msg.replyTo, { ok: true, uidValidity: folder.uidValidity, blob: record.blob, flags: record.flags, internalDate: record.internalDate });
}

function getMetadata(state: MailboxState, msg: Req<'metadata-get'>) {
  if (msg.name === '') return dispatch(msg.replyTo, { ok: true, entries: state.account.metadata ?? {} });
  const folder = findFolder(state, msg.name);
  if (!folder) return dispatch(msg.replyTo, missing(msg.name));
  dispatch(msg.replyTo, { ok: true, entries: folder.metadata ?? {} });
}

async function setMetadata(state: MailboxState, msg: Req<'metadata-set'>, deps: MailboxDeps) {
  const folder = msg.name === '' ? null : findFolder(state, msg.name);
  if (msg.name !== '' && !folder) return dispatch(msg.replyTo, missing(msg.name));
  const entries = { ...((folder ?? state.account).metadata ?? {}) };
  for (const [name, value] of msg.entries) {
    if (value === null) delete entries[name];
    else entries[name] = value;
  }
  if (Object.keys(entries).length > msg.maxEntries) return dispatch(msg.replyTo, failure(`at most ${msg.maxEntries} entries`, false, 'LIMIT'));
  const mailboxId = state.account.mailboxId;
  if (folder) {
    folder.metadata = entries;
    await deps.db.commit([deps.mailboxes.folderOp(mailboxId, folder)]);
  } else {
    state.account.metadata = entries;
    await deps.db.commit([deps.mailboxes.accountOp(state.account)]);
  }
  dispatch(msg.replyTo, { ok: true });
}

async function vanished(state: MailboxState, msg: Req<'vanished'>, deps: MailboxDeps) {
  const folder = findFolder(state, msg.name);
  if (!folder) return dispatch(msg.replyTo, missing(msg.name));
  const uids = await deps.mailboxes.vanishedSince(state.account.mailboxId, folder.id, msg.sinceModseq);
  dispatch(msg.replyTo, { ok: true, uids });
}
