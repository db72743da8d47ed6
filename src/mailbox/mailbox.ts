// The mailbox actor: one per open mailbox, sole writer of its folders' UIDs, flags,
// modseqs and expunges. Its state is a cache of the account and folder records plus,
// per selected folder, a message index and the selecting sessions' listeners; after
// a crash it is reset and reloads the records from disk (selections are lost).
import type { ActorContext, Ref } from 'nact';
import type { WriteOp } from '../store/database.js';
import {
  INBOX, needsUpgrade, upgradeFolder, type AccountRecord, type FolderRecord, type MessageRecord,
} from '../store/mailbox-store.js';
import { dispatch, failure } from '../core/supervision.js';
import { isStorageError } from '../store/storage-error.js';
import type { MailboxRequest } from './messages.js';
import { handleImapRequest, isImapRequest } from './imap-requests.js';
import { exceedsQuota } from './quota.js';
import { exportMailbox, removalOps } from '../store/mailbox-transfer.js';
import { deliveryFolder } from './delivery-folder.js';
import { tellPlugins } from './mailbox-events.js';
import { popListing } from './pop-listing.js';
import {
  addMessageOps, collectAside, collectBlobs, collectExpunged, expungeRecords, finishAdding, folderByName, publishAdded, takeRecent,
  type MailboxDeps, type MailboxState,
} from './state.js';

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
 * A write the disk refused: the request is answered "insufficient storage" (temporary:
 * IMAP NO [OVERQUOTA] for a full disk as Dovecot answers, [UNAVAILABLE] for other
 * refused writes; a deferred delivery) before the crash policy resets the actor,
 * whose state reloads from disk, where the refused change never was.
 */
function answerStorageError(err: unknown, msg: MailboxRequest): void {
  if (!isStorageError(err)) return;
  const replyTo = (msg as { replyTo?: Ref<unknown> }).replyTo;
  if (replyTo) dispatch(replyTo, failure(`insufficient system storage (${err.code})`, true, err.code === 'ENOSPC' ? 'OVERQUOTA' : undefined));
}

function handleRequest(mailboxId: string, deps: MailboxDeps) {
  return async (state: MailboxState | undefined, msg: MailboxRequest, ctx: Ctx): Promise<MailboxState> => {
    const loaded = state ?? (await loadState(mailboxId, deps, msg.type === 'deliver'));
    if (loaded.unsaved && msg.type !== 'deliver') await saveNewAccount(loaded, deps);
    if (loaded.movedTo !== null || loaded.parked) {
      // A body this node's session prepared cannot follow the mailbox: the client sends it again.
      if (msg.type === 'append' && msg.blobOps) {
        dispatch(msg.replyTo, failure('the mailbox is moving to another node; try again', true));
        return loaded;
      }
      msg = withoutSharedCommit(msg);
    }
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

/**
 * The mailbox's state from disk, or a new mailbox's. A new mailbox opened by a delivery
 * keeps its records unsaved, to be committed in the delivery's own synced batch (a
 * fan-out to new users would otherwise cost each of them an extra synced commit first).
 */
async function loadState(mailboxId: string, deps: MailboxDeps, forDelivery: boolean): Promise<MailboxState> {
  const existing = await deps.mailboxes.loadAccount(mailboxId);
  if (existing) {
    const folders = await upgradeFolders(mailboxId, existing.folders, deps);
    return newState(existing.account, folders);
  }
  const created = deps.mailboxes.createAccountOps(mailboxId);
  const state = newState(created.account, created.folders);
  if (forDelivery) state.unsaved = created.ops;
  else await deps.db.commit(created.ops);
  return state;
}

/** Puts a new mailbox's records on disk (its first request was a delivery that stored nothing). */
async function saveNewAccount(state: MailboxState, deps: MailboxDeps): Promise<void> {
  await deps.db.commit(state.unsaved!);
  state.unsaved = undefined;
}

function newState(account: AccountRecord, folders: FolderRecord[]): MailboxState {
  return {
    account, folders: new Map(folders.map((f) => [f.id, f])), popSession: null,
    selections: new Map(), selectedBy: new Map(), heldBodies: new Map(), parked: null, movedTo: null,
  };
}

/** A delivery that will not be stored by this actor now (forwarded or parked) leaves its shared commit. */
function withoutSharedCommit(msg: MailboxRequest): MailboxRequest {
  if (msg.type !== 'deliver' || !msg.shared) return msg;
  msg.shared.skip();
  const { shared: _left, ...rest } = msg;
  return rest;
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

function inboxOf(state: MailboxState): FolderRecord {
  const inbox = folderByName(state, INBOX);
  if (!inbox) throw new Error(`mailbox ${state.account.mailboxId} has no INBOX`);
  return inbox;
}

async function deliver(state: MailboxState, msg: Extract<MailboxRequest, { type: 'deliver' }>, deps: MailboxDeps) {
  const mailboxId = state.account.mailboxId;
  // A first copy's marker can only exist if a repeatable copy was handled here meanwhile (repeated-deliveries.ts).
  const firstCopy = msg.firstCopy === true && deps.repeats !== undefined;
  if (msg.mayRepeat && !firstCopy) deps.repeats?.note(msg.deliveryId);
  const check = msg.mayRepeat && (!firstCopy || deps.repeats!.mayExist(msg.deliveryId));
  const earlier = check ? await deps.mailboxes.findDelivery(mailboxId, msg.deliveryId) : undefined;
  if (earlier) {
    msg.shared?.skip();
    dispatch(msg.replyTo, { ok: true, uid: earlier.uid, duplicate: true });
    return state;
  }
  if (exceedsQuota(state.account.bytes, msg.size, msg.quota)) {
    msg.shared?.skip();
    dispatch(msg.replyTo, failure('mailbox over quota', true));
    return state;
  }
  const inbox = msg.folder === undefined ? inboxOf(state) : deliveryFolder(state, msg.folder);
  const recentTo = takeRecent(state, inbox, null);
  const message: MessageRecord = {
    uid: inbox.uidNext, blob: msg.blob, size: msg.size, flags: msg.flags ?? [], internalDate: msg.internalDate,
    modseq: inbox.highestModseq + 1, deliveryId: msg.deliveryId,
  };
  // A new mailbox's records go first: the account record put below replaces its first one.
  const ops: WriteOp[] = [...(state.unsaved ?? []), ...(msg.blobOps ?? [])];
  addMessageOps(state, inbox, message, deps, ops);
  finishAdding(inbox, message.modseq, recentTo);
  // The folder's record is not rewritten for a plain delivery: loading the mailbox counts
  // messages above its uidNext in (src/store/mailbox-store.ts). It is written when it
  // changes otherwise: a folder created for this delivery, \Recent given to a session.
  if (msg.folder !== undefined || recentTo !== null) ops.push(deps.mailboxes.folderOp(mailboxId, inbox));
  ops.push(deps.mailboxes.accountOp(state.account));
  await (msg.shared ? msg.shared.commit(ops) : deps.db.commit(ops));
  state.unsaved = undefined;
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
  const messages = await popListing(state, inbox, deps.mailboxes);
  state.popSession = msg.session;
  dispatch(msg.replyTo, { ok: true, uidValidity: inbox.uidValidity, messages });
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
  if (deps.hooks?.on.mailboxEvent) tellPlugins(deps, state, { kind: 'expunge', folder: INBOX, uids: records.map((r) => r.uid) });
  state.popSession = null;
  dispatch(msg.replyTo, { ok: true });
  collectAside(collectExpunged(state, inbox, released, null, deps), deps);
  return state;
}
