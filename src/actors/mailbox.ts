// The mailbox actor: one per open mailbox, sole writer of its folders' UIDs, flags,
// modseqs and expunges. Its state is a cache of the account and folder records plus,
// per selected folder, a message index and the selecting sessions' listeners; after
// a crash it is reset and reloads the records from disk (selections are lost).
import type { ActorContext, Ref } from 'nact';
import type { Database, WriteOp } from '../store/database.js';
import type { BlobStore } from '../store/blob-store.js';
import {
  INBOX, MailboxStore, messageHolder, needsUpgrade, upgradeFolder,
  type AccountRecord, type FolderRecord, type MessageRecord,
} from '../store/mailbox-store.js';
import type { Logger } from '../logger.js';
import { dispatch, failure } from './supervision.js';
import { isStorageError } from '../store/storage-error.js';
import type { MailboxRequest } from './mailbox-messages.js';
import type { FolderEvent, FolderEventMessage, MessageView } from './mailbox-imap-messages.js';
import { handleImapRequest, isImapRequest } from './mailbox-imap.js';
import { exportMailbox, removalOps } from '../store/mailbox-transfer.js';

export interface MailboxDeps {
  db: Database;
  blobs: BlobStore;
  mailboxes: MailboxStore;
  log: Logger;
  testFaults: boolean;
  /** Sends a request to the node a moved mailbox now lives on, answering its replyTo. */
  forward?: (node: number, mailboxId: string, msg: MailboxRequest) => void;
}

/** A session that has a folder selected. */
export interface SelectingSession {
  listener: Ref<FolderEventMessage>;
  readOnly: boolean;
}

/** A folder some session has selected: its messages in memory, and who to tell about changes. */
export interface Selection {
  /** uid → record; UIDs only grow, so insertion order is UID order. */
  messages: Map<number, MessageRecord>;
  sessions: Map<string, SelectingSession>;
}

export interface MailboxState {
  account: AccountRecord;
  folders: Map<number, FolderRecord>;
  popSession: string | null;
  /** By folder id; only folders with at least one selecting session. */
  selections: Map<number, Selection>;
  /** Session id → id of the folder it has selected. */
  selectedBy: Map<string, number>;
  /** While the mailbox is being moved: requests waiting for the outcome. */
  parked: MailboxRequest[] | null;
  /** The node the mailbox moved to: every request goes there. */
  movedTo: number | null;
}

type Ctx = ActorContext<MailboxRequest, Ref<unknown>>;

export function mailboxBehaviour(mailboxId: string, deps: MailboxDeps) {
  const handle = handleRequest(mailboxId, deps);
  return async (state: MailboxState | undefined, msg: MailboxRequest, ctx: Ctx): Promise<MailboxState> => {
    try {
      return await handle(state, msg, ctx);
    } catch (err) {
      answerStorageError(err, msg);
      throw err;
    }
  };
}

/**
 * A write the disk refused: the request is answered "insufficient storage" (temporary,
 * IMAP NO [UNAVAILABLE], a deferred delivery) before the crash policy resets the actor,
 * whose state reloads from disk, where the refused change never was.
 */
function answerStorageError(err: unknown, msg: MailboxRequest): void {
  if (!isStorageError(err)) return;
  const replyTo = (msg as { replyTo?: Ref<unknown> }).replyTo;
  if (replyTo) dispatch(replyTo, failure(`insufficient system storage (${err.code})`, true));
}

function handleRequest(mailboxId: string, deps: MailboxDeps) {
  return async (state: MailboxState | undefined, msg: MailboxRequest, ctx: Ctx): Promise<MailboxState> => {
    const loaded = state ?? (await loadState(mailboxId, deps));
    if (loaded.movedTo !== null && deps.forward) {
      deps.forward(loaded.movedTo, mailboxId, msg);
      return loaded;
    }
    if (loaded.parked && !isMoveMessage(msg)) {
      loaded.parked.push(msg);
      return loaded;
    }
    if (isMoveMessage(msg)) return handleMove(loaded, msg, deps, ctx);
    if (isImapRequest(msg)) return handleImapRequest(loaded, msg, deps);
    switch (msg.type) {
      case 'deliver': return deliver(loaded, msg, deps);
      case 'pop-open': return popOpen(loaded, msg, deps);
      case 'pop-commit': return popCommit(loaded, msg, deps);
      case 'pop-release':
        if (loaded.popSession === msg.session) loaded.popSession = null;
        dispatch(msg.replyTo, { ok: true });
        return loaded;
      case 'stats':
        dispatch(msg.replyTo, { ok: true, messages: loaded.account.messages, bytes: loaded.account.bytes });
        return loaded;
      case 'inject-fault':
        if (!deps.testFaults) {
          dispatch(msg.replyTo, failure('fault injection is disabled', false));
          return loaded;
        }
        throw new Error(`injected fault in mailbox ${mailboxId}`);
    }
  };
}

async function loadState(mailboxId: string, deps: MailboxDeps): Promise<MailboxState> {
  const existing = await deps.mailboxes.loadAccount(mailboxId);
  if (existing) {
    const folders = await upgradeFolders(mailboxId, existing.folders, deps);
    return newState(existing.account, folders);
  }
  const created = deps.mailboxes.createAccountOps(mailboxId);
  await deps.db.commit(created.ops);
  return newState(created.account, created.folders);
}

function newState(account: AccountRecord, folders: FolderRecord[]): MailboxState {
  return {
    account, folders: new Map(folders.map((f) => [f.id, f])), popSession: null,
    selections: new Map(), selectedBy: new Map(), parked: null, movedTo: null,
  };
}

type MoveMessage = Extract<MailboxRequest, { type: 'move-out' | 'move-done' | 'move-abort' }>;

function isMoveMessage(msg: MailboxRequest): msg is MoveMessage {
  return msg.type === 'move-out' || msg.type === 'move-done' || msg.type === 'move-abort';
}

/** The three steps of moving this mailbox to another node (see src/cluster/mailbox-move.ts). */
async function handleMove(state: MailboxState, msg: MoveMessage, deps: MailboxDeps, ctx: Ctx): Promise<MailboxState> {
  switch (msg.type) {
    case 'move-out': {
      if (state.popSession !== null) {
        dispatch(msg.replyTo, failure('a POP3 session holds the mailbox', true, 'INUSE'));
        return state;
      }
      state.parked = [];
      const data = await exportMailbox(deps.mailboxes, state.account, [...state.folders.values()]);
      dispatch(msg.replyTo, { ok: true, data });
      return state;
    }
    case 'move-done': {
      const data = await exportMailbox(deps.mailboxes, state.account, [...state.folders.values()]);
      await deps.db.commit(removalOps(deps.mailboxes, deps.blobs, data));
      for (const selection of state.selections.values()) {
        for (const [, session] of selection.sessions) dispatch(session.listener, { type: 'folder-event', event: { kind: 'gone', folder: '' } });
      }
      state.selections.clear();
      state.selectedBy.clear();
      state.movedTo = msg.to;
      const parked = state.parked ?? [];
      state.parked = null;
      dispatch(msg.replyTo, { ok: true });
      for (const waiting of parked) deps.forward?.(msg.to, state.account.mailboxId, waiting);
      await collectBlobs(data.messages.map((m) => m.record.blob), deps);
      return state;
    }
    case 'move-abort': {
      const parked = state.parked ?? [];
      state.parked = null;
      dispatch(msg.replyTo, { ok: true });
      for (const waiting of parked) dispatch(ctx.self, waiting);
      return state;
    }
  }
}

/** Folder records written before the unseen/deleted/recent counters existed get them once. */
async function upgradeFolders(mailboxId: string, folders: FolderRecord[], deps: MailboxDeps): Promise<FolderRecord[]> {
  const ops: WriteOp[] = [];
  const out: FolderRecord[] = [];
  for (const folder of folders) {
    if (!needsUpgrade(folder)) {
      out.push(folder);
      continue;
    }
    const upgraded = upgradeFolder(folder, await deps.mailboxes.listMessages(mailboxId, folder.id));
    ops.push(deps.mailboxes.folderOp(mailboxId, upgraded));
    out.push(upgraded);
  }
  if (ops.length > 0) await deps.db.commit(ops);
  return out;
}

export function folderByName(state: MailboxState, name: string): FolderRecord | undefined {
  for (const folder of state.folders.values()) if (folder.name === name) return folder;
  return undefined;
}

function inboxOf(state: MailboxState): FolderRecord {
  const inbox = folderByName(state, INBOX);
  if (!inbox) throw new Error(`mailbox ${state.account.mailboxId} has no INBOX`);
  return inbox;
}

async function deliver(state: MailboxState, msg: Extract<MailboxRequest, { type: 'deliver' }>, deps: MailboxDeps) {
  const mailboxId = state.account.mailboxId;
  const earlier = msg.mayRepeat ? await deps.mailboxes.findDelivery(mailboxId, msg.deliveryId) : undefined;
  if (earlier) {
    dispatch(msg.replyTo, { ok: true, uid: earlier.uid, duplicate: true });
    return state;
  }
  if (msg.quota > 0 && state.account.bytes + msg.size > msg.quota) {
    dispatch(msg.replyTo, failure('mailbox over quota', true));
    return state;
  }
  const inbox = inboxOf(state);
  const recentTo = takeRecent(state, inbox, null);
  const message: MessageRecord = {
    uid: inbox.uidNext, blob: msg.blob, size: msg.size, flags: [], internalDate: msg.internalDate,
    modseq: inbox.highestModseq + 1, deliveryId: msg.deliveryId,
  };
  const ops: WriteOp[] = [...(msg.blobOps ?? [])];
  addMessageOps(state, inbox, message, deps, ops);
  finishAdding(inbox, message.modseq, recentTo);
  ops.push(deps.mailboxes.folderOp(mailboxId, inbox), deps.mailboxes.accountOp(state.account));
  await deps.db.commit(ops);
  publishAdded(state, inbox, [message], recentTo, null);
  deps.log.debug({ mailbox: mailboxId, uid: message.uid, delivery: msg.deliveryId }, 'stored');
  dispatch(msg.replyTo, { ok: true, uid: message.uid, duplicate: false });
  return state;
}

async function popOpen(state: MailboxState, msg: Extract<MailboxRequest, { type: 'pop-open' }>, deps: MailboxDeps) {
  if (state.popSession !== null && state.popSession !== msg.session) {
    dispatch(msg.replyTo, { ok: false, error: 'in-use', temporary: true });
    return state;
  }
  const inbox = inboxOf(state);
  const records = await deps.mailboxes.listMessages(state.account.mailboxId, inbox.id);
  state.popSession = msg.session;
  dispatch(msg.replyTo, {
    ok: true, uidValidity: inbox.uidValidity,
    messages: records.map((r) => ({ uid: r.uid, size: r.size, blob: r.blob })),
  });
  return state;
}

async function popCommit(state: MailboxState, msg: Extract<MailboxRequest, { type: 'pop-commit' }>, deps: MailboxDeps) {
  if (state.popSession !== null && state.popSession !== msg.session) {
    dispatch(msg.replyTo, failure('maildrop lock lost', true));
    return state;
  }
  const inbox = inboxOf(state);
  const wanted = new Set(msg.uids);
  const records = (await deps.mailboxes.listMessages(state.account.mailboxId, inbox.id)).filter((r) => wanted.has(r.uid));
  const released = await expungeRecords(state, inbox, records, null, deps);
  state.popSession = null;
  dispatch(msg.replyTo, { ok: true });
  await collectBlobs(released, deps);
  return state;
}

// ---- message changes shared by every request ----
// Handlers change folder and account records in memory, then commit; if the commit
// throws, the actor is reset and the records are reloaded from disk, so memory never
// stays ahead of disk. Selection indexes and events change only after the commit.

/** Adjusts the folder's and account's counters for a message arriving (+1) or leaving (-1). */
export function countMessage(state: MailboxState, folder: FolderRecord, record: MessageRecord, sign: 1 | -1): void {
  folder.messages += sign;
  folder.bytes += sign * record.size;
  if (!record.flags.includes('\\Seen')) folder.unseen += sign;
  if (record.flags.includes('\\Deleted')) folder.deleted += sign;
  state.account.messages += sign;
  state.account.bytes += sign * record.size;
}

export function countFlagChange(folder: FolderRecord, before: readonly string[], after: readonly string[]): void {
  folder.unseen += Number(!after.includes('\\Seen')) - Number(!before.includes('\\Seen'));
  folder.deleted += Number(after.includes('\\Deleted')) - Number(before.includes('\\Deleted'));
}

/** Ops storing a new message (its record, its blob reference, its delivery id); updates counters. */
export function addMessageOps(state: MailboxState, folder: FolderRecord, record: MessageRecord, deps: MailboxDeps, ops: WriteOp[]): void {
  const mailboxId = state.account.mailboxId;
  ops.push(deps.mailboxes.messageOp(mailboxId, folder.id, record));
  ops.push(deps.blobs.addRefOp(record.blob, messageHolder(mailboxId, folder.id, record.uid)));
  if (record.deliveryId) ops.push(deps.mailboxes.deliveryOp(mailboxId, record.deliveryId, folder.id, record.uid));
  folder.uidNext = Math.max(folder.uidNext, record.uid + 1);
  countMessage(state, folder, record, 1);
}

/** After adding messages with `modseq`: the folder's HIGHESTMODSEQ, and \Recent given away or not. */
export function finishAdding(folder: FolderRecord, modseq: number, recentTo: string | null): void {
  folder.highestModseq = Math.max(folder.highestModseq, modseq);
  if (recentTo !== null) folder.firstRecentUid = folder.uidNext;
}

/**
 * Ops removing messages (record, blob reference, delivery id) and leaving a tombstone
 * at `modseq` for each; updates counters. Returns the blobs to collect after the commit.
 */
export function removeMessageOps(
  state: MailboxState, folder: FolderRecord, records: MessageRecord[], modseq: number, deps: MailboxDeps, ops: WriteOp[],
): string[] {
  const mailboxId = state.account.mailboxId;
  for (const record of records) {
    ops.push(deps.mailboxes.deleteMessageOp(mailboxId, folder.id, record.uid));
    ops.push(deps.blobs.unrefOp(record.blob, messageHolder(mailboxId, folder.id, record.uid)));
    ops.push(deps.mailboxes.tombstoneOp(mailboxId, folder.id, modseq, record.uid));
    if (record.deliveryId) ops.push(deps.mailboxes.deleteDeliveryOp(mailboxId, record.deliveryId));
    countMessage(state, folder, record, -1);
  }
  if (records.length > 0) folder.highestModseq = Math.max(folder.highestModseq, modseq);
  return records.map((r) => r.blob);
}

/** Removes messages in one synced batch, tells the folder's other sessions; returns blobs to collect. */
export async function expungeRecords(
  state: MailboxState, folder: FolderRecord, records: MessageRecord[], session: string | null, deps: MailboxDeps,
): Promise<string[]> {
  if (records.length === 0) return [];
  const ops: WriteOp[] = [];
  const blobs = removeMessageOps(state, folder, records, folder.highestModseq + 1, deps, ops);
  ops.push(deps.mailboxes.folderOp(state.account.mailboxId, folder), deps.mailboxes.accountOp(state.account));
  await deps.db.commit(ops);
  publishExpunged(state, folder, records.map((r) => r.uid), session);
  return blobs;
}

export async function collectBlobs(blobs: string[], deps: MailboxDeps): Promise<void> {
  for (const sha of new Set(blobs)) {
    try {
      await deps.blobs.collect(sha);
    } catch (err) {
      deps.log.error({ err, blob: sha }, 'blob collection failed; it will be retried at the next release');
    }
  }
}

// ---- selections and folder events ----

export function toView(record: MessageRecord): MessageView {
  return {
    uid: record.uid, flags: [...record.flags], modseq: record.modseq, size: record.size,
    internalDate: record.internalDate, blob: record.blob,
  };
}

/**
 * The read-write session (other than `except`) that gets \Recent for messages being
 * added to the folder now, or null: then they stay \Recent for the next read-write SELECT.
 */
export function takeRecent(state: MailboxState, folder: FolderRecord, except: string | null): string | null {
  const selection = state.selections.get(folder.id);
  if (!selection) return null;
  for (const [session, selecting] of selection.sessions) {
    if (!selecting.readOnly && session !== except) return session;
  }
  return null;
}

function tell(state: MailboxState, folderId: number, except: string | null, event: FolderEvent): void {
  const selection = state.selections.get(folderId);
  if (!selection) return;
  for (const [session, selecting] of selection.sessions) {
    if (session !== except) dispatch(selecting.listener, { type: 'folder-event', event });
  }
}

export function publishAdded(
  state: MailboxState, folder: FolderRecord, records: MessageRecord[], recentTo: string | null, except: string | null,
): void {
  const selection = state.selections.get(folder.id);
  if (!selection || records.length === 0) return;
  for (const record of records) selection.messages.set(record.uid, record);
  tell(state, folder.id, except, {
    kind: 'added', folder: folder.name, messages: records.map(toView),
    highestModseq: folder.highestModseq, uidNext: folder.uidNext, recentTo,
  });
}

export function publishFlags(state: MailboxState, folder: FolderRecord, records: MessageRecord[], except: string | null): void {
  const selection = state.selections.get(folder.id);
  if (!selection || records.length === 0) return;
  for (const record of records) selection.messages.set(record.uid, record);
  tell(state, folder.id, except, { kind: 'flags', folder: folder.name, messages: records.map(toView), highestModseq: folder.highestModseq });
}

export function publishExpunged(state: MailboxState, folder: FolderRecord, uids: number[], except: string | null): void {
  const selection = state.selections.get(folder.id);
  if (!selection || uids.length === 0) return;
  for (const uid of uids) selection.messages.delete(uid);
  tell(state, folder.id, except, { kind: 'expunged', folder: folder.name, uids, highestModseq: folder.highestModseq });
}

/** The folder was deleted or renamed: its sessions are told and lose their selection. */
export function publishGone(state: MailboxState, folderId: number, name: string): void {
  const selection = state.selections.get(folderId);
  if (!selection) return;
  tell(state, folderId, null, { kind: 'gone', folder: name });
  for (const session of selection.sessions.keys()) state.selectedBy.delete(session);
  state.selections.delete(folderId);
}

/** Ends a session's selection, if any; the folder's index goes when its last session leaves. */
export function leaveSelection(state: MailboxState, session: string): void {
  const folderId = state.selectedBy.get(session);
  if (folderId === undefined) return;
  state.selectedBy.delete(session);
  const selection = state.selections.get(folderId);
  if (!selection) return;
  selection.sessions.delete(session);
  if (selection.sessions.size === 0) state.selections.delete(folderId);
}
