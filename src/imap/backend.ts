// The port IMAP speaks to below it, as `Pop3Backend` is POP3's: logins through the auth
// guard, and after login one `UserMailbox` per session, with a typed method for each
// operation a command needs (folders, selection, flags, expunge, copy, append, quota,
// bodies). The port is bound to the session when it is opened (its user, its id, the
// ref that receives folder events, the request timeout) rather than taking the user on
// every call: a command can reach only its own user's mailbox, cannot forget the session
// id that keeps its own changes out of its event stream, and never sees the mailbox
// actor's message protocol (replyTo refs, request types). The session and commands import
// only this interface and the plain reply types; the one implementation over the
// registry, blob store, directory and auth gate is mailbox-backend.ts, so a test, a proxy
// or another store can stand in for it.
import type { Ref } from 'nact';
import type { UserRecord } from '../directory/records.js';
import type {
  AppendManyReply, AppendReply, CopyReply, ExpungeReply, FolderEventMessage, MessageByUidReply, MetadataReply, FolderReply, FoldersReply, ImapDoneReply, SelectReply,
  StoreReply, UsageReply, VanishedReply,
} from '../mailbox/imap-messages.js';
import type { MessageReader } from './fetch-items.js';
import type { Failure } from '../core/supervision.js';

export type {
  MetadataReply, MessageByUidReply, AppendManyReply, AppendReply, CopyReply, ExpungeReply, FolderReply, FoldersReply, ImapDoneReply, SelectReply, StoreReply, UsageReply, VanishedReply,
};

/** A folder's ACL as the session user may see it: `acl` only with the `a` right. */
export type AclReply = { ok: true; owner: string; rights: string; acl: Record<string, string> } | Failure;

/** The outcome of a LOGIN or AUTHENTICATE: refused means the password was not even checked. */
export type ImapLoginResult =
  | { kind: 'ok'; user: UserRecord }
  | { kind: 'bad-credentials' }
  | { kind: 'refused'; reason: string }
  /** The password is right but the node holding the mailbox is down (a cluster of machines). */
  | { kind: 'unavailable' };

/**
 * Where the mailbox sends the FolderEvents of the folder a session selected: the session
 * actor's ref (its messages include `folder-event`), or in a cluster a proxy forwarding
 * them to the session's node.
 */
export type FolderListener = Ref<FolderEventMessage>;

/** What a session's mailbox port is bound to. */
export interface SessionBinding {
  user: UserRecord;
  /** The session's id: the mailbox sends it no events for its own changes. */
  session: string;
  listener: FolderListener;
  /** Timeout of one request to the mailbox. */
  timeoutMs: number;
}

/** One APPEND: the backend stores the body, then files it in the folder. */
export interface AppendRequest {
  /** The folder as the mailbox actor spells it (`folderName`). */
  name: string;
  message: Buffer;
  flags: string[];
  internalDate: number;
  /** With the folder selected: where the session's view ends, so the answer brings what it lacks. */
  viewUidNext?: number;
}

export interface StoreRequest {
  name: string;
  uids: number[];
  operation: 'replace' | 'add' | 'remove';
  flags: string[];
  /** CONDSTORE UNCHANGEDSINCE: messages changed after it are answered as `modified`. */
  unchangedSince?: number;
}

export interface CopyRequest {
  from: string;
  to: string;
  uids: number[];
  /** MOVE: the sources are expunged in the same step. */
  move: boolean;
  /** With the destination selected: where the session's view of it ends. */
  viewUidNext?: number;
}

/**
 * One session's view of its user's mailbox. Folder names are full hierarchy names with
 * `/` as separator and INBOX spelled `INBOX`; failures carry the IMAP response code they
 * map to (NONEXISTENT, ALREADYEXISTS, TRYCREATE, OVERQUOTA, CANNOT).
 */
export interface UserMailbox {
  folders(): Promise<FoldersReply>;
  folderStatus(name: string): Promise<FolderReply>;
  /** Missing parents are created too. */
  createFolder(name: string, specialUse: string | null): Promise<ImapDoneReply>;
  /** Releases the folder's messages; INBOX cannot be deleted. */
  deleteFolder(name: string): Promise<ImapDoneReply>;
  /** Children move along; renaming INBOX moves its messages and leaves it empty (RFC 3501 §6.3.5). */
  renameFolder(from: string, to: string): Promise<ImapDoneReply>;
  subscribe(name: string, subscribed: boolean): Promise<ImapDoneReply>;
  /**
   * Selects a folder: its state and messages in UID order; from then on the session's
   * listener receives its FolderEvents until `unselect` (or the next `select`). A
   * read-write select takes the folder's \Recent messages for this session.
   */
  /** `takesRecent` false: an IMAP4rev2 session, which leaves \Recent to the next rev1 SELECT. */
  select(name: string, readOnly: boolean, takesRecent?: boolean): Promise<SelectReply>;
  unselect(): Promise<ImapDoneReply>;
  /**
   * The client has been sent the EXPUNGE of these bodies' messages: the mailbox may
   * collect the bodies it kept for this session's FETCHes (RFC 2180 §4.1.1).
   */
  expungeSeen(blobs: string[]): Promise<ImapDoneReply>;
  /** Changes flags of the given UIDs (those no longer there are ignored). */
  store(request: StoreRequest): Promise<StoreReply>;
  /** Removes \Deleted messages (only those among `uids` when given: UID EXPUNGE). */
  expunge(name: string, uids?: number[]): Promise<ExpungeReply>;
  /** COPY/MOVE by reference, quota checked; TRYCREATE when `to` does not exist. */
  copy(request: CopyRequest): Promise<CopyReply>;
  /** UIDs expunged from the folder with a mod-sequence above `sinceModseq` (QRESYNC). */
  vanished(name: string, sinceModseq: number): Promise<VanishedReply>;
  /** Storage used by the whole mailbox (QUOTA). */
  usage(): Promise<UsageReply>;
  /** NOTIFY: from now on (or no longer) the session's listener gets every folder's changes. */
  watch(on: boolean): Promise<ImapDoneReply>;
  /** METADATA entries (RFC 5464) of a folder, or the server's (the account's) for the name "". */
  metadata(name: string): Promise<MetadataReply>;
  /** Sets or (null) removes entries in one synced write; LIMIT past `maxEntries`. Values are byte strings. */
  setMetadata(name: string, entries: Array<[string, string | null]>, maxEntries: number): Promise<ImapDoneReply>;
  /** A message of any folder by UID, for CATENATE's URLs: its folder's UIDVALIDITY and body hash. */
  messageByUid(name: string, uid: number): Promise<MessageByUidReply>;
  /** Stores the body, then files it (quota checked: OVERQUOTA; missing folder: TRYCREATE). */
  append(request: AppendRequest): Promise<AppendReply>;
  /** MULTIAPPEND: all the messages into one folder, or none (a mailbox on another node too). */
  appendMany(name: string, messages: Omit<AppendRequest, 'name' | 'viewUidNext'>[], viewUidNext?: number): Promise<AppendManyReply>;
  /** The user's quota in bytes as the directory has it now (an admin may have changed it since login). */
  quota(): number;
  /** IMAP ACL (RFC 4314): the folder's owner, the session user's rights on it and its entries. */
  acl(name: string): Promise<AclReply>;
  /** SETACL / DELETEACL (rights null): needs the `a` right; identifiers of the owner's domain only. */
  setAcl(name: string, identifier: string, rights: string | null): Promise<ImapDoneReply>;
  /** Bodies and MIME structures of this user's messages, from the node that holds the mailbox. */
  readonly reader: MessageReader;
  /** Called as each command starts: rights of shared folders are checked afresh (IMAP ACL). */
  newCommand?(): void;
}

export interface ImapBackend {
  /** Checks credentials through the auth guard (per-address and per-account limits), then the directory. */
  login(remoteAddress: string, username: string, password: string): Promise<ImapLoginResult>;
  /** Keeps the user's mailbox loaded while a session uses it; `release` once per `retain`. */
  retain(user: UserRecord): void;
  release(user: UserRecord): void;
  /** The session's port to its user's mailbox, wherever the mailbox lives. */
  mailboxFor(binding: SessionBinding): UserMailbox;
}
