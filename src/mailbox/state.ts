// A mailbox actor's state and the operations on it that both of its request
// handlers share (deliveries and POP3 in mailbox.ts, IMAP folders in
// imap-requests.ts): counters, write ops, recent flags, and folder events.
// Handlers change folder and account records in memory, then commit; if the commit
// throws, the actor is reset and the records are reloaded from disk, so memory never
// stays ahead of disk. Selection indexes and events change only after the commit.
import type { RepeatedDeliveries } from './repeated-deliveries.js';
import type { PipelineHooks } from '../plugins/contract/pipeline-hooks.js';
import type { Ref } from 'nact';
import type { Database, WriteOp } from '../store/database.js';
import type { BlobStore } from '../store/blob-store.js';
import { messageHolder, type AccountRecord, type FolderRecord, type MailboxStore, type MessageRecord } from '../store/mailbox-store.js';
import type { Logger } from '../core/logger.js';
import { dispatch } from '../core/supervision.js';
import type { MailboxRequest } from './messages.js';
import type { FolderEvent, FolderEventMessage, MessageView } from './imap-messages.js';

export interface MailboxDeps {
  db: Database;
  blobs: BlobStore;
  mailboxes: MailboxStore;
  log: Logger;
  testFaults: boolean;
  /** Sends a request to the node a moved mailbox now lives on, answering its replyTo. */
  forward?: (node: number, mailboxId: string, msg: MailboxRequest) => void;
  /** Plugin hooks: mailboxEvent after each committed change. */
  hooks?: PipelineHooks;
  /** Repeatable deliveries handled by this process (a node of a cluster of machines). */
  repeats?: RepeatedDeliveries;
}

/** A session that has a folder selected. */
export interface SelectingSession {
  listener: Ref<FolderEventMessage>;
  /** Read-write and not IMAP4rev2 (which has no \Recent): new mail is \Recent to it. */
  takesRecent: boolean;
}

/** A folder some session has selected: its messages in memory, and who to tell about changes. */
export interface Selection {
  /** uid → record; UIDs only grow, so insertion order is UID order. */
  messages: Map<number, MessageRecord>;
  /**
   * UIDs of the `messages` flagged \Deleted, kept with them (indexRecord): an EXPUNGE looks
   * at these only, not at every message of the folder (under a steady load a client sends
   * one after each flag change, mostly with little or nothing to remove).
   */
  deleted: Set<number>;
  sessions: Map<string, SelectingSession>;
}

/** A selection's index of these records (in UID order), no session yet. */
export function newSelection(records: readonly MessageRecord[]): Selection {
  const selection: Selection = { messages: new Map(), deleted: new Set(), sessions: new Map() };
  for (const record of records) indexRecord(selection, record);
  return selection;
}

/** Puts a new or changed record into the selection's index. */
function indexRecord(selection: Selection, record: MessageRecord): void {
  selection.messages.set(record.uid, record);
  if (record.flags.includes('\\Deleted')) selection.deleted.add(record.uid);
  else selection.deleted.delete(record.uid);
}

export interface MailboxState {
  account: AccountRecord;
  folders: Map<number, FolderRecord>;
  popSession: string | null;
  /** By folder id: folders with at least one selecting session, and at most one whose last session left (see leaveSelection). */
  selections: Map<number, Selection>;
  /** Session id → id of the folder it has selected. */
  selectedBy: Map<string, number>;
  /** NOTIFY: sessions told of every folder's changes (made on first use). */
  watchers?: Map<string, Ref<FolderEventMessage>>;
  /**
   * Bodies of expunged messages kept (not collected) while some session still shows them
   * to its client, because it has not sent the EXPUNGE yet: blob → those sessions. A FETCH
   * there answers with the data (RFC 2180 §4.1.1). Lost on an actor reset: the orphan
   * sweep collects such bodies later.
   */
  heldBodies: Map<string, Set<string>>;
  /** While the mailbox is being moved: requests waiting for the outcome. */
  parked: MailboxRequest[] | null;
  /** The node the mailbox moved to: every request goes there. */
  movedTo: number | null;
  /** A new mailbox's account and folder records, not on disk yet: committed with its first delivery, or before any other request. */
  unsaved?: WriteOp[];
}

export function folderByName(state: MailboxState, name: string): FolderRecord | undefined {
  for (const folder of state.folders.values()) if (folder.name === name) return folder;
  return undefined;
}

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

/**
 * Bodies kept for sessions that have not sent an EXPUNGE yet, at most: a session that stays
 * selected without a command for hours must not make this grow without bound. Past it the
 * longest kept go (a FETCH of those answers NO [EXPUNGEISSUED]).
 */
export const MAX_HELD_BODIES = 10_000;

/**
 * After an expunge committed: collects the bodies now, or, while other sessions have the
 * folder selected (they were told with an event and may still FETCH), keeps them until
 * each of those sessions reports the EXPUNGE sent (`releaseHeld`) or leaves.
 */
export async function collectExpunged(
  state: MailboxState, folder: FolderRecord, blobs: string[], except: string | null, deps: MailboxDeps, limit = MAX_HELD_BODIES,
): Promise<void> {
  const selection = state.selections.get(folder.id);
  const watchers = selection ? [...selection.sessions.keys()].filter((s) => s !== except) : [];
  if (watchers.length === 0) return collectBlobs(worthCollecting(state, blobs, deps), deps);
  for (const sha of blobs) {
    const held = state.heldBodies.get(sha) ?? new Set<string>();
    for (const session of watchers) held.add(session);
    state.heldBodies.delete(sha);
    state.heldBodies.set(sha, held);
  }
  const overflow: string[] = [];
  for (const sha of state.heldBodies.keys()) {
    if (state.heldBodies.size - overflow.length <= limit) break;
    overflow.push(sha);
  }
  for (const sha of overflow) state.heldBodies.delete(sha);
  if (overflow.length > 0) {
    deps.log.info({ bodies: overflow.length, limit }, 'expunged bodies kept for sessions past the limit; collecting the oldest');
    await collectBlobs(worthCollecting(state, overflow, deps), deps);
  }
}

/** The session no longer needs these bodies (all of them when `blobs` is null); collects those nobody holds. */
export async function releaseHeld(state: MailboxState, session: string, blobs: readonly string[] | null, deps: MailboxDeps): Promise<void> {
  if (state.heldBodies.size === 0) return;
  const free: string[] = [];
  for (const sha of blobs ?? [...state.heldBodies.keys()]) {
    const held = state.heldBodies.get(sha);
    if (held === undefined || !held.delete(session) || held.size > 0) continue;
    state.heldBodies.delete(sha);
    free.push(sha);
  }
  if (free.length > 0) await collectBlobs(worthCollecting(state, free, deps), deps);
}

/**
 * The bodies whose collect may delete something: not those the blob store knows to be
 * referenced still (its counts in memory, blob-ref-counts.ts; under a steady load nearly
 * every expunged body is in another mailbox too), nor those shown here (`notShownHere`).
 */
export function worthCollecting(state: MailboxState, blobs: string[], deps: MailboxDeps): string[] {
  const unknown = blobs.filter((sha) => !deps.blobs.refCounts.referenced(sha));
  return unknown.length === 0 ? unknown : notShownHere(state, unknown);
}

/** Above this many messages in selected folders, `notShownHere` does not look (it would cost more than the lookups it saves). */
const MAX_SHOWN_SCAN = 20_000;

/**
 * The bodies no message of a selected folder of this mailbox refers to, nor a session still
 * holds. The others need no collect: a shown message's reference is committed (selection
 * indexes change only after the commit), so the collect's lookup would find it and keep the
 * body; a held body is collected when released. Under a steady load most expunged bodies are
 * also in another message of the folder (the same message appended again, copies), and the
 * lookup (a LevelDB iterator per body) was a tenth of the kept-sessions profile.
 */
export function notShownHere(state: MailboxState, blobs: string[]): string[] {
  let shown = 0;
  for (const selection of state.selections.values()) shown += selection.messages.size;
  if (blobs.length === 0 || shown > MAX_SHOWN_SCAN) return blobs;
  const wanted = new Set(blobs);
  const found = new Set<string>();
  for (const sha of wanted) if (state.heldBodies.has(sha)) found.add(sha);
  for (const selection of state.selections.values()) {
    for (const record of selection.messages.values()) if (wanted.has(record.blob)) found.add(record.blob);
  }
  return found.size === 0 ? blobs : blobs.filter((sha) => !found.has(sha));
}

/**
 * Collection (a lookup of the body's references, then a synced delete) runs beside the
 * actor's next requests instead of before them: nothing the client waits for depends on it,
 * and the body's lock in the blob store orders it against any new reference (an APPEND of
 * the same bytes holds that lock until its commit). The state changes of `work` (held
 * bodies) happen before its first wait, so they are done when this is called.
 */
export function collectAside(work: Promise<void>, deps: MailboxDeps): void {
  work.catch((err: unknown) => deps.log.error({ err }, 'blob collection failed; the orphan sweep will find the body'));
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

/**
 * A record is replaced, never changed in place (a flag change makes a new one), so its view
 * is made once and shared, frozen, by every SELECT and event that shows it: fifty sessions
 * selecting a folder of 500 messages in turn copy nothing.
 */
const VIEW = Symbol('view');

/**
 * The view rides on its record as a hidden property: a WeakMap of every record's view
 * (24,000 in W3) cost a hash lookup per message per SELECT and made each garbage
 * collection walk its entries (toView and GC were 9 % and 13 % of a SELECT-heavy profile).
 * Not enumerable, so neither a copy of the record (`{ ...record, flags }`, which must get a
 * view of its own) nor the stored encoding (encodeMessage) carries it.
 */
type WithView = MessageRecord & { [VIEW]?: MessageView };

export function toView(record: MessageRecord): MessageView {
  const known = (record as WithView)[VIEW];
  if (known !== undefined) return known;
  const view: MessageView = Object.freeze({
    uid: record.uid, flags: Object.freeze([...record.flags]) as string[], modseq: record.modseq, size: record.size,
    internalDate: record.internalDate, blob: record.blob,
    // A delivery is filed when it arrives: its internal date is its save date.
    savedAt: record.savedAt ?? record.internalDate,
  });
  Object.defineProperty(record, VIEW, { value: view, enumerable: false });
  return view;
}

/**
 * The read-write session (other than `except`) that gets \Recent for messages being
 * added to the folder now, or null: then they stay \Recent for the next read-write SELECT.
 */
export function takeRecent(state: MailboxState, folder: FolderRecord, except: string | null): string | null {
  const selection = state.selections.get(folder.id);
  if (!selection) return null;
  for (const [session, selecting] of selection.sessions) {
    if (selecting.takesRecent && session !== except) return session;
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

/** NOTIFY watchers (but `except`) learn a folder's new counters. */
export function tellWatchers(state: MailboxState, folder: FolderRecord, change: 'new' | 'expunge' | 'flags', except: string | null): void {
  if (state.watchers === undefined || state.watchers.size === 0) return;
  const status = {
    messages: folder.messages, uidNext: folder.uidNext, uidValidity: folder.uidValidity, highestModseq: folder.highestModseq,
    unseen: folder.unseen, subscribed: folder.subscribed,
  };
  for (const [session, listener] of state.watchers) {
    if (session !== except) dispatch(listener, { type: 'folder-event', event: { kind: 'status', folder: folder.name, change, status } });
  }
}

export function publishAdded(
  state: MailboxState, folder: FolderRecord, records: MessageRecord[], recentTo: string | null, except: string | null,
): void {
  if (records.length > 0) tellWatchers(state, folder, 'new', except);
  const selection = state.selections.get(folder.id);
  if (!selection || records.length === 0) return;
  for (const record of records) indexRecord(selection, record);
  tell(state, folder.id, except, {
    kind: 'added', folder: folder.name, messages: records.map(toView),
    highestModseq: folder.highestModseq, uidNext: folder.uidNext, recentTo,
  });
}

export function publishFlags(state: MailboxState, folder: FolderRecord, records: MessageRecord[], except: string | null): void {
  if (records.length > 0) tellWatchers(state, folder, 'flags', except);
  const selection = state.selections.get(folder.id);
  if (!selection || records.length === 0) return;
  for (const record of records) indexRecord(selection, record);
  tell(state, folder.id, except, { kind: 'flags', folder: folder.name, messages: records.map(toView), highestModseq: folder.highestModseq });
}

export function publishExpunged(state: MailboxState, folder: FolderRecord, uids: number[], except: string | null): void {
  if (uids.length > 0) tellWatchers(state, folder, 'expunge', except);
  const selection = state.selections.get(folder.id);
  if (!selection || uids.length === 0) return;
  for (const uid of uids) {
    selection.messages.delete(uid);
    selection.deleted.delete(uid);
  }
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

/** A folder's index is kept after its last session left only up to this many messages. */
export const MAX_IDLE_INDEX = 10_000;

/**
 * Ends a session's selection, if any. When the folder's last session leaves, its index
 * stays (it is kept current by every change, as for a selected folder), so the next
 * SELECT, typically the same client logging in again, reads nothing from disk; one such
 * idle index per mailbox at most, of at most MAX_IDLE_INDEX messages, and it goes with
 * the actor when the mailbox is idle long enough to be stopped.
 */
export function leaveSelection(state: MailboxState, session: string): void {
  const folderId = state.selectedBy.get(session);
  if (folderId === undefined) return;
  state.selectedBy.delete(session);
  const selection = state.selections.get(folderId);
  if (!selection) return;
  selection.sessions.delete(session);
  if (selection.sessions.size > 0) return;
  if (selection.messages.size > MAX_IDLE_INDEX) {
    state.selections.delete(folderId);
    return;
  }
  for (const [id, other] of state.selections) if (id !== folderId && other.sessions.size === 0) state.selections.delete(id);
}
