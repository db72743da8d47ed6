// Mailbox data on disk: per mailbox (a user's whole message store) an account record,
// folder records (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, counts) and one record per
// message (uid → blob, flags, internal date, size, modseq). Only a mailbox actor writes here.
import { randomInt } from 'node:crypto';
import { Database, del, put, type WriteOp } from './database.js';
import { decodeRecord, encodeRecord } from './codec.js';

export interface AccountRecord {
  mailboxId: string;
  nextFolderId: number;
  messages: number;
  bytes: number;
}

export interface FolderRecord {
  id: number;
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  bytes: number;
  subscribed: boolean;
  specialUse: string | null;
}

export interface MessageRecord {
  uid: number;
  blob: string;
  size: number;
  flags: string[];
  internalDate: number;
  modseq: number;
  /** Queue delivery that created it (queue id + recipient), for exactly-once delivery. */
  deliveryId?: string;
}

export const INBOX = 'INBOX';

/** Folders every new mailbox gets, with their RFC 6154 special-use attribute. */
export const defaultFolders: ReadonlyArray<{ name: string; specialUse: string | null }> = [
  { name: INBOX, specialUse: null },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

const pad = (n: number, width: number) => n.toString().padStart(width, '0');

export function folderKey(mailboxId: string, folderId: number): string {
  return `${mailboxId}:${pad(folderId, 6)}`;
}

export function messageKey(mailboxId: string, folderId: number, uid: number): string {
  return `${mailboxId}:${pad(folderId, 6)}:${pad(uid, 10)}`;
}

/** The holder name a message uses for its blob reference. */
export function messageHolder(mailboxId: string, folderId: number, uid: number): string {
  return `m:${mailboxId}:${folderId}:${uid}`;
}

export function newUidValidity(): number {
  // Seconds since epoch keep UIDVALIDITY increasing across re-creations; the random
  // low bits keep two folders created in the same second apart.
  return ((Math.floor(Date.now() / 1000) & 0x3fffffff) + randomInt(0, 1024)) >>> 0 || 1;
}

export class MailboxStore {
  constructor(readonly db: Database) {}

  async loadAccount(mailboxId: string): Promise<{ account: AccountRecord; folders: FolderRecord[] } | null> {
    const raw = await this.db.get('acct', mailboxId);
    if (!raw) return null;
    const folders: FolderRecord[] = [];
    for await (const [, value] of this.db.scan('folder', `${mailboxId}:`)) folders.push(decodeRecord<FolderRecord>(value));
    return { account: decodeRecord<AccountRecord>(raw), folders };
  }

  /** Ops creating a new mailbox with the default folders. */
  createAccountOps(mailboxId: string): { account: AccountRecord; folders: FolderRecord[]; ops: WriteOp[] } {
    const folders = defaultFolders.map((f, i) => newFolder(i + 1, f.name, f.specialUse));
    const account: AccountRecord = { mailboxId, nextFolderId: folders.length + 1, messages: 0, bytes: 0 };
    const ops = [this.accountOp(account), ...folders.map((f) => this.folderOp(mailboxId, f))];
    return { account, folders, ops };
  }

  accountOp(account: AccountRecord): WriteOp {
    return put('acct', account.mailboxId, encodeRecord(account));
  }

  folderOp(mailboxId: string, folder: FolderRecord): WriteOp {
    return put('folder', folderKey(mailboxId, folder.id), encodeRecord(folder));
  }

  deleteFolderOp(mailboxId: string, folderId: number): WriteOp {
    return del('folder', folderKey(mailboxId, folderId));
  }

  messageOp(mailboxId: string, folderId: number, message: MessageRecord): WriteOp {
    return put('msg', messageKey(mailboxId, folderId, message.uid), encodeRecord(message));
  }

  deleteMessageOp(mailboxId: string, folderId: number, uid: number): WriteOp {
    return del('msg', messageKey(mailboxId, folderId, uid));
  }

  deliveryOp(mailboxId: string, deliveryId: string, folderId: number, uid: number): WriteOp {
    return put('dlv', `${mailboxId}:${deliveryId}`, encodeRecord({ folderId, uid }));
  }

  deleteDeliveryOp(mailboxId: string, deliveryId: string): WriteOp {
    return del('dlv', `${mailboxId}:${deliveryId}`);
  }

  async findDelivery(mailboxId: string, deliveryId: string): Promise<{ folderId: number; uid: number } | undefined> {
    const raw = await this.db.get('dlv', `${mailboxId}:${deliveryId}`);
    return raw ? decodeRecord(raw) : undefined;
  }

  async listMessages(mailboxId: string, folderId: number): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    for await (const [, value] of this.db.scan('msg', `${folderKey(mailboxId, folderId)}:`)) out.push(decodeRecord(value));
    return out;
  }

  /** Every account record (for stats). */
  async *accounts(): AsyncGenerator<AccountRecord> {
    for await (const [, value] of this.db.scan('acct', '')) yield decodeRecord<AccountRecord>(value);
  }
}

export function newFolder(id: number, name: string, specialUse: string | null): FolderRecord {
  return {
    id, name, uidValidity: newUidValidity(), uidNext: 1, highestModseq: 1,
    messages: 0, bytes: 0, subscribed: true, specialUse,
  };
}
