// What one IMAP command file declares (the states it is valid in and a handler) and
// the narrow session interface a handler may use: send responses, call the session's
// mailbox port, read or change the selected folder's view. Handlers never touch storage.
import type {
  FetchResponseItem, ImapCommand, ImapCommandName, ImapResponse, NotifyEventGroup, ResponseCode, ResponseStatus, SearchKey,
} from '../../protocols/imap/types.js';
import type { UserRecord } from '../../directory/records.js';
import type { MessageView } from '../../mailbox/imap-messages.js';
import type { FlagRights } from '../../mailbox/acl.js';
import type { Failure } from '../../core/supervision.js';
import type { ImapSessionDeps } from '../deps.js';
import type { UserMailbox } from '../backend.js';

export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

/** The tagged response a handler ends with; `after` runs once it is on the wire (STARTTLS, LOGOUT). */
export interface Completion {
  status: ResponseStatus;
  text: string;
  code?: ResponseCode;
  after?: () => Promise<void> | void;
}

/** A handler that needs the client's next raw line (AUTHENTICATE data, IDLE's DONE) returns this. */
export interface AwaitLine {
  awaitLine: (line: string) => Promise<Completion | AwaitLine>;
}

export type CommandResult = Completion | AwaitLine;

/** The selected folder as this session's client sees it. */
export interface SelectedFolder {
  name: string;
  /** The name its mailbox actor uses in events, when it differs (a shared folder: the owner's name). */
  sourceName?: string;
  /** A shared folder where the user may change only some flags (IMAP ACL): PERMANENTFLAGS lists those. */
  flagRights?: FlagRights;
  readOnly: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** UIDs in sequence-number order: `uids[seq - 1]`. */
  uids: number[];
  messages: Map<number, MessageView>;
  /** Messages \Recent for this session. */
  recent: Set<number>;
  /** Expunged by another session, not yet reported to the client (RFC 2180). */
  vanishing: Set<number>;
  /** UIDs saved by SEARCH RETURN (SAVE) (RFC 5182 `$`). */
  savedUids: number[];
  /** The flags last announced in `* FLAGS`. */
  flagList: string[];
  /** CONTEXT=SEARCH: searches whose results this client keeps current (RFC 5267 §4.3). */
  searchUpdates: SearchUpdate[];
}

/** One SEARCH RETURN (UPDATE): its criteria and the result the client was last told. */
export interface SearchUpdate {
  tag: string;
  uid: boolean;
  criteria: SearchKey;
  /** The matching UIDs, ascending. */
  uids: number[];
}

export interface ImapContext {
  readonly id: string;
  readonly deps: ImapSessionDeps;
  readonly state: SessionState;
  readonly user: UserRecord | null;
  readonly selected: SelectedFolder | null;
  /** Extensions the client ENABLEd, or CONDSTORE turned on by use (RFC 7162 §3.1). */
  readonly enabled: Set<string>;
  /**
   * The client sent `ENABLE IMAP4rev2`: answers follow RFC 9051 (no \Recent or RECENT,
   * ESEARCH for SEARCH, LIST in SELECT; see rev2.ts). Otherwise IMAP4rev1, unchanged.
   */
  readonly rev2: boolean;
  readonly tlsActive: boolean;
  /** TLS upgrade is possible on this connection. */
  readonly canStartTls: boolean;
  /** LOGIN / AUTHENTICATE allowed now (TLS, loopback, or configured). */
  readonly plaintextAuthAllowed: boolean;
  readonly remoteAddress: string;
  capabilities(): string[];
  /**
   * Turns CONDSTORE on for the rest of the session (a CONDSTORE-enabling command, RFC 7162
   * §3.1); the first time, with a folder selected, sends `* OK [HIGHESTMODSEQ n]`.
   */
  enableCondstore(): Promise<void>;
  /** NOTIFY SET's event groups, or null (NONE, or never set): changes of other folders are then not reported. */
  setNotify(groups: NotifyEventGroup[] | null): void;
  send(response: ImapResponse): Promise<void>;
  /** The logged-in user's mailbox, bound to this session (backend.ts); throws before login. */
  mailbox(): UserMailbox;
  loggedIn(user: UserRecord): void;
  /** After login: the connection may move to the worker holding the mailbox (a cluster). */
  handOffToOwner(): Promise<void>;
  select(folder: SelectedFolder): void;
  unselect(): void;
  /** Report queued folder events; expunges only when `allowExpunge` (RFC 3501 §7.4.1). */
  flushEvents(allowExpunge: boolean): Promise<void>;
  /** Sends `* FLAGS` and PERMANENTFLAGS again when these messages carry keywords not yet announced. */
  announceKeywords(messages: MessageView[]): Promise<void>;
  /** Remove expunged UIDs from the view, sending EXPUNGE (or VANISHED with QRESYNC). */
  reportExpunged(uids: number[]): Promise<void>;
  startTls(): Promise<void>;
  readonly compressionActive: boolean;
  startCompression(): void;
  /** `UID n FLAGS (...) [MODSEQ (m)]` as sent for flag changes. */
  flagItems(folder: SelectedFolder, message: MessageView): FetchResponseItem[];
  enableUtf8(): void;
  beginIdle(): void;
  endIdle(): void;
  close(): void;
}

/**
 * One command's entry in the table: its rules are data the session applies in one
 * place (command-rules.ts) before the handler runs, never name checks in the session.
 */
export interface CommandSpec {
  name: ImapCommandName;
  /** The session states the command is valid in; anything else is a tagged BAD. */
  states: SessionState[];
  /** The handler reads the selected folder (`selectedFolder(ctx)`): refused without one. */
  needsSelected?: boolean;
  /**
   * Whether untagged EXPUNGE may be sent when the command completes (RFC 3501 §7.4.1):
   * true (the default), or 'uid' for FETCH, STORE and SEARCH, which allow it only in
   * their UID form because sequence numbers must stay stable for the client.
   */
  allowExpungeDuring?: true | 'uid';
  /**
   * Whether pending folder changes are reported before the tagged response (the default).
   * LOGOUT says false: nothing but its tagged OK may follow its `* BYE`.
   */
  reportsChanges?: boolean;
  handle(ctx: ImapContext, command: ImapCommand): Promise<CommandResult>;
}

export const ANY_STATE: SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
export const AUTHENTICATED: SessionState[] = ['authenticated', 'selected'];
export const SELECTED: SessionState[] = ['selected'];

export function ok(text: string, code?: ResponseCode): Completion {
  return code === undefined ? { status: 'OK', text } : { status: 'OK', text, code };
}

export function no(text: string, code?: ResponseCode): Completion {
  return code === undefined ? { status: 'NO', text } : { status: 'NO', text, code };
}

export function bad(text: string, code?: ResponseCode): Completion {
  return code === undefined ? { status: 'BAD', text } : { status: 'BAD', text, code };
}

/** A mailbox actor failure as a tagged NO with the IMAP response code it maps to. */
export function failed(failure: Failure): Completion {
  if (failure.code !== undefined) return no(failure.error, { code: failure.code });
  return failure.temporary ? no(failure.error, { code: 'UNAVAILABLE' }) : no(failure.error);
}

/**
 * The tagged NO for a command that threw (a store write failed): storage full (an error
 * with code ENOSPC or a StorageFullError, itself or as a cause) is worth a retry later,
 * anything else is our bug. The session goes on either way.
 */
export function commandFailure(err: unknown): Completion {
  if (isStorageFull(err)) return no('Not enough disk space, try again later', { code: 'OVERQUOTA' });
  if ((err as { imapCode?: unknown } | null)?.imapCode === 'NOPERM') return no((err as Error).message, { code: 'NOPERM' });
  return no('Internal error; try again later', { code: 'SERVERBUG' });
}

function isStorageFull(err: unknown): boolean {
  for (let cause = err, depth = 0; cause instanceof Object && depth < 8; depth++) {
    const { code, name } = cause as { code?: unknown; name?: unknown };
    if (code === 'ENOSPC' || name === 'StorageFullError') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** Narrow a command to the variant a handler serves. */
export function commandOf<N extends ImapCommandName>(command: ImapCommand, ..._names: N[]): CommandNamed<N> {
  return command as CommandNamed<N>;
}

/** The command variants whose name may be N (MailboxCommand serves DELETE, SUBSCRIBE and UNSUBSCRIBE). */
export type CommandNamed<N extends ImapCommandName> = ImapCommand extends infer C
  ? C extends ImapCommand ? ([N & C['name']] extends [never] ? never : C) : never
  : never;

/** Folder names as the mailbox actor spells them: INBOX in any case is `INBOX`. */
export function folderName(name: string): string {
  if (name.toUpperCase() === 'INBOX') return 'INBOX';
  if (name.toUpperCase().startsWith('INBOX/')) return `INBOX${name.slice(5)}`;
  return name;
}

/** The selected folder of a command valid only in the selected state. */
export function selectedFolder(ctx: ImapContext): SelectedFolder {
  if (ctx.selected === null) throw new Error('no folder selected');
  return ctx.selected;
}
