// A whole mailbox as plain data, for moving it to another store node: the account,
// folder and message records, tombstones and delivery markers. The bodies travel
// separately (see src/cluster/mailbox-move.ts).
import type { WriteOp } from './database.js';
import { del, put } from './database.js';
import { encodeRecord } from './codec.js';
import { messageHolder, type AccountRecord, type FolderRecord, type MailboxStore, type MessageRecord } from './mailbox-store.js';
import type { BlobStore } from './blob-store.js';
import { sortSnapshotDeleteOp } from './sort-key-snapshots.js';

export interface MailboxExport {
  account: AccountRecord;
  folders: FolderRecord[];
  messages: Array<{ folderId: number; record: MessageRecord }>;
  /** Tombstone keys with the mailbox id cut off (`FOLDER:MODSEQ:UID`). */
  tombstones: string[];
}

/** The holder that keeps a moving mailbox's bodies alive on the destination until the import commits. */
export function transferHolder(mailboxId: string): string {
  return `v:${mailboxId}`;
}

export async function exportMailbox(store: MailboxStore, account: AccountRecord, folders: FolderRecord[]): Promise<MailboxExport> {
  const mailboxId = account.mailboxId;
  const messages: MailboxExport['messages'] = [];
  for (const folder of folders) {
    for (const record of await store.listMessages(mailboxId, folder.id)) messages.push({ folderId: folder.id, record });
  }
  const tombstones: string[] = [];
  for await (const key of store.db.scanKeys('tomb', `${mailboxId}:`)) tombstones.push(key.slice(mailboxId.length + 1));
  return { account, folders, messages, tombstones };
}

/** Ops that create the mailbox on this node and swap the transfer references for the messages' own. */
export function importOps(store: MailboxStore, blobs: BlobStore, data: MailboxExport): WriteOp[] {
  const mailboxId = data.account.mailboxId;
  const ops: WriteOp[] = [store.accountOp(data.account)];
  for (const folder of data.folders) ops.push(store.folderOp(mailboxId, folder));
  const bodies = new Set<string>();
  for (const { folderId, record } of data.messages) {
    ops.push(store.messageOp(mailboxId, folderId, record));
    ops.push(blobs.refOp(record.blob, messageHolder(mailboxId, folderId, record.uid)));
    if (record.deliveryId) ops.push(store.deliveryOp(mailboxId, record.deliveryId, folderId, record.uid));
    bodies.add(record.blob);
  }
  for (const key of data.tombstones) ops.push(put('tomb', `${mailboxId}:${key}`, Buffer.alloc(0)));
  for (const sha of bodies) ops.push(blobs.unrefOp(sha, transferHolder(mailboxId)));
  return ops;
}

/** Ops that remove the mailbox from this node (after it moved); the caller collects the bodies. */
export function removalOps(store: MailboxStore, blobs: BlobStore, data: MailboxExport): WriteOp[] {
  const mailboxId = data.account.mailboxId;
  const ops: WriteOp[] = [del('acct', mailboxId)];
  for (const folder of data.folders) ops.push(store.deleteFolderOp(mailboxId, folder.id), sortSnapshotDeleteOp(mailboxId, folder.uidValidity));
  for (const { folderId, record } of data.messages) {
    ops.push(store.deleteMessageOp(mailboxId, folderId, record.uid));
    ops.push(blobs.unrefOp(record.blob, messageHolder(mailboxId, folderId, record.uid)));
    if (record.deliveryId) ops.push(store.deleteDeliveryOp(mailboxId, record.deliveryId));
  }
  for (const key of data.tombstones) ops.push(del('tomb', `${mailboxId}:${key}`));
  return ops;
}

export function encodeExportSize(data: MailboxExport): number {
  return encodeRecord(data).length;
}
