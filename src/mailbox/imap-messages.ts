// The IMAP side of the mailbox actor's protocol: folder management, selection with
// change notifications, and the message operations IMAP needs. Plain data, so the
// same messages can later cross process boundaries (refs instead of callbacks).
import type { Ref } from 'nact';
import type { Failure } from '../core/supervision.js';
import type { FlagRights } from './acl.js';
import type { WriteOp } from '../store/database.js';

/** One message as a selected folder sees it. */
export interface MessageView {
  uid: number;
  flags: string[];
  /** CONDSTORE mod-sequence (a JS number: safe up to 2^53). */
  modseq: number;
  size: number;
  /** Milliseconds since the epoch. */
  internalDate: number;
  /** SHA-256 of the body in the blob store. */
  blob: string;
  /** When it was filed in this folder (SAVEDATE, RFC 8514), milliseconds since the epoch. */
  savedAt: number;
}

export interface FolderInfo {
  /** The folder's record id in the account: never reused, kept by RENAME. */
  id: number;
  name: string;
  specialUse: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  unseen: number;
  /** Messages that would be \Recent for the next read-write SELECT. */
  recent: number;
  deleted: number;
  bytes: number;
  /** The folder's ACL entries (src/mailbox/acl.ts), when it has any. */
  acl?: Record<string, string>;
  /** Set by IMAP ACL for a shared folder the user may list but not read: LIST-STATUS leaves it out. */
  statusHidden?: boolean;
}

/** Changes pushed to every session that has the folder selected, except the session that made them. */
export type FolderEvent =
  | { kind: 'added'; folder: string; messages: MessageView[]; highestModseq: number; uidNext: number; recentTo: string | null }
  | { kind: 'flags'; folder: string; messages: MessageView[]; highestModseq: number }
  | { kind: 'expunged'; folder: string; uids: number[]; highestModseq: number }
  /** The folder was deleted or renamed away: the session must drop its selection (RFC 3501 leaves the reaction open; we send BYE-free NO on next use). */
  | { kind: 'gone'; folder: string }
  /** To watching sessions (NOTIFY): a folder's messages changed; its counters now. */
  | { kind: 'status'; folder: string; change: 'new' | 'expunge' | 'flags'; status: FolderCounters }
  /** To watching sessions (NOTIFY): a folder was created, deleted, renamed (from `from`) or (un)subscribed. */
  | { kind: 'mailbox'; folder: string; change: 'created' | 'deleted' | 'renamed' | 'subscription'; from?: string; subscribed: boolean };

/** What NOTIFY's STATUS answers report of a folder. */
export interface FolderCounters {
  messages: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  unseen: number;
  subscribed: boolean;
}

export interface FolderEventMessage {
  type: 'folder-event';
  event: FolderEvent;
}

/** `subscriptions`: subscribed names with no folder (LSUB, LIST (SUBSCRIBED) shows them \NonExistent). */
export type FoldersReply = { ok: true; folders: FolderInfo[]; subscriptions: string[] } | Failure;
export type FolderReply = { ok: true; folder: FolderInfo } | Failure;
export type SelectReply = {
  ok: true; folder: FolderInfo; messages: MessageView[]; recentUids: number[];
  /** Set by IMAP ACL for a shared folder the user may read but not change (never by the mailbox actor). */
  readOnly?: boolean;
  /** Set by IMAP ACL when the user may change only some flags there. */
  flagRights?: FlagRights;
} | Failure;
export type AppendReply = {
  ok: true;
  uidValidity: number;
  uid: number;
  /**
   * What the appending session's view lacks, in UID order: the new message, and with
   * `viewUidNext` every message of the folder from that UID on (added concurrently, their
   * events still on the way). That session gets no `added` event for its own APPEND: it
   * shows these before its tagged OK when it has the folder selected (RFC 3501 §6.3.11).
   */
  messages: MessageView[];
  /** The new message is \Recent for the appending session. */
  recent: boolean;
} | Failure;
/** MULTIAPPEND's answer: the new UIDs in order, and what the session's view lacks (as AppendReply). */
export type AppendManyReply = {
  ok: true;
  uidValidity: number;
  uids: number[];
  messages: MessageView[];
  /** The new messages \Recent for the appending session. */
  recentUids: number[];
} | Failure;

/** One message of a MULTIAPPEND, already in the blob store under the temporary reference `uploadHolder`. */
export interface AppendItem {
  blob: string;
  size: number;
  flags: string[];
  internalDate: number;
  uploadHolder: string;
}

export type StoreReply = {
  ok: true;
  /** Messages whose flags changed (new flags and modseq). */
  updated: MessageView[];
  /** UIDs that failed the UNCHANGEDSINCE test (RFC 7162 MODIFIED). */
  modified: number[];
  highestModseq: number;
} | Failure;
export type ExpungeReply = { ok: true; expunged: number[]; highestModseq: number } | Failure;
export type CopyReply = {
  ok: true;
  uidValidity: number;
  sourceUids: number[];
  destUids: number[];
  /**
   * The new messages in the destination, in `destUids` order, and with `viewUidNext` every
   * message of it from that UID on. The requesting session gets no `added` event for its
   * own COPY/MOVE: this is how it learns them when it has the destination selected.
   */
  messages?: MessageView[];
} | Failure;
export type VanishedReply = { ok: true; uids: number[] } | Failure;
/** METADATA entries (RFC 5464) of a folder or, for the name "", of the account: name → byte string. */
export type MetadataReply = { ok: true; entries: Record<string, string> } | Failure;
/** One message of a folder by UID (CATENATE's URLs): the folder's UIDVALIDITY and the body's hash. */
export type MessageByUidReply = { ok: true; uidValidity: number; blob: string; flags?: string[]; internalDate?: number } | Failure;
export type UsageReply = { ok: true; messages: number; bytes: number } | Failure;
export type ImapDoneReply = { ok: true } | Failure;

/**
 * Requests. Folder names are full hierarchy names with `/` as separator, UTF-8,
 * with INBOX spelled `INBOX`. Failures carry a `code` where IMAP has one
 * (NONEXISTENT, ALREADYEXISTS, TRYCREATE, OVERQUOTA, CANNOT).
 */
export type MailboxImapRequest =
  | { type: 'folders'; replyTo: Ref<FoldersReply> }
  | { type: 'folder-status'; name: string; replyTo: Ref<FolderReply> }
  | { type: 'folder-create'; name: string; specialUse: string | null; replyTo: Ref<ImapDoneReply> }
  /** Deleting releases the folder's blob references; INBOX cannot be deleted. */
  | { type: 'folder-delete'; name: string; replyTo: Ref<ImapDoneReply> }
  /** Renaming INBOX moves its messages to the new folder and leaves INBOX empty (RFC 3501 6.3.5); renames children too. */
  | { type: 'folder-rename'; from: string; to: string; replyTo: Ref<ImapDoneReply> }
  /** Subscriptions are by name: a name with no folder may be subscribed, and a deleted folder stays subscribed. */
  | { type: 'folder-subscribe'; name: string; subscribed: boolean; replyTo: Ref<ImapDoneReply> }
  /**
   * Selects a folder for a session: answers the folder's state and its messages in
   * UID order; from then on `listener` receives FolderEvents for the folder until
   * `unselect` (or another `select` by the same session). A read-write select takes
   * the folder's \Recent messages for this session (`recentUids`).
   */
  | { type: 'select'; name: string; session: string; readOnly: boolean; takesRecent?: boolean; listener: Ref<FolderEventMessage>; replyTo: Ref<SelectReply> }
  | { type: 'unselect'; session: string; replyTo: Ref<ImapDoneReply> }
  /** The session told its client these messages are expunged: their bodies need not be kept for it any longer. */
  | { type: 'expunge-seen'; session: string; blobs: string[]; replyTo: Ref<ImapDoneReply> }
  /**
   * Appends a body. Either the caller committed the upload with a temporary reference
   * `uploadHolder` and the append replaces it by the message's own reference in the same
   * batch, or (a session of this node) it gives the ops that store the body, `blobOps`,
   * holding the body's lock until the answer: they are committed in the message's own
   * batch (one synced write per APPEND), or not at all when it is refused.
   * Checks the quota (`quota` bytes, 0 = none).
   */
  | { type: 'append'; name: string; blob: string; size: number; flags: string[]; internalDate: number; uploadHolder?: string; blobOps?: WriteOp[]; quota: number;
      /** The appending session, and where its view of the folder ends when it has it selected. */
      session?: string; viewUidNext?: number; replyTo: Ref<AppendReply> }
  /**
   * MULTIAPPEND (RFC 3502): every message in one synced batch, or none (each upload's
   * temporary reference is released either way). In-process only: a node does not send
   * these bodies to another one.
   */
  | { type: 'append-many'; name: string; items: AppendItem[]; quota: number; session?: string; viewUidNext?: number; replyTo: Ref<AppendManyReply> }
  /** Changes flags of the given UIDs (ignores UIDs that no longer exist). `session` gets no event for its own change. */
  | { type: 'store'; name: string; session: string; uids: number[]; operation: 'replace' | 'add' | 'remove'; flags: string[]; unchangedSince?: number;
      /** A shared folder's reader lacking s, t or w: changes to those flags are ignored (acl.ts). */
      allowed?: FlagRights; replyTo: Ref<StoreReply> }
  /** Removes \Deleted messages (only those among `uids` when given: UID EXPUNGE). */
  | { type: 'expunge'; name: string; session: string; uids?: number[]; replyTo: Ref<ExpungeReply> }
  /** COPY/MOVE within this mailbox; reuses blobs. TRYCREATE when `to` does not exist. MOVE expunges the sources. */
  | { type: 'copy'; from: string; to: string; session: string; uids: number[]; move: boolean; quota: number; viewUidNext?: number; replyTo: Ref<CopyReply> }
  /** UIDs expunged from the folder with a mod-sequence above `sinceModseq` (QRESYNC VANISHED (EARLIER)). */
  | { type: 'vanished'; name: string; sinceModseq: number; replyTo: Ref<VanishedReply> }
  /** The message with this UID in the folder: NONEXISTENT when either is missing. */
  | { type: 'message-by-uid'; name: string; uid: number; replyTo: Ref<MessageByUidReply> }
  /** NOTIFY: `listener` gets `status` and `mailbox` events of every folder until `watch: false` (or its session's end). */
  | { type: 'watch'; session: string; listener: Ref<FolderEventMessage>; watch: boolean; replyTo: Ref<ImapDoneReply> }
  /** METADATA entries of a folder, or of the account for the name "". */
  | { type: 'metadata-get'; name: string; replyTo: Ref<MetadataReply> }
  /** Sets (or, with null, removes) entries in one synced write; LIMIT past `maxEntries` entries. */
  | { type: 'metadata-set'; name: string; entries: Array<[string, string | null]>; maxEntries: number; replyTo: Ref<ImapDoneReply> }
  /** Storage used by the whole mailbox (QUOTA). */
  | { type: 'usage'; replyTo: Ref<UsageReply> }
  /** SETACL/DELETEACL (acl-requests.ts): `rights` null removes the identifier's entry. */
  | { type: 'acl-set'; name: string; identifier: string; rights: string | null; replyTo: Ref<AclSetReply> };

/** The folder's ACL after the change, and whether any folder of the mailbox still names the identifier. */
export type AclSetReply = { ok: true; acl: Record<string, string>; stillNamed: boolean } | Failure;
