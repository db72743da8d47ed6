// The port IMAP speaks to below it, as `Pop3Backend` is POP3's: everything the session
// and the command files need from the rest of the server (logins through the auth
// guard, the mailbox actor's requests, message bodies and structures, APPEND's upload,
// the user's current quota, keeping the mailbox loaded while a session uses it). The
// session and commands import only this interface and the protocol types; the one
// implementation over the registry, blob store, directory and auth gate is
// mailbox-backend.ts, so a test, a proxy or another store can stand in for it.
import type { Ref } from 'nact';
import type { UserRecord } from '../directory/records.js';
import type { AppendReply, MailboxImapRequest } from '../mailbox/imap-messages.js';
import type { MessageReader } from './fetch-items.js';

/** The outcome of a LOGIN or AUTHENTICATE: refused means the password was not even checked. */
export type ImapLoginResult =
  | { kind: 'ok'; user: UserRecord }
  | { kind: 'bad-credentials' }
  | { kind: 'refused'; reason: string }
  /** The password is right but the node holding the mailbox is down (a cluster of machines). */
  | { kind: 'unavailable' };

/** One APPEND: the backend stores the body, then files it in the folder. */
export interface AppendRequest {
  /** The folder as the mailbox actor spells it (`folderName`). */
  name: string;
  message: Buffer;
  flags: string[];
  internalDate: number;
  /** The session appending, for the name of the upload's temporary reference. */
  session: string;
}

export interface ImapBackend {
  /** Checks credentials through the auth guard (per-address and per-account limits), then the directory. */
  login(remoteAddress: string, username: string, password: string): Promise<ImapLoginResult>;
  /** Keeps the user's mailbox loaded while a session uses it; `release` once per `retain`. */
  retain(user: UserRecord): void;
  release(user: UserRecord): void;
  /**
   * One request of the mailbox actor's IMAP protocol (select/unselect with the session's
   * folder-event ref, fetch, store, copy/move, expunge, list, status, create/delete/rename,
   * subscribe, search views, quota, idle), wherever the mailbox lives.
   */
  request<R>(user: UserRecord, build: (replyTo: Ref<R>) => MailboxImapRequest, timeoutMs: number): Promise<R>;
  /** Bodies and MIME structures of this user's messages, from the node that holds the mailbox. */
  reader(user: UserRecord): MessageReader;
  /** APPEND: stores the body, files it (quota checked: OVERQUOTA; missing folder: TRYCREATE). */
  append(user: UserRecord, request: AppendRequest, timeoutMs: number): Promise<AppendReply>;
  /** The user's quota in bytes as the directory has it now (an admin may have changed it since login). */
  quota(user: UserRecord): number;
}
