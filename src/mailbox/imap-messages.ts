// The IMAP side of the mailbox actor's protocol: folder management, selection with
// change notifications, and the message operations IMAP needs. Plain data, so the
// same messages can later cross process boundaries (refs instead of callbacks).
import type { Ref } from 'nact';
import type { Failure } from '../core/supervision.js';

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
}

export interface FolderInfo {
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
}

/** Changes pushed to every session that has the folder selected, except the session that made them. */
export type FolderEvent =
  | { kind: 'added'; folder: string; messages: MessageView[]; highestModseq: number; uidNext: number; recentTo: string | null }
  | { kind: 'flags'; folder: string; messages: MessageView[]; highestModseq: number }
  | { kind: 'expunged'; folder: string; uids: number[]; highestModseq: number }
  /** The folder was deleted or renamed away: the session must drop its selection (RFC 3501 leaves the reaction open; we send BYE-free NO on next use). */
  | { kind: 'gone'; folder: string };

export interface FolderEventMessage {
  type: 'folder-event';
  event: FolderEvent;
}

export type FoldersReply = { ok: true; folders: FolderInfo[] } | Failure;
export type FolderReply = { ok: true; folder: FolderInfo } | Failure;
export type SelectReply = { ok: true; folder: FolderInfo; messages: MessageView[]; recentUids: number[] } | Failure;
export type AppendReply = { ok: true; uidValidity: number; uid: number } | Failure;
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
   * The new messages in the destination, in `destUids` order. The requesting session gets
   * no `added` event for its own COPY/MOVE: this is how it learns them when it has the
   * destination selected (COPY into the selected folder).
   */
  messages?: MessageView[];
} | Failure;
export type VanishedReply = { ok: true; uids: number[] } | Failure;
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
  | { type: 'folder-subscribe'; name: string; subscribed: boolean; replyTo: Ref<ImapDoneReply> }
  /**
   * Selects a folder for a session: answers the folder's state and its messages in
   * UID order; from then on `listener` receives FolderEvents for the folder until
   * `unselect` (or another `select` by the same session). A read-write select takes
   * the folder's \Recent messages for this session (`recentUids`).
   */
  | { type: 'select'; name: string; session: string; readOnly: boolean; listener: Ref<FolderEventMessage>; replyTo: Ref<SelectReply> }
  | { type: 'unselect'; session: string; replyTo: Ref<ImapDoneReply> }
  /** The session told its client these messages are expunged: their bodies need not be kept for it any longer. */
  | { type: 'expunge-seen'; session: string; blobs: string[]; replyTo: Ref<ImapDoneReply> }
  /**
   * Appends a body already in the blob store. The caller committed the upload with
   * a temporary reference `uploadHolder`; the append replaces it by the message's
   * own reference in the same batch. Checks the quota (`quota` bytes, 0 = none).
   */
  | { type: 'append'; name: string; blob: string; size: number; flags: string[]; internalDate: number; uploadHolder: string; quota: number; replyTo: Ref<AppendReply> }
  /** Changes flags of the given UIDs (ignores UIDs that no longer exist). `session` gets no event for its own change. */
  | { type: 'store'; name: string; session: string; uids: number[]; operation: 'replace' | 'add' | 'remove'; flags: string[]; unchangedSince?: number; replyTo: Ref<StoreReply> }
  /** Removes \Deleted messages (only those among `uids` when given: UID EXPUNGE). */
  | { type: 'expunge'; name: string; session: string; uids?: number[]; replyTo: Ref<ExpungeReply> }
  /** COPY/MOVE within this mailbox; reuses blobs. TRYCREATE when `to` does not exist. MOVE expunges the sources. */
  | { type: 'copy'; from: string; to: string; session: string; uids: number[]; move: boolean; quota: number; replyTo: Ref<CopyReply> }
  /** UIDs expunged from the folder with a mod-sequence above `sinceModseq` (QRESYNC VANISHED (EARLIER)). */
  | { type: 'vanished'; name: string; sinceModseq: number; replyTo: Ref<VanishedReply> }
  /** Storage used by the whole mailbox (QUOTA). */
  | { type: 'usage'; replyTo: Ref<UsageReply> };
