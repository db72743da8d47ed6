// Mailbox data on disk: per mailbox (a user's whole message store) an account record,
// folder records (UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, counts), one record per message
// (uid → blob, flags, internal date, size, modseq) and expunge tombstones for QRESYNC.
// Also the rules for folder names and stored flags. Only a mailbox actor writes here.
// A delivery writes its message record and the (small) account record, not its folder's
// record (that rewrite was a third of a delivery's bytes on disk): a folder record's
// counters cover the messages below its uidNext, and loading a mailbox folds in the
// messages at or above it (delivered since). Every other change writes the folder.
// The account record stays exact, so stats read it alone, one record per mailbox.
import { randomInt } from 'node:crypto';
import { Database, del, put, type WriteOp } from './database.js';
import { decodeRecord, encodeRecord } from './codec.js';

export interface AccountRecord {
  mailboxId: string;
  nextFolderId: number;
  messages: number;
  bytes: number;
  /** IMAP subscriptions of names with no folder (deleted since, or not created yet): they are by name (RFC 3501 §6.3.6). */
  subscribedNames?: string[];
  /** IMAP METADATA server entries (RFC 5464): entry name → value as a byte string. */
  metadata?: Record<string, string>;
}

export interface FolderRecord {
  id: number;
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  bytes: number;
  /** Messages without \Seen. */
  unseen: number;
  /** Messages with \Deleted. */
  deleted: number;
  /** Messages with this UID or above are \Recent for the next read-write SELECT. */
  firstRecentUid: number;
  subscribed: boolean;
  specialUse: string | null;
  /** IMAP METADATA entries of the folder (RFC 5464): entry name → value as a byte string. */
  metadata?: Record<string, string>;
  /** IMAP ACL (RFC 4314, src/mailbox/acl.ts): identifier → rights, for users of the owner's domain. */
  acl?: Record<string, string>;
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
  /** When it was filed in this folder (IMAP SAVEDATE), when that differs from internalDate (APPEND with a date, COPY, MOVE). */
  savedAt?: number;
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

/** Tombstones sort by modseq inside a folder, so "expunged since N" is one range scan. */
export function tombstoneKey(mailboxId: string, folderId: number, modseq: number, uid: number): string {
  return `${mailboxId}:${pad(folderId, 6)}:${pad(modseq, 16)}:${pad(uid, 10)}`;
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
    for await (const [, value] of this.db.scan('folder', `${mailboxId}:`)) folders.push(decodeFolder(value));
    for (const folder of folders) await this.foldDeliveredSince(mailboxId, folder);
    return { account: decodeAccount(mailboxId, raw), folders };
  }

  /** Counts into the folder the messages delivered since its record was written (UID at or above its uidNext). */
  private async foldDeliveredSince(mailboxId: string, folder: FolderRecord): Promise<void> {
    const end = `${folderKey(mailboxId, folder.id)}:\xff`;
    for await (const [, value] of this.db.scanRange('msg', messageKey(mailboxId, folder.id, folder.uidNext), end)) {
      const message = decodeMessage(value);
      folder.uidNext = Math.max(folder.uidNext, message.uid + 1);
      folder.highestModseq = Math.max(folder.highestModseq, message.modseq);
      folder.messages += 1;
      folder.bytes += message.size;
      // Records from before these counters existed get them recounted by the mailbox actor.
      if (typeof folder.unseen === 'number' && !message.flags.includes('\\Seen')) folder.unseen += 1;
      if (typeof folder.deleted === 'number' && message.flags.includes('\\Deleted')) folder.deleted += 1;
    }
  }

  /** Ops creating a new mailbox with the default folders. */
  createAccountOps(mailboxId: string): { account: AccountRecord; folders: FolderRecord[]; ops: WriteOp[] } {
    const folders = defaultFolders.map((f, i) => newFolder(i + 1, f.name, f.specialUse));
    const account: AccountRecord = { mailboxId, nextFolderId: folders.length + 1, messages: 0, bytes: 0 };
    const ops = [this.accountOp(account), ...folders.map((f) => this.folderOp(mailboxId, f))];
    return { account, folders, ops };
  }

  accountOp(account: AccountRecord): WriteOp {
    return put('acct', account.mailboxId, encodeAccount(account));
  }

  folderOp(mailboxId: string, folder: FolderRecord): WriteOp {
    return put('folder', folderKey(mailboxId, folder.id), encodeFolder(folder));
  }

  deleteFolderOp(mailboxId: string, folderId: number): WriteOp {
    return del('folder', folderKey(mailboxId, folderId));
  }

  messageOp(mailboxId: string, folderId: number, message: MessageRecord): WriteOp {
    return put('msg', messageKey(mailboxId, folderId, message.uid), encodeMessage(message));
  }

  deleteMessageOp(mailboxId: string, folderId: number, uid: number): WriteOp {
    return del('msg', messageKey(mailboxId, folderId, uid));
  }

  deliveryOp(mailboxId: string, deliveryId: string, folderId: number, uid: number): WriteOp {
    return put('dlv', `${mailboxId}:${deliveryId}`, Buffer.from(`${folderId}:${uid}`, 'latin1'));
  }

  deleteDeliveryOp(mailboxId: string, deliveryId: string): WriteOp {
    return del('dlv', `${mailboxId}:${deliveryId}`);
  }

  async findDelivery(mailboxId: string, deliveryId: string): Promise<{ folderId: number; uid: number } | undefined> {
    const raw = await this.db.get('dlv', `${mailboxId}:${deliveryId}`);
    if (!raw) return undefined;
    const [folderId, uid] = raw.toString('latin1').split(':').map(Number);
    return { folderId, uid };
  }

  async getMessage(mailboxId: string, folderId: number, uid: number): Promise<MessageRecord | undefined> {
    const raw = await this.db.get('msg', messageKey(mailboxId, folderId, uid));
    return raw ? decodeMessage(raw) : undefined;
  }

  /** How many messages of the folder have a UID of at least `fromUid`. */
  async countMessagesFrom(mailboxId: string, folderId: number, fromUid: number): Promise<number> {
    let count = 0;
    const end = `${folderKey(mailboxId, folderId)}:\xff`;
    for await (const _ of this.db.scanKeysRange('msg', messageKey(mailboxId, folderId, fromUid), end)) count += 1;
    return count;
  }

  tombstoneOp(mailboxId: string, folderId: number, modseq: number, uid: number): WriteOp {
    return put('tomb', tombstoneKey(mailboxId, folderId, modseq, uid), Buffer.alloc(0));
  }

  /** UIDs expunged from the folder with a modseq above `sinceModseq`, ascending, without repeats. */
  async vanishedSince(mailboxId: string, folderId: number, sinceModseq: number): Promise<number[]> {
    const from = tombstoneKey(mailboxId, folderId, Math.max(0, sinceModseq) + 1, 0);
    const end = `${folderKey(mailboxId, folderId)}:\xff`;
    const uids = new Set<number>();
    for await (const key of this.db.scanKeysRange('tomb', from, end)) uids.add(Number(key.slice(key.lastIndexOf(':') + 1)));
    return [...uids].sort((a, b) => a - b);
  }

  /** Ops deleting every message record and tombstone of a folder (not the blob references). */
  async folderContentDeleteOps(mailboxId: string, folderId: number): Promise<WriteOp[]> {
    const prefix = `${folderKey(mailboxId, folderId)}:`;
    const ops: WriteOp[] = [];
    for await (const key of this.db.scanKeys('msg', prefix)) ops.push(del('msg', key));
    for await (const key of this.db.scanKeys('tomb', prefix)) ops.push(del('tomb', key));
    return ops;
  }

  async listMessages(mailboxId: string, folderId: number): Promise<MessageRecord[]> {
    const out: MessageRecord[] = [];
    for await (const [, value] of this.db.scan('msg', `${folderKey(mailboxId, folderId)}:`)) out.push(decodeMessage(value));
    return out;
  }

  /** Every account record (for stats). */
  async *accounts(): AsyncGenerator<AccountRecord> {
    for await (const [mailboxId, value] of this.db.scan('acct', '')) yield decodeAccount(mailboxId, value);
  }
}

// An account record is stored as an array, [nextFolderId, messages, bytes,
// subscribedNames?, metadata?], under its mailbox id (the key, not repeated in the value):
// it is rewritten by every delivery (65 → ~10 bytes). Records written as maps (before)
// still decode.
export function encodeAccount(account: AccountRecord): Buffer {
  const fields: unknown[] = [account.nextFolderId, account.messages, account.bytes];
  if (account.subscribedNames !== undefined || account.metadata !== undefined) fields.push(account.subscribedNames ?? null);
  if (account.metadata !== undefined) fields.push(account.metadata);
  return encodeRecord(fields);
}

/** The account record stored under `mailboxId`. */
export function decodeAccount(mailboxId: string, raw: Uint8Array): AccountRecord {
  const value = decodeRecord<unknown>(raw);
  if (!Array.isArray(value)) return value as AccountRecord;
  const [nextFolderId, messages, bytes, subscribedNames, metadata] = value as [
    number, number, number, string[] | null | undefined, Record<string, string> | undefined,
  ];
  const account: AccountRecord = { mailboxId, nextFolderId, messages, bytes };
  if (Array.isArray(subscribedNames)) account.subscribedNames = subscribedNames;
  if (metadata !== undefined) account.metadata = metadata;
  return account;
}

// A folder record is stored as an array, [id, name, uidValidity, uidNext, highestModseq,
// messages, bytes, unseen, deleted, firstRecentUid, subscribed, specialUse, metadata?, acl?]:
// a new mailbox writes six of them (138 → ~45 bytes each). Maps (before) still decode.
export function encodeFolder(folder: FolderRecord): Buffer {
  const fields: unknown[] = [
    folder.id, folder.name, folder.uidValidity, folder.uidNext, folder.highestModseq, folder.messages, folder.bytes,
    folder.unseen ?? null, folder.deleted ?? null, folder.firstRecentUid ?? null, folder.subscribed, folder.specialUse,
  ];
  if (folder.metadata !== undefined || folder.acl !== undefined) fields.push(folder.metadata ?? null);
  if (folder.acl !== undefined) fields.push(folder.acl);
  return encodeRecord(fields);
}

export function decodeFolder(raw: Uint8Array): FolderRecord {
  const value = decodeRecord<unknown>(raw);
  if (!Array.isArray(value)) return value as FolderRecord;
  const [id, name, uidValidity, uidNext, highestModseq, messages, bytes, unseen, deleted, firstRecentUid, subscribed, specialUse, metadata, acl] = value as [
    number, string, number, number, number, number, number, number | null, number | null, number | null, boolean, string | null,
    Record<string, string> | null | undefined, Record<string, string> | undefined,
  ];
  const folder = { id, name, uidValidity, uidNext, highestModseq, messages, bytes, subscribed, specialUse } as FolderRecord;
  // Left out, not undefined, when missing: needsUpgrade() recounts them.
  if (unseen !== null) folder.unseen = unseen;
  if (deleted !== null) folder.deleted = deleted;
  if (firstRecentUid !== null) folder.firstRecentUid = firstRecentUid;
  if (metadata !== undefined && metadata !== null) folder.metadata = metadata;
  if (acl !== undefined) folder.acl = acl;
  return folder;
}

// A message record is stored as an array, not a map: [uid, blob, size, flags,
// internalDate, modseq, deliveryId?, savedAt?], the blob's SHA-256 as 32 bytes rather
// than 64 hex digits. That is 157 → ~95 bytes per message, written once per delivery
// and per flag change. Records written as maps (before) still decode.
const HEX_SHA256 = /^[0-9a-f]{64}$/;

export function encodeMessage(message: MessageRecord): Buffer {
  const fields: unknown[] = [
    message.uid, HEX_SHA256.test(message.blob) ? Buffer.from(message.blob, 'hex') : message.blob,
    message.size, message.flags, message.internalDate, message.modseq,
  ];
  if (message.deliveryId !== undefined || message.savedAt !== undefined) fields.push(message.deliveryId ?? null);
  if (message.savedAt !== undefined) fields.push(message.savedAt);
  return encodeRecord(fields);
}

export function decodeMessage(raw: Uint8Array): MessageRecord {
  const value = decodeRecord<unknown>(raw);
  if (!Array.isArray(value)) return value as MessageRecord;
  const [uid, blob, size, flags, internalDate, modseq, deliveryId, savedAt] = value as [
    number, Uint8Array | string, number, string[], number, number, string | null | undefined, number | undefined,
  ];
  const message: MessageRecord = {
    uid, blob: typeof blob === 'string' ? blob : Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength).toString('hex'),
    size, flags, internalDate, modseq,
  };
  if (typeof deliveryId === 'string') message.deliveryId = deliveryId;
  if (savedAt !== undefined) message.savedAt = savedAt;
  return message;
}

export function newFolder(id: number, name: string, specialUse: string | null): FolderRecord {
  return {
    id, name, uidValidity: newUidValidity(), uidNext: 1, highestModseq: 1,
    messages: 0, bytes: 0, unseen: 0, deleted: 0, firstRecentUid: 1, subscribed: true, specialUse,
  };
}

/** Fills counters that folder records written before they existed lack. */
export function upgradeFolder(folder: FolderRecord, messages: MessageRecord[]): FolderRecord {
  return {
    ...folder,
    unseen: messages.filter((m) => !m.flags.includes('\\Seen')).length,
    deleted: messages.filter((m) => m.flags.includes('\\Deleted')).length,
    firstRecentUid: folder.firstRecentUid ?? folder.uidNext,
  };
}

export function needsUpgrade(folder: FolderRecord): boolean {
  return folder.unseen === undefined || folder.deleted === undefined || folder.firstRecentUid === undefined;
}

// ---- folder names ----

export const HIERARCHY_SEPARATOR = '/';
export const MAX_NAME_COMPONENT_BYTES = 255;
export const MAX_FOLDERS = 10_000;
export const SPECIAL_USES: readonly string[] = ['\\All', '\\Archive', '\\Drafts', '\\Flagged', '\\Junk', '\\Sent', '\\Trash'];

/** INBOX is case-insensitive (RFC 3501 5.1), also as the first component of a child's name. */
export function canonicalFolderName(name: string): string {
  const cut = name.indexOf(HIERARCHY_SEPARATOR);
  const first = cut < 0 ? name : name.slice(0, cut);
  if (first.toUpperCase() !== INBOX) return name;
  return cut < 0 ? INBOX : INBOX + name.slice(cut);
}

/** Why a name cannot be a folder name, or null when it can. */
export function folderNameProblem(name: string): string | null {
  if (name.length === 0) return 'empty folder name';
  if (/[*%]/.test(name)) return 'folder names cannot contain * or %';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'folder names cannot contain control characters';
  for (const part of name.split(HIERARCHY_SEPARATOR)) {
    if (part.length === 0) return 'empty hierarchy level in folder name';
    if (Buffer.byteLength(part) > MAX_NAME_COMPONENT_BYTES) return `hierarchy level longer than ${MAX_NAME_COMPONENT_BYTES} bytes`;
  }
  return null;
}

/** The names of a folder's ancestors, outermost first: `a/b/c` → `a`, `a/b`. */
export function ancestorNames(name: string): string[] {
  const parts = name.split(HIERARCHY_SEPARATOR);
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join(HIERARCHY_SEPARATOR));
  return out;
}

export function isDescendant(name: string, ancestor: string): boolean {
  return name.startsWith(ancestor + HIERARCHY_SEPARATOR);
}

// ---- flags ----

const systemFlags = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'];
const systemFlagByLower = new Map(systemFlags.map((f) => [f.toLowerCase(), f]));

/**
 * Flags as stored: system flags in their canonical case, keywords as given, no
 * repeats (compared case-insensitively), never \Recent (a session-only flag).
 */
export function storedFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const flag of flags) {
    const lower = flag.toLowerCase();
    if (lower === '\\recent' || seen.has(lower)) continue;
    seen.add(lower);
    out.push(systemFlagByLower.get(lower) ?? flag);
  }
  return out;
}

/** The flags after a STORE operation; `given` must already be `storedFlags`. */
export function applyFlagOperation(current: readonly string[], operation: 'replace' | 'add' | 'remove', given: readonly string[]): string[] {
  if (operation === 'replace') return [...given];
  const givenLower = new Set(given.map((f) => f.toLowerCase()));
  if (operation === 'remove') return current.filter((f) => !givenLower.has(f.toLowerCase()));
  const currentLower = new Set(current.map((f) => f.toLowerCase()));
  return [...current, ...given.filter((f) => !currentLower.has(f.toLowerCase()))];
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const lower = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => lower.has(f.toLowerCase()));
}
