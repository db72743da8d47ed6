// The mailbox actor: one per open mailbox, sole writer of its folders' UIDs, flags,
// modseqs and expunges. Its state is a cache of the account and folder records;
// after a crash it is reset and reloads them from disk.
import type { ActorContext, Ref } from 'nact';
import type { Database, WriteOp } from '../store/database.js';
import type { BlobStore } from '../store/blob-store.js';
import {
  INBOX, MailboxStore, messageHolder,
  type AccountRecord, type FolderRecord, type MessageRecord,
} from '../store/mailbox-store.js';
import type { Logger } from '../logger.js';
import { dispatch, failure } from './supervision.js';
import type { MailboxRequest } from './mailbox-messages.js';

export interface MailboxDeps {
  db: Database;
  blobs: BlobStore;
  mailboxes: MailboxStore;
  log: Logger;
  testFaults: boolean;
}

export interface MailboxState {
  account: AccountRecord;
  folders: Map<number, FolderRecord>;
  popSession: string | null;
}

type Ctx = ActorContext<MailboxRequest, Ref<unknown>>;

export function mailboxBehaviour(mailboxId: string, deps: MailboxDeps) {
  return async (state: MailboxState | undefined, msg: MailboxRequest, _ctx: Ctx): Promise<MailboxState> => {
    const loaded = state ?? (await loadState(mailboxId, deps));
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
    return { account: existing.account, folders: new Map(existing.folders.map((f) => [f.id, f])), popSession: null };
  }
  const created = deps.mailboxes.createAccountOps(mailboxId);
  await deps.db.commit(created.ops);
  return { account: created.account, folders: new Map(created.folders.map((f) => [f.id, f])), popSession: null };
}

export function folderByName(state: MailboxState, name: string): FolderRecord | undefined {
  for (const folder of state.folders.values()) if (folder.name === name) return folder;
  return undefined;
}

async function deliver(state: MailboxState, msg: Extract<MailboxRequest, { type: 'deliver' }>, deps: MailboxDeps) {
  const mailboxId = state.account.mailboxId;
  const earlier = await deps.mailboxes.findDelivery(mailboxId, msg.deliveryId);
  if (earlier) {
    dispatch(msg.replyTo, { ok: true, uid: earlier.uid, duplicate: true });
    return state;
  }
  if (msg.quota > 0 && state.account.bytes + msg.size > msg.quota) {
    dispatch(msg.replyTo, failure('mailbox over quota', true));
    return state;
  }
  const inbox = folderByName(state, INBOX);
  if (!inbox) throw new Error(`mailbox ${mailboxId} has no INBOX`);
  const message: MessageRecord = {
    uid: inbox.uidNext, blob: msg.blob, size: msg.size, flags: [], internalDate: msg.internalDate,
    modseq: inbox.highestModseq + 1, deliveryId: msg.deliveryId,
  };
  inbox.uidNext += 1;
  inbox.highestModseq = message.modseq;
  inbox.messages += 1;
  inbox.bytes += msg.size;
  state.account.messages += 1;
  state.account.bytes += msg.size;
  await deps.db.commit([
    deps.mailboxes.messageOp(mailboxId, inbox.id, message),
    deps.mailboxes.folderOp(mailboxId, inbox),
    deps.mailboxes.accountOp(state.account),
    deps.blobs.refOp(msg.blob, messageHolder(mailboxId, inbox.id, message.uid)),
    deps.mailboxes.deliveryOp(mailboxId, msg.deliveryId, inbox.id, message.uid),
  ]);
  deps.log.debug({ mailbox: mailboxId, uid: message.uid, delivery: msg.deliveryId }, 'stored');
  dispatch(msg.replyTo, { ok: true, uid: message.uid, duplicate: false });
  return state;
}

async function popOpen(state: MailboxState, msg: Extract<MailboxRequest, { type: 'pop-open' }>, deps: MailboxDeps) {
  if (state.popSession !== null && state.popSession !== msg.session) {
    dispatch(msg.replyTo, { ok: false, error: 'in-use', temporary: true });
    return state;
  }
  const inbox = folderByName(state, INBOX);
  if (!inbox) throw new Error(`mailbox ${state.account.mailboxId} has no INBOX`);
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
  const inbox = folderByName(state, INBOX);
  if (!inbox) throw new Error(`mailbox ${state.account.mailboxId} has no INBOX`);
  const released = await expungeUids(state, inbox, msg.uids, deps);
  state.popSession = null;
  dispatch(msg.replyTo, { ok: true });
  await collectBlobs(released, deps);
  return state;
}

/** Removes messages by uid in one synced batch; returns the blobs whose references went. */
export async function expungeUids(
  state: MailboxState, folder: FolderRecord, uids: number[], deps: MailboxDeps,
): Promise<string[]> {
  const mailboxId = state.account.mailboxId;
  const wanted = new Set(uids);
  const ops: WriteOp[] = [];
  const blobs: string[] = [];
  for (const record of await deps.mailboxes.listMessages(mailboxId, folder.id)) {
    if (!wanted.has(record.uid)) continue;
    ops.push(deps.mailboxes.deleteMessageOp(mailboxId, folder.id, record.uid));
    ops.push(deps.blobs.unrefOp(record.blob, messageHolder(mailboxId, folder.id, record.uid)));
    if (record.deliveryId) ops.push(deps.mailboxes.deleteDeliveryOp(mailboxId, record.deliveryId));
    blobs.push(record.blob);
    folder.messages -= 1;
    folder.bytes -= record.size;
    state.account.messages -= 1;
    state.account.bytes -= record.size;
  }
  if (ops.length === 0) return [];
  folder.highestModseq += 1;
  ops.push(deps.mailboxes.folderOp(mailboxId, folder), deps.mailboxes.accountOp(state.account));
  await deps.db.commit(ops);
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
