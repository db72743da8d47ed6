// Typed IMAP commands (RFC 3501 + IDLE, UIDPLUS, MOVE, NAMESPACE, ID, ENABLE,
// UNSELECT, CONDSTORE/QRESYNC, LIST-EXTENDED/STATUS, SPECIAL-USE, QUOTA, SASL-IR,
// COMPRESS, ESEARCH) produced by the parser, and typed responses the writer renders.

import type { SequenceSet } from './sequence-set.js';

export type { SequenceSet, SeqRange, SeqBound } from './sequence-set.js';

// ---------------------------------------------------------------- values

/** A calendar date as in SEARCH (`1-Feb-1994`); month is 1–12. */
export interface ImapDate {
  year: number;
  month: number;
  day: number;
}

/** An APPEND date-time (`"17-Jul-1996 02:44:25 -0700"`); zone in minutes east of UTC. */
export interface ImapDateTime extends ImapDate {
  hour: number;
  minute: number;
  second: number;
  zoneMinutes: number;
}

/** A mod-sequence (RFC 7162): a 63-bit value, so a bigint. */
export type ModSeq = bigint;

/** Flags as strings; system flags are normalised to `\Seen`, `\Answered`, ... */
export type Flag = string;

/** The STATUS items the parser accepts (RFC 3501, 7162, 8438, 9051). */
export type StatusItem =
  | 'MESSAGES'
  | 'RECENT'
  | 'UIDNEXT'
  | 'UIDVALIDITY'
  | 'UNSEEN'
  | 'HIGHESTMODSEQ'
  | 'SIZE'
  | 'DELETED'
  /** RFC 7889: the largest message APPEND accepts into the mailbox. */
  | 'APPENDLIMIT'
  /** OBJECTID (RFC 8474): the folder's MAILBOXID. */
  | 'MAILBOXID';

// ---------------------------------------------------------------- FETCH

/** `BODY[<part>.<text> (<fields>)]`: part [] is the whole message. */
export interface BodySection {
  part: number[];
  text?: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  /** Only for HEADER.FIELDS / HEADER.FIELDS.NOT, as the client spelled them. */
  fields?: string[];
}

/** `<offset.length>` of a partial fetch. */
export interface PartialRange {
  offset: number;
  length: number;
}

/** Fetch attributes with no arguments. `BODY` here is the non-extensible BODYSTRUCTURE. */
export type SimpleFetchAttribute =
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'RFC822'
  | 'RFC822.HEADER'
  | 'RFC822.TEXT'
  /** OBJECTID (RFC 8474). */
  | 'EMAILID'
  | 'THREADID'
  /** RFC 8514. */
  | 'SAVEDATE';

export interface BodySectionFetch {
  name: 'BODY[]';
  /** BODY.PEEK[...]: do not set \Seen. */
  peek: boolean;
  section: BodySection;
  partial?: PartialRange;
}

/** BINARY[part] / BINARY.PEEK[part] (RFC 3516). */
export interface BinaryFetch {
  name: 'BINARY[]';
  peek: boolean;
  part: number[];
  partial?: PartialRange;
}

export interface BinarySizeFetch {
  name: 'BINARY.SIZE';
  part: number[];
}

/** One fetch attribute; ALL/FAST/FULL are already expanded by the parser. */
export type FetchItem = { name: SimpleFetchAttribute } | BodySectionFetch | BinaryFetch | BinarySizeFetch;

// ---------------------------------------------------------------- SEARCH

export type SearchFlagKey =
  | 'ALL'
  /** RFC 8514: every message of a folder that keeps save dates (all of ours do). */
  | 'SAVEDATESUPPORTED'
  | 'ANSWERED'
  | 'DELETED'
  | 'DRAFT'
  | 'FLAGGED'
  | 'NEW'
  | 'OLD'
  | 'RECENT'
  | 'SEEN'
  | 'UNANSWERED'
  | 'UNDELETED'
  | 'UNDRAFT'
  | 'UNFLAGGED'
  | 'UNSEEN';

export type SearchTextKey = 'BCC' | 'BODY' | 'CC' | 'FROM' | 'SUBJECT' | 'TEXT' | 'TO';
/** BEFORE/ON/SINCE use the internal date; SENT* use the Date: header. */
export type SearchDateKey = 'BEFORE' | 'ON' | 'SINCE' | 'SENTBEFORE' | 'SENTON' | 'SENTSINCE' | 'SAVEDBEFORE' | 'SAVEDON' | 'SAVEDSINCE';

/** A search criterion; a command's criteria are one AND node. */
export type SearchKey =
  | { key: SearchFlagKey }
  | { key: SearchTextKey; value: string }
  | { key: 'HEADER'; field: string; value: string }
  | { key: 'KEYWORD' | 'UNKEYWORD'; flag: Flag }
  | { key: SearchDateKey; date: ImapDate }
  | { key: 'LARGER' | 'SMALLER'; size: number }
  | { key: 'UID'; set: SequenceSet }
  | { key: 'SEQUENCE'; set: SequenceSet }
  | { key: 'NOT'; operand: SearchKey }
  | { key: 'OR'; left: SearchKey; right: SearchKey }
  | { key: 'AND'; operands: SearchKey[] }
  | { key: 'MODSEQ'; modSeq: ModSeq; entry?: { name: string; type: 'priv' | 'shared' | 'all' } }
  /** OBJECTID (RFC 8474 §6). */
  | { key: 'EMAILID' | 'THREADID'; id: string };

/** ESEARCH RETURN options (RFC 4731) and SAVE (RFC 5182). */
/** ESEARCH RETURN options (RFC 4731, 5182; CONTEXT=SEARCH's UPDATE, RFC 5267; PARTIAL rides beside them). */
export type SearchReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE' | 'UPDATE';

/** RETURN (PARTIAL low:high): 1-based positions in the result, low <= high (RFC 5267 §4.4). */
export interface SearchPartial {
  low: number;
  high: number;
}

// ---------------------------------------------------------------- LIST

export type ListSelectionOption = 'SUBSCRIBED' | 'REMOTE' | 'RECURSIVEMATCH' | 'SPECIAL-USE';

export interface ListReturnOptions {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  /** LIST-STATUS: STATUS items to return for every listed mailbox. */
  status?: StatusItem[];
}

// ---------------------------------------------------------------- commands

/** SELECT/EXAMINE (QRESYNC (uidvalidity modseq [known-uids [(seqs uids)]])). */
export interface QresyncParameters {
  uidValidity: number;
  modSeq: ModSeq;
  knownUids?: SequenceSet;
  sequenceMatch?: { sequences: SequenceSet; uids: SequenceSet };
}

interface Tagged {
  tag: string;
}

export type NoArgumentCommandName =
  | 'CAPABILITY'
  | 'NOOP'
  | 'LOGOUT'
  | 'STARTTLS'
  | 'CHECK'
  | 'CLOSE'
  | 'UNSELECT'
  | 'IDLE'
  | 'NAMESPACE';

export type NoArgumentCommand = Tagged & { name: NoArgumentCommandName };

export interface AuthenticateCommand extends Tagged {
  name: 'AUTHENTICATE';
  /** Upper-cased SASL mechanism name. */
  mechanism: string;
  /** SASL-IR initial response as sent (base64); '' when the client sent `=`. */
  initialResponse?: string;
}

export interface LoginCommand extends Tagged {
  name: 'LOGIN';
  username: string;
  password: string;
}

export interface SelectCommand extends Tagged {
  name: 'SELECT' | 'EXAMINE';
  mailbox: string;
  condstore: boolean;
  qresync?: QresyncParameters;
}

export interface CreateCommand extends Tagged {
  name: 'CREATE';
  mailbox: string;
  /** CREATE-SPECIAL-USE (RFC 6154): `(USE (\Drafts))`. */
  specialUse?: Flag[];
}

export interface MailboxCommand extends Tagged {
  name: 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE';
  mailbox: string;
}

export interface RenameCommand extends Tagged {
  name: 'RENAME';
  from: string;
  to: string;
}

export interface ListCommand extends Tagged {
  name: 'LIST';
  reference: string;
  /** Mailbox patterns, decoded like mailbox names; `%` and `*` kept. */
  patterns: string[];
  selection: ListSelectionOption[];
  returnOptions: ListReturnOptions;
  /** True when the client used any LIST-EXTENDED syntax (responses may carry extended data). */
  extended: boolean;
}

export interface LsubCommand extends Tagged {
  name: 'LSUB';
  reference: string;
  /** Null when it was not valid modified UTF-7: it matches nothing. */
  pattern: string | null;
}

export interface StatusCommand extends Tagged {
  name: 'STATUS';
  mailbox: string;
  items: StatusItem[];
}

/** One piece of a CATENATE message (RFC 4469): literal bytes, or an IMAP URL of a stored message or part. */
export type CatenatePart = { kind: 'text'; data: Buffer } | { kind: 'url'; url: string };

/** One message of an APPEND: its flags, date and bytes. */
export interface AppendMessage {
  flags: Flag[];
  internalDate?: ImapDateTime;
  /** Empty when the message is built from `catenate`. */
  message: Buffer;
  catenate?: CatenatePart[];
  /** Sent as literal8 `~{n}` (RFC 3516 BINARY / RFC 6855 UTF8). */
  binary: boolean;
}

/** APPEND with its first message; MULTIAPPEND (RFC 3502) puts the others in `more`. */
export interface AppendCommand extends Tagged, AppendMessage {
  name: 'APPEND';
  mailbox: string;
  more?: AppendMessage[];
}

export interface ExpungeCommand extends Tagged {
  name: 'EXPUNGE';
  uid: boolean;
  /** UID EXPUNGE (UIDPLUS): only these UIDs. */
  uids?: SequenceSet;
}

export interface SearchCommand extends Tagged {
  name: 'SEARCH';
  uid: boolean;
  /** Upper-cased; the parser only accepts US-ASCII and UTF-8. */
  charset?: string;
  criteria: SearchKey;
  /** Present for ESEARCH (`RETURN (...)`); `RETURN ()` means ['ALL']. */
  returnOptions?: SearchReturnOption[];
  partial?: SearchPartial;
}

export type NotifyFilter =
  | { kind: 'SELECTED' | 'SELECTED-DELAYED' | 'INBOXES' | 'PERSONAL' | 'SUBSCRIBED' }
  | { kind: 'SUBTREE' | 'MAILBOXES'; mailboxes: string[] };

export interface NotifyEventGroup {
  filter: NotifyFilter;
  /** Event names as RFC 5465 spells them; empty for NONE. */
  events: string[];
}

/** `NOTIFY NONE` (groups null) or `NOTIFY SET [STATUS] groups` (RFC 5465). */
export interface NotifyCommand extends Tagged {
  name: 'NOTIFY';
  groups: NotifyEventGroup[] | null;
  status: boolean;
}

export type MetadataDepth = '0' | '1' | 'infinity';

/** `GETMETADATA [(MAXSIZE n DEPTH d)] mailbox entries` (RFC 5464 §4.2); mailbox "" is the server. */
export interface GetMetadataCommand extends Tagged {
  name: 'GETMETADATA';
  mailbox: string;
  /** Lower-cased entry names. */
  entries: string[];
  depth: MetadataDepth;
  maxSize?: number;
}

/** `SETMETADATA mailbox (entry value ...)` (RFC 5464 §4.3); a null value removes the entry. */
export interface SetMetadataCommand extends Tagged {
  name: 'SETMETADATA';
  mailbox: string;
  entries: Array<[string, Buffer | null]>;
}

/** `CANCELUPDATE tag...` (RFC 5267 §4.3): stop the UPDATE searches started by these tags. */
export interface CancelUpdateCommand extends Tagged {
  name: 'CANCELUPDATE';
  tags: string[];
}

/** SORT keys (RFC 5256 §3, RFC 5957 DISPLAYFROM / DISPLAYTO). */
export type SortKey = 'ARRIVAL' | 'CC' | 'DATE' | 'FROM' | 'SIZE' | 'SUBJECT' | 'TO' | 'DISPLAYFROM' | 'DISPLAYTO';

export interface SortCriterion {
  key: SortKey;
  /** REVERSE before the key: this key only, descending. */
  reverse: boolean;
}

/** `[UID] SORT [RETURN (...)] (criteria) charset search-criteria` (RFC 5256, ESORT RFC 5267). */
export interface SortCommand extends Tagged {
  name: 'SORT';
  uid: boolean;
  criteria: SortCriterion[];
  charset: string;
  search: SearchKey;
  /** ESORT: answered with ESEARCH. */
  returnOptions?: SearchReturnOption[];
}

export type ThreadAlgorithm = 'ORDEREDSUBJECT' | 'REFERENCES';

/** `[UID] THREAD algorithm charset search-criteria` (RFC 5256). */
export interface ThreadCommand extends Tagged {
  name: 'THREAD';
  uid: boolean;
  algorithm: ThreadAlgorithm;
  charset: string;
  search: SearchKey;
}

/** A THREAD answer's tree: a message number and its children (several: a branch). */
export interface ThreadNode {
  /** 0 for a placeholder (a message not in the result whose children are). */
  id: number;
  children: ThreadNode[];
}

export interface FetchCommand extends Tagged {
  name: 'FETCH';
  uid: boolean;
  sequence: SequenceSet;
  items: FetchItem[];
  changedSince?: ModSeq;
  /** QRESYNC `VANISHED` modifier (UID FETCH with CHANGEDSINCE only). */
  vanished: boolean;
}

export interface StoreCommand extends Tagged {
  name: 'STORE';
  uid: boolean;
  sequence: SequenceSet;
  operation: 'replace' | 'add' | 'remove';
  silent: boolean;
  flags: Flag[];
  unchangedSince?: ModSeq;
}

export interface CopyMoveCommand extends Tagged {
  name: 'COPY' | 'MOVE';
  uid: boolean;
  sequence: SequenceSet;
  mailbox: string;
}

export interface IdCommand extends Tagged {
  name: 'ID';
  /** Field/value pairs in order, or null for `ID NIL`. */
  parameters: Array<[string, string | null]> | null;
}

export interface EnableCommand extends Tagged {
  name: 'ENABLE';
  /** Upper-cased capability names. */
  capabilities: string[];
}

export interface GetQuotaCommand extends Tagged {
  name: 'GETQUOTA';
  root: string;
}

export interface GetQuotaRootCommand extends Tagged {
  name: 'GETQUOTAROOT';
  mailbox: string;
}

export interface SetQuotaCommand extends Tagged {
  name: 'SETQUOTA';
  root: string;
  /** Resource names upper-cased (STORAGE, MESSAGE, ...). */
  limits: Array<{ resource: string; limit: number }>;
}

/** ACL commands (RFC 4314): GETACL and MYRIGHTS name a mailbox; the others an identifier too. */
export interface AclCommand extends Tagged {
  name: 'GETACL' | 'MYRIGHTS' | 'DELETEACL' | 'LISTRIGHTS';
  mailbox: string;
  /** DELETEACL and LISTRIGHTS. */
  identifier?: string;
}

/** `SETACL mailbox identifier [+|-]rights` (RFC 4314 §3.1); rights as the client wrote them. */
export interface SetAclCommand extends Tagged {
  name: 'SETACL';
  mailbox: string;
  identifier: string;
  modifier: '+' | '-' | '';
  rights: string;
}

export interface CompressCommand extends Tagged {
  name: 'COMPRESS';
  /** Upper-cased; only DEFLATE is defined. */
  mechanism: string;
}

export type ImapCommand =
  | NoArgumentCommand
  | AuthenticateCommand
  | LoginCommand
  | SelectCommand
  | CreateCommand
  | MailboxCommand
  | RenameCommand
  | ListCommand
  | LsubCommand
  | StatusCommand
  | AppendCommand
  | ExpungeCommand
  | SearchCommand
  | SortCommand
  | ThreadCommand
  | CancelUpdateCommand
  | GetMetadataCommand
  | SetMetadataCommand
  | NotifyCommand
  | FetchCommand
  | StoreCommand
  | CopyMoveCommand
  | IdCommand
  | EnableCommand
  | GetQuotaCommand
  | GetQuotaRootCommand
  | SetQuotaCommand
  | AclCommand
  | SetAclCommand
  | CompressCommand;

export type ImapCommandName = ImapCommand['name'];

// ---------------------------------------------------------------- parser events

/** A complete command. */
export interface CommandEvent {
  type: 'command';
  command: ImapCommand;
}

/**
 * The client announced a synchronizing literal `{n}` and waits. Answer
 * `+ Ready` (writer: continuation) to receive it, or refuse with a tagged
 * NO/BAD and call `parser.abortCommand()`.
 */
export interface ContinuationEvent {
  type: 'continuation';
  tag: string;
  /** Upper-cased command name as far as it could be read ('' if not). */
  command: string;
  size: number;
  /**
   * A LITERAL+ literal (RFC 7888): the client sends it without waiting, so no `+` is
   * written; reported only with the parser option `reportNonSynchronizing`.
   */
  nonSynchronizing?: true;
}

/**
 * One command could not be parsed or was refused by a limit. Answer
 * `<tag> <response> [<code>] <text>` (`* BAD ...` when tag is null); the
 * parser has already resynchronised on the next command.
 */
export interface ParseErrorEvent {
  type: 'error';
  tag: string | null;
  command: string;
  response: 'BAD' | 'NO';
  code?: 'TOOBIG' | 'BADCHARSET' | 'PARSE' | 'LIMIT';
  text: string;
  /** A refused non-synchronizing literal: its bytes, on their way, are being read and dropped. */
  skippedLiteral?: number;
}

/** A raw line read after `expectRawLine()` (IDLE's DONE, AUTHENTICATE data), without CRLF. */
export interface RawLineEvent {
  type: 'line';
  line: string;
}

export type ImapParserEvent = CommandEvent | ContinuationEvent | ParseErrorEvent | RawLineEvent;

// ---------------------------------------------------------------- responses

/** Response codes (`[...]` in OK/NO/BAD/PREAUTH/BYE). */
export type ResponseCode =
  | {
      code:
        | 'READ-WRITE'
        | 'READ-ONLY'
        | 'NOMODSEQ'
        | 'TRYCREATE'
        | 'ALREADYEXISTS'
        | 'NONEXISTENT'
        | 'CANNOT'
        | 'HASCHILDREN'
        | 'INUSE'
        | 'OVERQUOTA'
        | 'TOOBIG'
        | 'LIMIT'
        | 'CLOSED'
        | 'AUTHENTICATIONFAILED'
        | 'AUTHORIZATIONFAILED'
        | 'UNAVAILABLE'
        | 'SERVERBUG'
        | 'CLIENTBUG'
        | 'ALERT'
        | 'PARSE'
        | 'UIDNOTSTICKY'
        | 'EXPUNGEISSUED'
        | 'NOPERM'
        | 'PRIVACYREQUIRED'
        | 'CONTACTADMIN'
        | 'EXPIRED'
        | 'CORRUPTION'
        | 'COMPRESSIONACTIVE'
        | 'USEATTR'
        | 'HASCHILDREN'
        | 'UNKNOWN-CTE';
    }
  | { code: 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'HIGHESTMODSEQ'; value: number | bigint }
  | { code: 'PERMANENTFLAGS'; flags: Flag[] }
  | { code: 'BADCHARSET'; charsets?: string[] }
  | { code: 'CAPABILITY'; capabilities: string[] }
  /** UIDs may be a list (compressed by the writer) or an already formatted set. */
  | { code: 'APPENDUID'; uidValidity: number; uids: number[] | string }
  | { code: 'COPYUID'; uidValidity: number; sourceUids: number[] | string; destinationUids: number[] | string }
  | { code: 'MODIFIED'; set: number[] | string }
  | { code: 'MAILBOXID'; id: string }
  | { code: 'BADURL'; url: string }
  | { code: 'BADEVENT'; events: string[] }
  /** RFC 5464 §4.2.1, §4.3: LONGENTRIES n, MAXSIZE n, TOOMANY, NOPRIVATE. */
  | { code: 'METADATA'; problem: 'LONGENTRIES' | 'MAXSIZE' | 'TOOMANY' | 'NOPRIVATE'; value?: number };

export type ResponseStatus = 'OK' | 'NO' | 'BAD';

export interface NamespaceDescriptor {
  prefix: string;
  delimiter: string | null;
}

/**
 * Items of `* n FETCH (...)`, each already rendered (see writer fetch helpers). Short
 * values (numbers, flag lists) stay strings, written as UTF-8 into the line: a FETCH of 500
 * messages then makes no small buffer per item.
 */
export interface FetchResponseItem {
  name: string;
  value: Buffer | string | FetchLiteral;
}

/**
 * A literal item value: `{n}` (`~{n}` for `binary`), CRLF and the bytes. A large one is sent
 * as its own buffer beside the line (a 16 KiB body is neither concatenated nor copied).
 */
export interface FetchLiteral {
  literal: Buffer;
  binary?: boolean;
}

export type ImapResponse =
  | { type: 'tagged'; tag: string; status: ResponseStatus; code?: ResponseCode; text: string }
  | { type: 'untagged'; status: ResponseStatus | 'PREAUTH' | 'BYE'; code?: ResponseCode; text: string }
  | { type: 'continuation'; text?: string }
  | { type: 'capability'; capabilities: string[] }
  | { type: 'exists'; count: number }
  | { type: 'recent'; count: number }
  | { type: 'expunge'; seq: number }
  | { type: 'flags'; flags: Flag[] }
  | {
      type: 'list' | 'lsub';
      attributes: string[];
      delimiter: string | null;
      mailbox: string;
      /** LIST-EXTENDED CHILDINFO (e.g. ['SUBSCRIBED']). */
      childInfo?: string[];
      /** LIST-EXTENDED OLDNAME after a RENAME. */
      oldName?: string;
    }
  /** A string value is an object id, written in parentheses: `MAILBOXID (F1-9)`. */
  | { type: 'status'; mailbox: string; items: Array<[StatusItem, number | bigint | string]> }
  | { type: 'search'; ids: number[]; modSeq?: number | bigint }
  | { type: 'sort'; ids: number[]; modSeq?: number | bigint }
  | { type: 'metadata'; mailbox: string; entries: Array<[string, Buffer | null]> }
  | { type: 'thread'; threads: ThreadNode[] }
  | {
      type: 'esearch';
      tag?: string;
      uid: boolean;
      min?: number;
      max?: number;
      all?: number[];
      count?: number;
      modSeq?: number | bigint;
      /** PARTIAL (low:high set) — `ids` null: no message in that range. */
      partial?: { low: number; high: number; ids: number[] | null };
      /** CONTEXT=SEARCH updates: where in the result list, and which messages. */
      addTo?: { position: number; ids: number[] };
      removeFrom?: { position: number; ids: number[] };
    }
  | { type: 'vanished'; earlier: boolean; uids: number[] | string }
  | {
      type: 'namespace';
      personal: NamespaceDescriptor[] | null;
      otherUsers: NamespaceDescriptor[] | null;
      shared: NamespaceDescriptor[] | null;
    }
  | { type: 'id'; parameters: Array<[string, string | null]> | null }
  | { type: 'enabled'; capabilities: string[] }
  | { type: 'quota'; root: string; resources: Array<{ name: string; usage: number; limit: number }> }
  | { type: 'quotaroot'; mailbox: string; roots: string[] }
  /** RFC 4314 §3.6-3.8: `* ACL`, `* LISTRIGHTS`, `* MYRIGHTS`. */
  | { type: 'acl'; mailbox: string; entries: Array<[string, string]> }
  | { type: 'listrights'; mailbox: string; identifier: string; required: string; optional: string[] }
  | { type: 'myrights'; mailbox: string; rights: string }
  | { type: 'fetch'; seq: number; items: FetchResponseItem[] }
  /** Several `* n FETCH (...)` lines sent as one buffer: the answers of a FETCH of many messages. */
  | { type: 'fetches'; answers: FetchAnswer[] }
  /** `* n FETCH (...)` lines already written, CRLF after each (planned-fetch.ts). */
  | { type: 'fetch-lines'; bytes: Buffer };

/** One message's `* n FETCH (...)` line: its sequence number and its rendered items. */
export interface FetchAnswer {
  seq: number;
  items: FetchResponseItem[];
}
